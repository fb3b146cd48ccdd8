using Microsoft.Extensions.Options;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Commands;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>Why members leave a group: decides its event, their system message and the callback.</summary>
public enum Departure { Kicked, Quit, Dissolved }

/// <summary>
/// Every way into and out of a group (SPEC §4 "who gets what"): the joined-group limit, member
/// rows and Sync windows, live attach/detach before commit, the group event, each user's system
/// message and the after-callback. Create, invite, apply, approval, REST add, kick, quit,
/// blocklist and dissolve all come through here, so their steps cannot drift apart. Callers
/// hold the group row's lock.
/// </summary>
public sealed class MembershipChanges(IOptions<RealtimeOptions> options)
{
    private int JoinedGroupLimit => options.Value.JoinedGroupLimit;

    /// <summary>The owner and first members of a group just inserted (its row already counts them).</summary>
    public async Task FoundAsync(CommandScope s, GroupRow g, string ownerId, IReadOnlyList<string> members)
    {
        var everyone = members.Prepend(ownerId).ToList();
        await RefuseOverLimitAsync(s, g, everyone, strict: true);
        await MemberRepository.FoundAsync(s, g, members.Select(m => (m, MemberRole.Member)).Prepend((ownerId, MemberRole.Owner)).ToList());
        s.Attach(ownerId, g);
        s.SystemMessage(ownerId, "GroupCreated", g.GroupId, new { type = g.Type, name = g.Name, joinSeq = g.LastSeq, epoch = g.Epoch });
        if (members.Count > 0) AnnounceJoin(s, g, members, inviter: ownerId, push: true, joinSeq: g.LastSeq);
    }

    /// <summary>
    /// Adds users who are neither members nor blocklisted. Capacity and the joined-group limit are
    /// checked here, so racing joins never exceed them. Answers the users refused for
    /// JoinedGroupLimit (<paramref name="strict"/>: the call fails instead); GroupFull fails the whole call.
    /// </summary>
    /// <param name="silent">REST `silent`: the MembersJoined event is logged but not pushed; system messages still go.</param>
    public async Task<HashSet<string>> JoinAsync(CommandScope s, GroupRow g, IReadOnlyList<string> users, string? inviter, bool strict, bool silent = false)
    {
        if (users.Count == 0) return [];
        var refused = await RefuseOverLimitAsync(s, g, users, strict);
        var admitted = users.Where(u => !refused.Contains(u)).ToList();
        if (g.MaxMembers is { } max && g.MemberCount + admitted.Count > max)
            throw new RealtimeException(ErrorCode.GroupFull, $"group {g.GroupId} has room for {Math.Max(0, max - g.MemberCount)} more members");
        if (admitted.Count == 0) return refused;

        var joinSeq = s.JoinSeq(g, inviter, push: !silent);
        g.MemberCount += admitted.Count;
        MemberRepository.Join(s, g, admitted, joinSeq);
        AnnounceJoin(s, g, admitted, inviter, push: !silent, joinSeq);
        s.AfterCallback(CallbackCommand.AfterNewMemberJoin, new()
        {
            ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["JoinType"] = inviter is null && !s.Actor.IsAppAdmin ? "Apply" : "Invited",
            ["Operator_Account"] = s.Actor.IdempotencyOwner, ["NewMemberList"] = CallbackCommand.MemberList(admitted),
        });
        return refused;
    }

