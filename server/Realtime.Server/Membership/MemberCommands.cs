using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>
/// Members of a group (SPEC §2–§4): listing, kicking, quitting, and one member's role, mute,
/// nameCard, custom and msgRecvOption. Hub and REST call these same methods; the app admin
/// (Actor.AppAdmin) passes every role check but not a type's "not supported".
/// </summary>
public sealed class MemberCommands(CommandRunner runner, ReadRouter reads, MembershipChanges membership, TimeProvider clock)
{
    public const int ReasonMax = Validate.PendingMessageMax;
    public const int MembersPageMax = 500;
    public const int MembersPageDefault = 100;

    public async Task RemoveAsync(Actor actor, RemoveMembersRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        await runner.RunAsync(actor, "RemoveMembers", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, "remove members");
            var users = Validate.UserIds(r.UserIds, "userIds");
            var reason = r.Reason is null ? null : Validate.MaxLength(r.Reason, ReasonMax, "reason");
            var targets = await MemberRepository.AmongAsync(s, g.Gid, users);
            foreach (var t in targets.Values)
                if (!MemberRules.MayManage(me?.Role, t.Role, actor.IsAppAdmin))
                    throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not remove {t.UserId} ({t.Role})");
            if (users.FirstOrDefault(u => !targets.ContainsKey(u)) is { } stranger)
                throw new RealtimeException(ErrorCode.NotMember, $"{stranger} is not a member of group {groupId}");

            await membership.LeaveAsync(s, g, targets.Values.ToList(), Departure.Kicked, reason);
            return true;
        }, ct);
    }

    public async Task QuitAsync(Actor actor, string? groupId, CancellationToken ct = default)
    {
        Validate.GroupId(groupId);
        await runner.RunAsync(actor, "QuitGroup", requestId: null, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId!);
            if (me!.Role == MemberRole.Owner)
                throw new RealtimeException(ErrorCode.OwnerCannotQuit, "the owner cannot quit: transfer ownership or dissolve the group first");

            await membership.LeaveAsync(s, g, [me], Departure.Quit);
            return true;
        }, ct);
    }

    /// <param name="maxLimit">The page size limit of the caller's API: the hub's (500) unless REST asks for its own (1000).</param>
    public async Task<MembersResult> GetMembersAsync(Actor actor, GetMembersRequest r, CancellationToken ct = default, int maxLimit = MembersPageMax)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        var (offset, limit) = Validate.Page(r.Offset, r.Limit, MembersPageDefault, maxLimit);
        return await reads.ReadAsync(async (c, ct) =>
        {
            var (g, _) = await Access.ReadAsync(c, actor, groupId, ct);
            return await MemberRepository.PageAsync(c, g.Gid, r.Role, offset, limit, actor.UserId, actor.IsAppAdmin, clock.GetUtcNow().UtcDateTime, ct);
        }, ct);
    }

    /// <summary>
    /// Role (set/unset admin), mute (0 unmutes), nameCard, custom and msgRecvOption of one member,
    /// each under its own rule (MemberUpdateRules). REST's set/unset admin and mute/unmute call
    /// this with one field set.
    /// </summary>
    public async Task<MemberInfo> UpdateMemberAsync(Actor actor, UpdateMemberRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var targetId = Validate.UserId(r.UserId, "userId");
        var requestId = Validate.RequestId(r.RequestId);
        return await runner.RunAsync(actor, "UpdateMember", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            if (r.Role is not null && !g.Rules.SupportsAdmins)
                throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"a {g.Type} group has no admins");
            var isSelf = targetId == actor.UserId;
            var editsProfile = r.NameCard is not null || r.Custom is not null;

            if (r.Role is not null) Access.RequireAllowed(Allowed.Owner, me, actor, "set or unset admins");
            if (r.MsgRecvOption is not null) MemberUpdateRules.MsgRecvOptionIsTheMembersOwn(isSelf, actor.IsAppAdmin);
            if (r.MuteSeconds is not null) MemberUpdateRules.OnlyStaffMute(me?.Role, actor.IsAppAdmin);
            if (editsProfile) MemberUpdateRules.OnlyStaffEditOthers(me?.Role, isSelf, actor.IsAppAdmin);

            var target = await MemberRepository.FindAsync(s, g.Gid, targetId)
                ?? throw new RealtimeException(ErrorCode.NotMember, $"{targetId} is not a member of group {groupId}");
            if (r.MuteSeconds is not null) MemberUpdateRules.MuteOnlyThoseYouManage(me?.Role, target, actor.IsAppAdmin);
            if (editsProfile) MemberUpdateRules.EditOnlyThoseYouManage(me?.Role, target, isSelf, actor.IsAppAdmin);

            MemberUpdateRules.OwnerChangesOnlyByTransfer(r.Role, target.Role);
            MemberUpdateRules.MuteWithinLimit(r.MuteSeconds);
            var nameCard = r.NameCard is null ? null : Validate.MaxLength(r.NameCard, Validate.NameCardMax, "nameCard");
            var custom = r.Custom is null ? null : Validate.MaxLength(r.Custom, Validate.MemberCustomMax, "custom");

            var changes = new Dictionary<string, object?>();
            if (r.Role is { } role && role != target.Role)
            {
                if (role == MemberRole.Admin) MemberUpdateRules.AdminsWithinLimit(g);
                g.AdminCount += role == MemberRole.Admin ? 1 : -1;
                target.Role = role;
                changes["role"] = role;
            }
            if (r.MuteSeconds is { } seconds)
            {
                DateTime? until = seconds == 0 ? null : s.Now.AddSeconds(seconds);
                var wasMuted = target.MutedUntil > s.Now;
                if (until is not null || wasMuted) changes["mutedUntil"] = until;
                target.MutedUntil = until;
            }
            if (nameCard is not null && nameCard != target.NameCard) changes["nameCard"] = target.NameCard = nameCard;
            if (custom is not null && custom != target.Custom) changes["custom"] = target.Custom = custom;
            var privateChange = r.MsgRecvOption is { } option && option != target.MsgRecvOption;
            if (privateChange) target.MsgRecvOption = r.MsgRecvOption!.Value;

            if (changes.Count > 0 || privateChange) await MemberRepository.SaveAsync(s, g.Gid, target);
            if (changes.ContainsKey("role")) await GroupRepository.SaveAsync(s, g);
            if (changes.Count > 0) s.AppendGroupEvent(g, "MemberChanged", new { userId = targetId, changes });
            if (changes.ContainsKey("role")) s.SystemMessage(targetId, "RoleChanged", g.GroupId, new { role = target.Role });
            if (changes.ContainsKey("mutedUntil"))
                s.SystemMessage(targetId, "Muted", g.GroupId, new { mutedUntil = target.MutedUntil, muteSeconds = r.MuteSeconds!.Value });
            return target.ToInfo(isSelf || actor.IsAppAdmin, s.Now);
        }, ct);
    }
}
