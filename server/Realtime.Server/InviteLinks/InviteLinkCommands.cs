using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.InviteLinks;

/// <summary>
/// Invite links (SPEC §9): create, list, revoke, and join by one. A join goes through
/// MembershipChanges.JoinAsync like every other join, under the group's row lock, which is also
/// where the link's uses are checked and counted: racing joins on a 10-use link admit exactly 10.
/// </summary>
public sealed class InviteLinkCommands(
    CommandRunner runner, GroupCommit commit, Db db, ReadRouter reads, MembershipChanges membership, InviteLinkProbeLimiter probes)
{
    public async Task<InviteLink> CreateAsync(Actor actor, CreateInviteLinkRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        return await runner.RunAsync(actor, "CreateInviteLink", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            if (g.Rules.InviteOptionFixed)
                throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"a {g.Type} group is joined by applying, not by invitation");
            if (!InviteLinkRules.MayCreate(g.InviteOption, me?.Role, actor.IsAppAdmin))
                throw new RealtimeException(ErrorCode.InviteNotAllowed, g.InviteOption == InviteOption.Disabled
                    ? $"group {groupId} accepts no invitations"
                    : $"only the owner and admins may invite to group {groupId}");
            var (maxUses, lifetime) = InviteLinkRules.Settings(r.MaxUses, r.ExpiresInSeconds);
            var link = new InviteLinkRow
            {
                Code = InviteLinkRules.NewCode(),
                Gid = g.Gid,
                GroupId = g.GroupId,
                CreatedBy = actor.IdempotencyOwner,
                CreatedAt = s.Now,
                ExpiresAt = s.Now + lifetime,
                MaxUses = maxUses,
                NeedsApproval = r.NeedsApproval ?? false,
            };
            await InviteLinkRepository.InsertAsync(s, link);
            return link.ToLink();
        }, ct);
    }

    public async Task<IReadOnlyList<InviteLink>> GetAsync(Actor actor, GetInviteLinksRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return await reads.ReadAsync(async (c, ct) =>
        {
            var (g, me) = await Access.ReadAsync(c, actor, groupId, ct);
            var mine = InviteLinkRules.SeesAllLinks(me?.Role, actor.IsAppAdmin) ? null : actor.UserId;
            return (IReadOnlyList<InviteLink>)(await InviteLinkRepository.OfGroupAsync(c, g.Gid, mine, ct)).Select(l => l.ToLink()).ToList();
        }, ct);
    }

    public async Task<InviteLink> RevokeAsync(Actor actor, RevokeInviteLinkRequest r, CancellationToken ct = default)
    {
        var code = InviteLinkRules.Code(r.Code);
        var requestId = Validate.RequestId(r.RequestId);
        var found = await LookupAsync(actor, code, ct);
        return await runner.RunAsync(actor, "RevokeInviteLink", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, found.GroupId);
            var link = g.Gid == found.Gid ? await InviteLinkRepository.FindAsync(s, code) : null;
            if (link is null) throw InviteLinkRules.Invalid(); // its group was dissolved meanwhile
            if (!InviteLinkRules.MayRevoke(link, actor.UserId, me?.Role, actor.IsAppAdmin))
                throw new RealtimeException(ErrorCode.PermissionDenied, "only the link's creator, the owner and admins revoke it");
            if (link.RevokedAt is null)
            {
                await InviteLinkRepository.RevokeAsync(s, code);
                link.RevokedAt = s.Now;
            }
            return link.ToLink();
        }, ct);
    }

    /// <param name="lane">The joining terminal (connection id): its commands to the group keep their order (GroupCommit).</param>
    public async Task<JoinByInviteLinkResult> JoinAsync(Actor actor, JoinByInviteLinkRequest r, CancellationToken ct = default, string? lane = null)
    {
        var code = InviteLinkRules.Code(r.Code);
        var requestId = Validate.RequestId(r.RequestId);
        var user = actor.RequireUser();
        var message = Validate.MaxLength(r.Message, Validate.PendingMessageMax, "message");
        var found = await LookupAsync(actor, code, ct);
        try
        {
            // With the group's other joins and messages: a burst of joins by link is one transaction.
            return await commit.RunAsync(actor, found.GroupId, "JoinByInviteLink", requestId, async s =>
            {
                var g = await GroupRepository.LockAsync(s, found.GroupId);
                var link = g is not null && g.Gid == found.Gid ? await InviteLinkRepository.FindAsync(s, code) : null;
                if (g is null || link is null) throw InviteLinkRules.Invalid();
                var creator = await MemberRepository.FindAsync(s, g.Gid, link.CreatedBy);
                if (!InviteLinkRules.Admits(link, s.Now, g.InviteOption, creator?.Role)) throw InviteLinkRules.Invalid();
                Access.RequireEnabled(g, actor);
                if (await MemberRepository.FindAsync(s, g.Gid, user) is not null)
                    throw new RealtimeException(ErrorCode.AlreadyMember, $"you are already a member of group {g.GroupId}");
                if (await UserListRepository.ContainsAsync(s, UserList.Blocklist, g.Gid, user))
                    throw new RealtimeException(ErrorCode.Blocked, $"you are on the blocklist of group {g.GroupId}");

                if (link.NeedsApproval)
                {
                    // Asking again answers the open request, and does not use the link again.
                    if (await PendingRepository.OpenJoinRequestAsync(s, g.Gid, user) is { } open)
                        return new JoinByInviteLinkResult(ApplyOutcome.Pending, g.GroupId, open);
                    var pendingId = Guid.CreateVersion7();
                    await InviteLinkRepository.InsertJoinRequestAsync(s, g.Gid, pendingId, user, message, link.CreatedBy);
                    foreach (var staff in await MemberRepository.StaffAsync(s, g.Gid))
                        s.SystemMessage(staff, "JoinRequestReceived", g.GroupId, new { pendingId, applicant = user, message, inviter = link.CreatedBy });
                    await InviteLinkRepository.CountUseAsync(s, code);
                    return new JoinByInviteLinkResult(ApplyOutcome.Pending, g.GroupId, pendingId);
                }

                // Capacity (GroupFull) and the joined-group limit are checked in there, before anything is written.
                await membership.JoinAsync(s, g, [user], inviter: link.CreatedBy, strict: true);
                await InviteLinkRepository.CountUseAsync(s, code);
                return new JoinByInviteLinkResult(ApplyOutcome.Joined, g.GroupId);
            }, ct, lane: lane, checksBeforeWrites: true);
        }
        catch (RealtimeException e) when (e.Code == ErrorCode.InviteLinkInvalid)
        {
            probes.Failed(actor.AppId, user);
            throw;
        }
    }

    /// <summary>
    /// The live link of a code, on the primary (the command that follows decides on it under the
    /// group's lock). Unknown codes spend from the caller's failure budget; an exhausted budget
    /// answers RateLimited before the code is looked at.
    /// </summary>
    private async Task<InviteLinkRow> LookupAsync(Actor actor, string code, CancellationToken ct)
    {
        var user = actor.UserId;
        if (user is not null) probes.ThrowIfExhausted(actor.AppId, user);
        await using var c = await db.OpenAsync(ct);
        if (await InviteLinkRepository.LookupAsync(c, actor.AppId, code, ct) is { } found) return found;
        if (user is not null) probes.Failed(actor.AppId, user);
        throw InviteLinkRules.Invalid();
    }
}