    /// <summary>
    /// Members leave: counts, detach before commit (nothing after the removal reaches them live),
    /// the group event, their windows closed at it, each one's system message, the callback.
    /// A dissolve closes the group instead of detaching: its live channel (named by its internal
    /// id) carries nothing after the final event, and idle attachments go when terminals
    /// disconnect or reconciliation drops them.
    /// </summary>
    public async Task LeaveAsync(CommandScope s, GroupRow g, IReadOnlyList<MemberRow> leaving, Departure why, string? reason = null)
    {
        var ids = leaving.Select(m => m.UserId).Order(StringComparer.Ordinal).ToList();
        if (g.Rules.CountsTowardJoinedLimit) await MemberRepository.LockUsersAsync(s, ids);
        await CountJoinedAsync(s, g, ids, -1);
        if (why != Departure.Dissolved)
        {
            g.MemberCount -= leaving.Count;
            g.AdminCount -= leaving.Count(m => m.Role == MemberRole.Admin);
            await GroupRepository.SaveAsync(s, g);
            foreach (var u in ids) s.Detach(u, g);
        }

        var evt = why switch
        {
            Departure.Kicked => s.AppendGroupEvent(g, "MembersKicked", new { userIds = ids, reason }),
            Departure.Quit => s.AppendGroupEvent(g, "MemberQuit", new { userId = ids.Single() }),
            _ => s.AppendGroupEvent(g, "GroupDissolved", new { }),
        };
        await MemberRepository.RemoveAsync(s, g, ids, evt.Seq);
        if (why == Departure.Dissolved) await GroupRepository.MarkDissolvedAsync(s, g);

        foreach (var u in ids)
        {
            if (why == Departure.Kicked) s.SystemMessage(u, "Kicked", g.GroupId, new { reason });
            else s.SystemMessage(u, why == Departure.Quit ? "QuitGroup" : "GroupDissolved", g.GroupId, new { });
        }
        s.AfterCallback(why == Departure.Dissolved ? CallbackCommand.AfterGroupDestroyed : CallbackCommand.AfterMemberExit, why switch
        {
            Departure.Dissolved => new()
            {
                ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["Owner_Account"] = g.OwnerId,
                ["Operator_Account"] = s.Actor.IdempotencyOwner, ["MemberList"] = CallbackCommand.MemberList(ids),
            },
            _ => new()
            {
                ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["ExitType"] = why == Departure.Kicked ? "Kicked" : "Quit",
                ["Operator_Account"] = s.Actor.IdempotencyOwner, ["ExitMemberList"] = CallbackCommand.MemberList(ids),
            },
        });
    }

    /// <summary>New members are attached, announced to the group, and each told where their cursor starts.</summary>
    private static void AnnounceJoin(CommandScope s, GroupRow g, IReadOnlyList<string> joined, string? inviter, bool push, long joinSeq)
    {
        foreach (var u in joined) s.Attach(u, g);
        s.AnnounceJoined(g, joined, inviter, push, joinSeq);
        foreach (var u in joined) s.SystemMessage(u, "JoinedGroup", g.GroupId, new { joinSeq, inviter, epoch = g.Epoch });
    }

    /// <summary>
    /// Locks the users' rows in id order and, where the type counts toward JoinedGroupLimit,
    /// answers those already at it (<paramref name="strict"/>: fails instead). Taken before a
    /// command adds memberships, so the limit holds under races.
    /// </summary>
    private async Task<HashSet<string>> RefuseOverLimitAsync(CommandScope s, GroupRow g, IReadOnlyList<string> users, bool strict)
    {
        if (!g.Rules.CountsTowardJoinedLimit) return [];
        var joined = await MemberRepository.LockUsersAsync(s, users);
        var full = users.Where(u => joined[u] >= JoinedGroupLimit).ToHashSet(StringComparer.Ordinal);
        if (strict && full.Count > 0)
            throw new RealtimeException(ErrorCode.JoinedGroupLimit, $"user {users.First(full.Contains)} is already in {JoinedGroupLimit} groups");
        return full;
    }

    /// <summary>Each user's count of groups toward JoinedGroupLimit (AV/BChatRoom do not count); rows locked before.</summary>
    private static Task CountJoinedAsync(CommandScope s, GroupRow g, IReadOnlyList<string> users, int delta) =>
        g.Rules.CountsTowardJoinedLimit ? MemberRepository.AdjustJoinedCountAsync(s, users, delta) : Task.CompletedTask;
}
