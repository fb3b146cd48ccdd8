using Realtime.Server.Callbacks;
using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>
/// The ways into a group (SPEC §4): invite (or the app admin's direct add), apply, and the
/// pending items these leave — join requests and invitations — read and handled by their parties.
/// </summary>
public sealed class JoinCommands(CommandRunner runner, GroupCommit commit, Db db, BeforeCallbacks callbacks, MembershipChanges membership, TimeProvider clock)
{
    public const int PendingPageMax = 100;
    public const int PendingPageDefault = 50;

    /// <summary>
    /// Invites users (SPEC §4 InviteMembers). For the app admin this is the direct add of REST:
    /// inviteOption and inviteNeedsConfirm do not apply, and <paramref name="silent"/> keeps the
    /// MembersJoined event out of live pushes (it is still logged; system messages still go).
    /// </summary>
    public async Task<IReadOnlyList<InviteResult>> InviteAsync(Actor actor, InviteMembersRequest r, bool silent = false, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        Task Before(CancellationToken token) => actor.IsAppAdmin
            ? Task.CompletedTask
            : callbacks.CheckAsync(actor.AppId, CallbackCommand.BeforeInviteJoinGroup, new()
            {
                ["GroupId"] = groupId, ["Operator_Account"] = actor.UserId, ["DestinationMembers"] = CallbackCommand.MemberList(r.UserIds ?? []),
            }, token);
        return await runner.RunAsync(actor, "InviteMembers", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            if (g.Rules.InviteOptionFixed)
                throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"a {g.Type} group is joined by applying, not by invitation");
            if (!actor.IsAppAdmin && (g.InviteOption == InviteOption.Disabled || (g.InviteOption == InviteOption.AdminsOnly && me!.Role == MemberRole.Member)))
                throw new RealtimeException(ErrorCode.InviteNotAllowed, g.InviteOption == InviteOption.Disabled
                    ? $"group {groupId} accepts no invitations"
                    : $"only the owner and admins may invite to group {groupId}");
            var users = Validate.UserIds(r.UserIds, "userIds");
            var message = Validate.MaxLength(r.Message, Validate.PendingMessageMax, "message");

            var members = await MemberRepository.AmongAsync(s, g.Gid, users);
            var blocked = await UserListRepository.AmongAsync(s, UserList.Blocklist, g.Gid, users);
            var results = new Dictionary<string, InviteResult>(StringComparer.Ordinal);
            var candidates = new List<string>();
            foreach (var u in users)
            {
                if (members.ContainsKey(u)) results[u] = new InviteResult(u, InviteOutcome.AlreadyMember);
                else if (blocked.Contains(u)) results[u] = new InviteResult(u, InviteOutcome.Failed, nameof(ErrorCode.Blocked));
                else candidates.Add(u);
            }

            var inviter = actor.UserId;
            if (g.InviteNeedsConfirm && !actor.IsAppAdmin)
            {
                // Inviting again answers the open invitation rather than pestering the invitee again.
                var open = await PendingRepository.OpenInvitationsAmongAsync(s, g.Gid, candidates);
                foreach (var u in candidates)
                {
                    results[u] = new InviteResult(u, InviteOutcome.Invited);
                    if (open.Contains(u)) continue;
                    var pendingId = Guid.CreateVersion7();
                    await PendingRepository.InsertAsync(s, g.Gid, PendingType.Invitation, pendingId, inviter!, u, message);
                    s.SystemMessage(u, "InvitationReceived", g.GroupId, new { pendingId, inviter, message });
                }
            }
            else
            {
                var refused = await membership.JoinAsync(s, g, candidates, inviter, strict: false, silent);
                foreach (var u in candidates)
                    results[u] = refused.Contains(u)
                        ? new InviteResult(u, InviteOutcome.Failed, nameof(ErrorCode.JoinedGroupLimit))
                        : new InviteResult(u, InviteOutcome.Joined);
            }
            return (IReadOnlyList<InviteResult>)users.Select(u => results[u]).ToList();
        }, ct, Before);
    }

    /// <param name="lane">The applying terminal (connection id): its commands to the group keep their order (GroupCommit).</param>
    public async Task<ApplyResult> ApplyAsync(Actor actor, ApplyToJoinRequest r, CancellationToken ct = default, string? lane = null)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        var user = actor.RequireUser();
        Task Before(CancellationToken token) => callbacks.CheckAsync(actor.AppId, CallbackCommand.BeforeApplyJoinGroup, new()
        {
            ["GroupId"] = groupId, ["Requestor_Account"] = user, ["ApplyMsg"] = r.Message ?? "",
        }, token);
        // Applications batch with the group's other commands: a burst of joins is one transaction.
        return await commit.RunAsync(actor, groupId, "ApplyToJoin", requestId, async s =>
        {
            var g = Access.RequireGroup(await GroupRepository.LockAsync(s, groupId), groupId);
            Access.RequireEnabled(g, actor);
            if (g.Type == GroupType.Private)
                throw new RealtimeException(ErrorCode.ApplyNotAllowed, "a Private group is joined by invitation only");
            if (await MemberRepository.FindAsync(s, g.Gid, user) is not null)
                throw new RealtimeException(ErrorCode.AlreadyMember, $"you are already a member of group {groupId}");
            if (await UserListRepository.ContainsAsync(s, UserList.Blocklist, g.Gid, user))
                throw new RealtimeException(ErrorCode.Blocked, $"you are on the blocklist of group {groupId}");
            if (g.ApplyJoinOption == ApplyJoinOption.DisableApply)
                throw new RealtimeException(ErrorCode.ApplyNotAllowed, $"group {groupId} accepts no applications");
            var message = Validate.MaxLength(r.Message, Validate.PendingMessageMax, "message");

            if (g.ApplyJoinOption == ApplyJoinOption.FreeAccess)
            {
                await membership.JoinAsync(s, g, [user], inviter: null, strict: true);
                return new ApplyResult(ApplyOutcome.Joined);
            }

            // Applying twice answers the open request rather than pestering the admins again.
            if (await PendingRepository.OpenJoinRequestAsync(s, g.Gid, user) is { } open)
                return new ApplyResult(ApplyOutcome.Pending, open);
            var pendingId = Guid.CreateVersion7();
            await PendingRepository.InsertAsync(s, g.Gid, PendingType.JoinRequest, pendingId, user, null, message);
            foreach (var staff in await MemberRepository.StaffAsync(s, g.Gid))
                s.SystemMessage(staff, "JoinRequestReceived", g.GroupId, new { pendingId, applicant = user, message });
            return new ApplyResult(ApplyOutcome.Pending, pendingId);
        }, ct, Before, lane, checksBeforeWrites: true);
    }

    public async Task<IReadOnlyList<PendingItem>> GetPendingAsync(Actor actor, GetPendingItemsRequest r, CancellationToken ct = default)
    {
        var user = actor.RequireUser();
        var limit = r.Limit ?? PendingPageDefault;
        if (limit is < 1 or > PendingPageMax) throw RealtimeException.Invalid("limit", $"must be 1-{PendingPageMax}");
        Validate.RequestId(r.RequestId);
        await using var c = await db.OpenAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        return (await PendingRepository.OfUserAsync(c, actor.AppId, user, r.Before, limit, ct)).Select(p => p.ToItem(now)).ToList();
    }

    /// <summary>
    /// Approves or rejects a join request (owner, admins) or an invitation (the invitee). Two
    /// handlers racing: the group row's lock orders them and the second finds the item handled.
    /// </summary>
    public async Task<PendingItem> HandlePendingAsync(Actor actor, HandlePendingItemRequest r, CancellationToken ct = default)
    {
        var pendingId = r.PendingId ?? throw RealtimeException.Invalid("pendingId", "is required");
        var approve = r.Approve ?? throw RealtimeException.Invalid("approve", "is required");
        var requestId = Validate.RequestId(r.RequestId);
        return await runner.RunAsync(actor, "HandlePendingItem", requestId, async s =>
        {
            var found = await PendingRepository.FindAsync(s, pendingId) ?? throw PendingNotFound(pendingId);
            var g = await GroupRepository.LockByGidAsync(s, found.Gid);
            // Read again under the group's lock: a racing handler has committed by now.
            var item = await PendingRepository.FindAsync(s, pendingId) ?? throw PendingNotFound(pendingId);
            var me = g is null ? null : await MemberRepository.FindAsync(s, g.Gid, actor.UserId);

            var party = PendingRules.PartyOf(item, me?.Role, actor);
            if (party == PendingParty.None) throw PendingNotFound(pendingId);
            if (g is not null) Access.RequireEnabled(g, actor);
            if (party == PendingParty.Reader)
                throw new RealtimeException(ErrorCode.PermissionDenied, item.Type == PendingType.JoinRequest
                    ? "only the group's owner and admins handle a join request"
                    : "only the invitee handles an invitation");
            if (g is null || item.StatusAt(s.Now) != PendingStatus.Pending)
                throw new RealtimeException(ErrorCode.PendingAlreadyHandled, $"pending item {pendingId} is {item.StatusAt(s.Now)}");
            var reason = r.Reason is null ? null : Validate.MaxLength(r.Reason, MemberCommands.ReasonMax, "reason");

            var subject = item.Type == PendingType.JoinRequest ? item.FromUser : item.ToUser!;
            if (approve && await UserListRepository.ContainsAsync(s, UserList.Blocklist, g.Gid, subject))
                throw new RealtimeException(ErrorCode.Blocked, $"{subject} is on the blocklist of group {g.GroupId}");
            var status = approve ? PendingStatus.Approved : PendingStatus.Rejected;
            if (!await PendingRepository.ResolveAsync(s, pendingId, status, reason))
                throw new RealtimeException(ErrorCode.PendingAlreadyHandled, $"pending item {pendingId} was already handled");

            if (item.Type == PendingType.JoinRequest)
                s.SystemMessage(item.FromUser, "JoinRequestHandled", g.GroupId, new { pendingId, approved = approve, reason });
            else
                s.SystemMessage(item.FromUser, "InvitationHandled", g.GroupId, new { pendingId, invitee = item.ToUser, approved = approve, reason });
            if (approve)
                await membership.JoinAsync(s, g, [subject], inviter: item.Type == PendingType.Invitation ? item.FromUser : item.Inviter, strict: true);

            item.Status = status;
            item.HandledBy = actor.UserId;
            item.HandledAt = s.Now;
            item.Reason = reason;
            return item.ToItem(s.Now);
        }, ct);
    }

    private static RealtimeException PendingNotFound(Guid id) => new(ErrorCode.PendingNotFound, $"pending item {id} does not exist");
}
