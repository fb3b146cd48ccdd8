using Microsoft.Extensions.Options;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Data;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>
/// Who is in a group and in what role (SPEC §2–§4): invite, apply, pending items, remove, quit,
/// member updates, block- and allowlists. Hub and REST call these same methods; the app admin
/// (Actor.AppAdmin) passes every role check but not a type's "not supported".
/// </summary>
public sealed class MembershipCommands(
    CommandRunner runner, Db db, BeforeCallbacks callbacks, TimeProvider clock, IOptions<RealtimeOptions> options)
{
    public const int ReasonMax = Validate.PendingMessageMax;
    public const int PendingPageMax = 100;
    public const int PendingPageDefault = 50;
    public const int MembersPageMax = 500;
    public const int MembersPageDefault = 100;

    private int JoinedGroupLimit => options.Value.JoinedGroupLimit;

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
                ["GroupId"] = groupId, ["Operator_Account"] = actor.UserId, ["DestinationMembers"] = GroupCommands.MemberList(r.UserIds ?? []),
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

            var members = await MembershipRepository.MembersAmongAsync(s, g.Gid, users);
            var blocked = await MembershipRepository.ListedAmongAsync(s, Lists.Block, g.Gid, users);
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
                var open = await MembershipRepository.OpenInvitationsAmongAsync(s, g.Gid, candidates);
                foreach (var u in candidates)
                {
                    results[u] = new InviteResult(u, InviteOutcome.Invited);
                    if (open.Contains(u)) continue;
                    var pendingId = Guid.CreateVersion7();
                    await MembershipRepository.InsertPendingAsync(s, g.Gid, PendingType.Invitation, pendingId, inviter!, u, message);
                    s.SystemMessage(u, "InvitationReceived", g.GroupId, new { pendingId, inviter, message });
                }
            }
            else
            {
                var refused = await AdmitAsync(s, g, candidates, inviter, silent, strict: false);
                foreach (var u in candidates)
                    results[u] = refused.Contains(u)
                        ? new InviteResult(u, InviteOutcome.Failed, nameof(ErrorCode.JoinedGroupLimit))
                        : new InviteResult(u, InviteOutcome.Joined);
            }
            return (IReadOnlyList<InviteResult>)users.Select(u => results[u]).ToList();
        }, ct, Before);
    }

    public async Task<ApplyResult> ApplyAsync(Actor actor, ApplyToJoinRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        var user = actor.RequireUser();
        Task Before(CancellationToken token) => callbacks.CheckAsync(actor.AppId, CallbackCommand.BeforeApplyJoinGroup, new()
        {
            ["GroupId"] = groupId, ["Requestor_Account"] = user, ["ApplyMsg"] = r.Message ?? "",
        }, token);
        return await runner.RunAsync(actor, "ApplyToJoin", requestId, async s =>
        {
            var g = Access.RequireGroup(await GroupRepository.LockAsync(s, groupId), groupId);
            Access.RequireEnabled(g, actor);
            if (g.Type == GroupType.Private)
                throw new RealtimeException(ErrorCode.ApplyNotAllowed, "a Private group is joined by invitation only");
            if (await GroupRepository.MemberAsync(s.Connection, s.Transaction, g.Gid, user) is not null)
                throw new RealtimeException(ErrorCode.AlreadyMember, $"you are already a member of group {groupId}");
            if (await MembershipRepository.IsListedAsync(s, Lists.Block, g.Gid, user))
                throw new RealtimeException(ErrorCode.Blocked, $"you are on the blocklist of group {groupId}");
            if (g.ApplyJoinOption == ApplyJoinOption.DisableApply)
                throw new RealtimeException(ErrorCode.ApplyNotAllowed, $"group {groupId} accepts no applications");
            var message = Validate.MaxLength(r.Message, Validate.PendingMessageMax, "message");

            if (g.ApplyJoinOption == ApplyJoinOption.FreeAccess)
            {
                await AdmitAsync(s, g, [user], inviter: null, silent: false, strict: true);
                return new ApplyResult(ApplyOutcome.Joined);
            }

            // Applying twice answers the open request rather than pestering the admins again.
            if (await MembershipRepository.OpenJoinRequestAsync(s, g.Gid, user) is { } open)
                return new ApplyResult(ApplyOutcome.Pending, open);
            var pendingId = Guid.CreateVersion7();
            await MembershipRepository.InsertPendingAsync(s, g.Gid, PendingType.JoinRequest, pendingId, user, null, message);
            foreach (var staff in await MembershipRepository.StaffAsync(s, g.Gid))
                s.SystemMessage(staff, "JoinRequestReceived", g.GroupId, new { pendingId, applicant = user, message });
            return new ApplyResult(ApplyOutcome.Pending, pendingId);
        }, ct, Before);
    }

    public async Task<IReadOnlyList<PendingItem>> GetPendingAsync(Actor actor, GetPendingItemsRequest r, CancellationToken ct = default)
    {
        var user = actor.RequireUser();
        var limit = r.Limit ?? PendingPageDefault;
        if (limit is < 1 or > PendingPageMax) throw RealtimeException.Invalid("limit", $"must be 1-{PendingPageMax}");
        Validate.RequestId(r.RequestId);
        await using var c = await db.OpenAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        return (await MembershipRepository.PendingOfAsync(c, actor.AppId, user, r.Before, limit)).Select(p => p.ToItem(now)).ToList();
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
            var found = await MembershipRepository.FindPendingAsync(s.Connection, s.Transaction, s.AppId, pendingId) ?? throw PendingNotFound(pendingId);
            var g = await GroupRepository.LockByGidAsync(s, found.Gid);
            // Read again under the group's lock: a racing handler has committed by now.
            var item = await MembershipRepository.FindPendingAsync(s.Connection, s.Transaction, s.AppId, pendingId) ?? throw PendingNotFound(pendingId);
            var me = g is null ? null : await GroupRepository.MemberAsync(s.Connection, s.Transaction, g.Gid, actor.UserId);

            var isHandler = actor.IsAppAdmin || (item.Type == PendingType.JoinRequest
                ? me?.Role is MemberRole.Owner or MemberRole.Admin
                : item.ToUser == actor.UserId);
            if (!isHandler && item.FromUser != actor.UserId) throw PendingNotFound(pendingId);
            if (g is not null) Access.RequireEnabled(g, actor);
            if (!isHandler)
                throw new RealtimeException(ErrorCode.PermissionDenied, item.Type == PendingType.JoinRequest
                    ? "only the group's owner and admins handle a join request"
                    : "only the invitee handles an invitation");
            if (g is null || item.StatusAt(s.Now) != PendingStatus.Pending)
                throw new RealtimeException(ErrorCode.PendingAlreadyHandled, $"pending item {pendingId} is {item.StatusAt(s.Now)}");
            var reason = r.Reason is null ? null : Validate.MaxLength(r.Reason, ReasonMax, "reason");

            var subject = item.Type == PendingType.JoinRequest ? item.FromUser : item.ToUser!;
            if (approve && await MembershipRepository.IsListedAsync(s, Lists.Block, g.Gid, subject))
                throw new RealtimeException(ErrorCode.Blocked, $"{subject} is on the blocklist of group {g.GroupId}");
            var status = approve ? PendingStatus.Approved : PendingStatus.Rejected;
            if (!await MembershipRepository.ResolvePendingAsync(s, pendingId, status, reason))
                throw new RealtimeException(ErrorCode.PendingAlreadyHandled, $"pending item {pendingId} was already handled");

            if (item.Type == PendingType.JoinRequest)
                s.SystemMessage(item.FromUser, "JoinRequestHandled", g.GroupId, new { pendingId, approved = approve, reason });
            else
                s.SystemMessage(item.FromUser, "InvitationHandled", g.GroupId, new { pendingId, invitee = item.ToUser, approved = approve, reason });
            if (approve)
                await AdmitAsync(s, g, [subject], inviter: item.Type == PendingType.Invitation ? item.FromUser : null, silent: false, strict: true);

            item.Status = status;
            item.HandledBy = actor.UserId;
            item.HandledAt = s.Now;
            item.Reason = reason;
            return item.ToItem(s.Now);
        }, ct);
    }

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
            var targets = await MembershipRepository.MembersAmongAsync(s, g.Gid, users);
            foreach (var t in targets.Values)
                if (!MemberRules.MayManage(me?.Role, t.Role, actor.IsAppAdmin))
                    throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not remove {t.UserId} ({t.Role})");
            if (users.FirstOrDefault(u => !targets.ContainsKey(u)) is { } stranger)
                throw new RealtimeException(ErrorCode.NotMember, $"{stranger} is not a member of group {groupId}");

            await KickAsync(s, g, targets.Values.ToList(), reason);
            return true;
        }, ct);
    }

    public async Task QuitAsync(Actor actor, string? groupId, CancellationToken ct = default)
    {
        Validate.GroupId(groupId);
        var user = actor.RequireUser();
        await runner.RunAsync(actor, "QuitGroup", requestId: null, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId!);
            if (me!.Role == MemberRole.Owner)
                throw new RealtimeException(ErrorCode.OwnerCannotQuit, "the owner cannot quit: transfer ownership or dissolve the group first");

            await LeaveAsync(s, g, [me]);
            var evt = await s.AppendGroupEventAsync(g, "MemberQuit", new { userId = user });
            await GroupRepository.RemoveMembersAsync(s, g, [user], evt.Seq);
            s.SystemMessage(user, "QuitGroup", g.GroupId, new { });
            ExitCallback(s, g, "Quit", [user]);
            return true;
        }, ct);
    }

    /// <param name="maxLimit">The page size limit of the caller's API: the hub's (500) unless REST asks for its own (1000).</param>
    public async Task<MembersResult> GetMembersAsync(Actor actor, GetMembersRequest r, CancellationToken ct = default, int maxLimit = MembersPageMax)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        await using var c = await db.OpenAsync(ct);
        var (g, me) = await Access.ReadAsync(c, actor, groupId);
        var (offset, limit) = Validate.Page(r.Offset, r.Limit, MembersPageDefault, maxLimit);
        return await MembershipRepository.PageAsync(c, g.Gid, r.Role, offset, limit, actor.UserId, actor.IsAppAdmin, clock.GetUtcNow().UtcDateTime);
    }

    /// <summary>
    /// Role (set/unset admin), mute (0 unmutes), nameCard, custom and msgRecvOption of one member,
    /// each under its own rule. REST's set/unset admin and mute/unmute call this with one field set.
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

            // The caller's role comes before the arguments (SPEC §4 order): whatever it rules out for
            // every possible target is refused before the target is even looked up.
            if (r.Role is not null) Access.RequireAllowed(Allowed.Owner, me, actor, "set or unset admins");
            if (r.MsgRecvOption is not null && !isSelf && !actor.IsAppAdmin)
                throw new RealtimeException(ErrorCode.PermissionDenied, "msgRecvOption is set by the member only");
            var managesAnyone = MemberRules.MayManage(me?.Role, MemberRole.Member, actor.IsAppAdmin);
            if (r.MuteSeconds is not null && !managesAnyone)
                throw new RealtimeException(ErrorCode.PermissionDenied, "only the owner and admins may mute members");
            if (editsProfile && !isSelf && !managesAnyone)
                throw new RealtimeException(ErrorCode.PermissionDenied, "only the owner and admins may edit another member's profile");

            var target = await GroupRepository.MemberAsync(s.Connection, s.Transaction, g.Gid, targetId)
                ?? throw new RealtimeException(ErrorCode.NotMember, $"{targetId} is not a member of group {groupId}");
            // Then what depends on the target's own role.
            if (r.MuteSeconds is not null && !MemberRules.MayManage(me?.Role, target.Role, actor.IsAppAdmin))
                throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not mute {targetId} ({target.Role})");
            if (editsProfile && !MemberRules.MayEditProfileOf(me?.Role, target.Role, isSelf, actor.IsAppAdmin))
                throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not edit the member profile of {targetId} ({target.Role})");

            if (r.Role == MemberRole.Owner) throw RealtimeException.Invalid("role", "cannot be Owner: use TransferOwnership");
            if (r.Role is not null && target.Role == MemberRole.Owner)
                throw RealtimeException.Invalid("role", "the owner's role changes only through TransferOwnership");
            if (r.MuteSeconds is < 0 or > MemberRules.MuteSecondsMax)
                throw RealtimeException.Invalid("muteSeconds", $"must be 0-{MemberRules.MuteSecondsMax}");
            var nameCard = r.NameCard is null ? null : Validate.MaxLength(r.NameCard, Validate.NameCardMax, "nameCard");
            var custom = r.Custom is null ? null : Validate.MaxLength(r.Custom, Validate.MemberCustomMax, "custom");

            var changes = new Dictionary<string, object?>();
            if (r.Role is { } role && role != target.Role)
            {
                if (role == MemberRole.Admin && g.AdminCount >= MemberRules.AdminMax)
                    throw new RealtimeException(ErrorCode.AdminLimitReached, $"group {groupId} already has {MemberRules.AdminMax} admins");
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

            if (changes.Count > 0 || privateChange) await MembershipRepository.SaveMemberAsync(s, g.Gid, target);
            if (changes.ContainsKey("role")) await GroupRepository.SaveAsync(s, g);
            if (changes.Count > 0) await s.AppendGroupEventAsync(g, "MemberChanged", new { userId = targetId, changes });
            if (changes.ContainsKey("role")) s.SystemMessage(targetId, "RoleChanged", g.GroupId, new { role = target.Role });
            if (changes.ContainsKey("mutedUntil"))
                s.SystemMessage(targetId, "Muted", g.GroupId, new { mutedUntil = target.MutedUntil, muteSeconds = r.MuteSeconds!.Value });
            return target.ToInfo(isSelf || actor.IsAppAdmin, s.Now);
        }, ct);
    }

    public Task<IReadOnlyList<string>> AddToListAsync(Actor actor, string list, UserListRequest r, CancellationToken ct = default) =>
        ChangeListAsync(actor, list, r, add: true, ct);

    public Task<IReadOnlyList<string>> RemoveFromListAsync(Actor actor, string list, UserListRequest r, CancellationToken ct = default) =>
        ChangeListAsync(actor, list, r, add: false, ct);

    public async Task<IReadOnlyList<string>> GetListAsync(Actor actor, string list, UserListRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        await using var c = await db.OpenAsync(ct);
        var (g, me) = await Access.ReadAsync(c, actor, groupId);
        Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, $"read the {list}");
        return await MembershipRepository.ListAsync(c, null, list, g.Gid);
    }

    private async Task<IReadOnlyList<string>> ChangeListAsync(Actor actor, string list, UserListRequest r, bool add, CancellationToken ct)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        var method = (add ? "AddTo" : "RemoveFrom") + (list == Lists.Block ? "Blocklist" : "Allowlist");
        return await runner.RunAsync(actor, method, requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, $"change the {list}");
            var users = Validate.UserIds(r.UserIds, "userIds");

            if (!add)
                await MembershipRepository.RemoveFromListAsync(s, list, g.Gid, users);
            else if (list == Lists.Allow)
                await MembershipRepository.AddToListAsync(s, list, g.Gid, users);
            else
            {
                // Blocklisting removes a member, so it follows the kick rules.
                var members = await MembershipRepository.MembersAmongAsync(s, g.Gid, users);
                foreach (var u in users)
                {
                    MemberRole? role = members.TryGetValue(u, out var m) ? m.Role : null;
                    if (!MemberRules.MayManage(me?.Role, role, actor.IsAppAdmin))
                        throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not blocklist {u} ({role})");
                }
                await MembershipRepository.AddToListAsync(s, list, g.Gid, users);
                await MembershipRepository.CancelPendingOfAsync(s, g.Gid, users);
                if (members.Count > 0) await KickAsync(s, g, members.Values.ToList(), reason: null);
            }
            return await MembershipRepository.ListAsync(s.Connection, s.Transaction, list, g.Gid);
        }, ct);
    }

    /// <summary>
    /// Adds users who are neither members nor blocklisted, under the group row's lock: capacity and
    /// the joined-group limit are checked here, so racing joins never exceed them. Answers the users
    /// refused for JoinedGroupLimit (strict: the call fails instead). GroupFull fails the whole call.
    /// </summary>
    private async Task<HashSet<string>> AdmitAsync(CommandScope s, GroupRow g, IReadOnlyList<string> users, string? inviter, bool silent, bool strict)
    {
        var refused = new HashSet<string>(StringComparer.Ordinal);
        if (users.Count == 0) return refused;
        var counted = g.Rules.CountsTowardJoinedLimit;
        if (counted)
        {
            var joined = await GroupRepository.LockUsersAsync(s, users);
            refused.UnionWith(users.Where(u => joined[u] >= JoinedGroupLimit));
            if (strict && refused.Count > 0)
                throw new RealtimeException(ErrorCode.JoinedGroupLimit, $"{refused.First()} is already in {JoinedGroupLimit} groups");
        }
        var admitted = users.Where(u => !refused.Contains(u)).ToList();
        if (g.MaxMembers is { } max && g.MemberCount + admitted.Count > max)
            throw new RealtimeException(ErrorCode.GroupFull, $"group {g.GroupId} has room for {Math.Max(0, max - g.MemberCount)} more members");
        if (admitted.Count == 0) return refused;

        await GroupRepository.AddMembersAsync(s, g, admitted.Select(u => (u, MemberRole.Member)).ToList());
        if (counted) await GroupRepository.AdjustJoinedCountAsync(s, admitted, +1);
        g.MemberCount += admitted.Count;
        await GroupRepository.SaveAsync(s, g);
        await MembershipRepository.CancelPendingOfAsync(s, g.Gid, admitted);

        var joinSeq = g.LastSeq;
        foreach (var u in admitted) s.Attach(u, g);
        s.PushGroupEvents = !silent;
        await s.AppendGroupEventAsync(g, "MembersJoined", new { userIds = admitted, inviter });
        s.PushGroupEvents = true;
        foreach (var u in admitted) s.SystemMessage(u, "JoinedGroup", g.GroupId, new { joinSeq, inviter, epoch = g.Epoch });
        s.AfterCallback(CallbackCommand.AfterNewMemberJoin, new()
        {
            ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["JoinType"] = inviter is null && !s.Actor.IsAppAdmin ? "Apply" : "Invited",
            ["Operator_Account"] = s.Actor.IdempotencyOwner, ["NewMemberList"] = GroupCommands.MemberList(admitted),
        });
        return refused;
    }

    /// <summary>Kicked (or blocklisted) members: detached before commit, so they hear nothing from the group after it.</summary>
    private static async Task KickAsync(CommandScope s, GroupRow g, IReadOnlyList<MemberRow> targets, string? reason)
    {
        await LeaveAsync(s, g, targets);
        var ids = targets.Select(t => t.UserId).Order(StringComparer.Ordinal).ToList();
        var evt = await s.AppendGroupEventAsync(g, "MembersKicked", new { userIds = ids, reason });
        await GroupRepository.RemoveMembersAsync(s, g, ids, evt.Seq);
        foreach (var u in ids) s.SystemMessage(u, "Kicked", g.GroupId, new { reason });
        ExitCallback(s, g, "Kicked", ids);
    }

    private static void ExitCallback(CommandScope s, GroupRow g, string exitType, IReadOnlyList<string> users) =>
        s.AfterCallback(CallbackCommand.AfterMemberExit, new()
        {
            ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["ExitType"] = exitType,
            ["Operator_Account"] = s.Actor.IdempotencyOwner, ["ExitMemberList"] = GroupCommands.MemberList(users),
        });

    /// <summary>The bookkeeping of members leaving, and their detach (applied before the command commits).</summary>
    private static async Task LeaveAsync(CommandScope s, GroupRow g, IReadOnlyList<MemberRow> leaving)
    {
        var ids = leaving.Select(t => t.UserId).ToList();
        if (g.Rules.CountsTowardJoinedLimit)
        {
            await GroupRepository.LockUsersAsync(s, ids);
            await GroupRepository.AdjustJoinedCountAsync(s, ids, -1);
        }
        g.MemberCount -= leaving.Count;
        g.AdminCount -= leaving.Count(t => t.Role == MemberRole.Admin);
        await GroupRepository.SaveAsync(s, g);
        foreach (var u in ids) s.Detach(u, g);
    }

    private static RealtimeException PendingNotFound(Guid id) => new(ErrorCode.PendingNotFound, $"pending item {id} does not exist");
}
