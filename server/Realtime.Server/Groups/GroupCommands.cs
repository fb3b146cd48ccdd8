using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Errors;
using Realtime.Server.Membership;

namespace Realtime.Server.Groups;

/// <summary>The group lifecycle of SPEC §2–§5: create, read, search, edit, transfer, dissolve.</summary>
public sealed class GroupCommands(CommandRunner runner, Db db, ReadRouter reads, AppRegistry apps, BeforeCallbacks callbacks, MembershipChanges membership)
{
    public async Task<GroupInfo> CreateAsync(Actor actor, CreateGroupRequest r, string ownerId, CancellationToken ct = default)
    {
        var type = r.Type ?? throw RealtimeException.Invalid("type", "is required");
        var rules = GroupTypeRules.For(type);
        Validate.UserId(ownerId, "owner");
        var requestId = Validate.RequestId(r.RequestId);
        if (r.GroupId is not null && !Ids.IsValidCustomGroupId(r.GroupId))
            throw RealtimeException.Invalid("groupId", "must be 1-48 chars of [A-Za-z0-9_.-] and not start with '@'");
        if (rules.ApplyJoinOptionFixed && r.ApplyJoinOption is { } a && a != rules.DefaultApplyJoinOption)
            throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"applyJoinOption is always {rules.DefaultApplyJoinOption} for a {type} group");
        if (rules.InviteOptionFixed && r.InviteOption is { } i && i != rules.DefaultInviteOption)
            throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"inviteOption is always {rules.DefaultInviteOption} for a {type} group");
        // The owner is not counted among the 0–100 members (SPEC §3), even when listed.
        var members = Validate.UserIds(r.Members?.Where(m => m != ownerId).ToList(), "members", min: 0);
        if (members.Count > 0 && rules.InviteOptionFixed)
            throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"a {type} group is joined by applying, not created with members");

        var group = new GroupRow
        {
            AppId = actor.AppId,
            GroupId = r.GroupId ?? Ids.NewAutoGroupId(),
            Type = type,
            Name = Validate.Name(r.Name),
            Introduction = Validate.MaxLength(r.Introduction, Validate.IntroductionMax, "introduction"),
            Notification = Validate.MaxLength(r.Notification, Validate.NotificationMax, "notification"),
            FaceUrl = Validate.FaceUrl(r.FaceUrl),
            Custom = Validate.MaxLength(r.Custom, Validate.GroupCustomMax, "custom"),
            OwnerId = ownerId,
            MaxMembers = Validate.MaxMembers(r.MaxMembers, rules),
            ApplyJoinOption = r.ApplyJoinOption ?? rules.DefaultApplyJoinOption,
            InviteOption = r.InviteOption ?? rules.DefaultInviteOption,
            InviteNeedsConfirm = r.InviteNeedsConfirm ?? false,
            MemberCount = 1 + members.Count,
            Version = 1,
        };
        if (group.MaxMembers < group.MemberCount)
            throw RealtimeException.Invalid("maxMembers", $"is smaller than the {group.MemberCount} initial members");
        var app = apps.Get(actor.AppId);
        Task Before(CancellationToken token) => callbacks.CheckAsync(actor.AppId, CallbackCommand.BeforeCreateGroup, new()
        {
            ["Operator_Account"] = actor.IdempotencyOwner, ["Owner_Account"] = ownerId, ["Type"] = type.ToString(),
            ["Name"] = group.Name, ["GroupId"] = r.GroupId, ["MemberList"] = CallbackCommand.MemberList(members),
        }, token);

        return await runner.RunAsync(actor, "CreateGroup", requestId, async s =>
        {
            // The body may run again after a deadlock retry: set everything it owns.
            group.CreatedAt = group.LastModified = s.Now;
            group.LastSeq = 0;
            group.Epoch = GroupEpoch.New();
            group.Gid = await GroupRepository.InsertAsync(s, group)
                ?? throw new RealtimeException(ErrorCode.GroupIdTaken, $"group id {group.GroupId} is taken");

            await membership.FoundAsync(s, group, ownerId, members);
            // Last, so the app's quota row (which every create of the app waits for) is held only
            // until commit; the users' rows were locked before it, as in every command.
            s.LastBeforeCommit(() => Quota.ConsumeAsync(s, app));
            s.AfterCallback(CallbackCommand.AfterCreateGroup, new()
            {
                ["GroupId"] = group.GroupId, ["Operator_Account"] = actor.IdempotencyOwner, ["Owner_Account"] = ownerId,
                ["Type"] = group.Type.ToString(), ["Name"] = group.Name, ["MemberList"] = CallbackCommand.MemberList(members),
            });
            return group.ToInfo();
        }, ct, Before);
    }

    public async Task<GetGroupsResult> GetAsync(Actor actor, IReadOnlyList<string>? groupIds, CancellationToken ct = default)
    {
        if (groupIds is null || groupIds.Count is < 1 or > 100) throw RealtimeException.Invalid("groupIds", "must list 1 to 100 groups");
        foreach (var id in groupIds) Validate.GroupId(id, "groupIds");

        // A read of committed state, with no lock and nothing decided from it: the replica may serve it.
        var (found, mine) = await reads.ReadAsync(async (c, ct) =>
        {
            var found = (await GroupRepository.FindManyAsync(c, actor.AppId, groupIds, ct)).ToDictionary(g => g.GroupId, StringComparer.Ordinal);
            var mine = actor.IsAppAdmin ? [] : await MemberRepository.MembershipsAsync(c, found.Values.Select(g => g.Gid).ToList(), actor.RequireUser(), ct);
            return (found, mine);
        }, ct);

        var groups = new List<GroupInfo>();
        var failed = new List<FailedGroup>();
        foreach (var id in groupIds.Distinct(StringComparer.Ordinal))
        {
            if (!found.TryGetValue(id, out var g) || (!actor.IsAppAdmin && !mine.Contains(g.Gid) && g.Type == GroupType.Private))
                failed.Add(new FailedGroup(id, nameof(ErrorCode.GroupNotFound)));
            else if (!actor.IsAppAdmin && !mine.Contains(g.Gid))
                failed.Add(new FailedGroup(id, nameof(ErrorCode.NotMember)));
            else
                groups.Add(g.ToInfo());
        }
        return new GetGroupsResult(groups, failed);
    }

    public async Task<PublicGroupInfo> SearchAsync(Actor actor, string? groupId, CancellationToken ct = default)
    {
        Validate.GroupId(groupId);
        await using var c = await db.OpenAsync(ct);
        var g = Access.RequireGroup(await GroupRepository.FindAsync(c, actor.AppId, groupId!, ct), groupId!);
        if (!g.Rules.SearchableByNonMembers && !actor.IsAppAdmin && await MemberRepository.FindAsync(c, g.Gid, actor.UserId, ct) is null)
            throw new RealtimeException(ErrorCode.GroupNotFound, $"group {groupId} does not exist");
        return g.ToPublic();
    }

    public async Task<GroupInfo> UpdateProfileAsync(Actor actor, UpdateGroupProfileRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        return await runner.RunAsync(actor, "UpdateGroupProfile", requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            var rules = g.Rules;
            if (rules.ApplyJoinOptionFixed && r.ApplyJoinOption is { } a && a != g.ApplyJoinOption)
                throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"applyJoinOption is fixed for a {g.Type} group");
            if (rules.InviteOptionFixed && r.InviteOption is { } i && i != g.InviteOption)
                throw new RealtimeException(ErrorCode.UnsupportedForGroupType, $"inviteOption is fixed for a {g.Type} group");
            Access.RequireAllowed(rules.ModifyProfile, me, actor, "modify this group's profile");

            var changes = new Dictionary<string, object?>();
            void Change<T>(string field, T? requested, T current, Action<T> apply)
            {
                if (requested is null || EqualityComparer<T>.Default.Equals(requested, current)) return;
                apply(requested);
                changes[field] = requested;
            }
            Change("name", r.Name is null ? null : Validate.Name(r.Name), g.Name, v => g.Name = v);
            Change("introduction", r.Introduction is null ? null : Validate.MaxLength(r.Introduction, Validate.IntroductionMax, "introduction"), g.Introduction, v => g.Introduction = v);
            Change("notification", r.Notification is null ? null : Validate.MaxLength(r.Notification, Validate.NotificationMax, "notification"), g.Notification, v => g.Notification = v);
            Change("faceUrl", r.FaceUrl is null ? null : Validate.FaceUrl(r.FaceUrl), g.FaceUrl, v => g.FaceUrl = v);
            Change("custom", r.Custom is null ? null : Validate.MaxLength(r.Custom, Validate.GroupCustomMax, "custom"), g.Custom, v => g.Custom = v);
            if (r.MaxMembers is { } max)
            {
                Validate.MaxMembers(max, rules);
                if (max < g.MemberCount) throw RealtimeException.Invalid("maxMembers", $"is below the {g.MemberCount} current members");
                Change<int?>("maxMembers", max, g.MaxMembers, v => g.MaxMembers = v);
            }
            Change<ApplyJoinOption?>("applyJoinOption", r.ApplyJoinOption, g.ApplyJoinOption, v => g.ApplyJoinOption = v!.Value);
            Change<InviteOption?>("inviteOption", r.InviteOption, g.InviteOption, v => g.InviteOption = v!.Value);
            Change<bool?>("inviteNeedsConfirm", r.InviteNeedsConfirm, g.InviteNeedsConfirm, v => g.InviteNeedsConfirm = v!.Value);
            Change<bool?>("muteAll", r.MuteAll, g.MuteAll, v => g.MuteAll = v!.Value);

            if (r.ExpectedVersion is { } expected && expected != g.Version)
                throw new RealtimeException(ErrorCode.VersionConflict, $"group {groupId} is at version {g.Version}, not {expected}");
            if (changes.Count == 0) return g.ToInfo();

            g.Version++;
            g.LastModified = s.Now;
            await GroupRepository.SaveAsync(s, g);
            s.AppendGroupEvent(g, "ProfileChanged", new { changes });
            s.AfterCallback(CallbackCommand.AfterGroupInfoChanged, new()
            {
                ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["Operator_Account"] = actor.IdempotencyOwner, ["Changes"] = changes,
            });
            return g.ToInfo();
        }, ct);
    }

    public async Task DissolveAsync(Actor actor, string? groupId, CancellationToken ct = default)
    {
        Validate.GroupId(groupId);
        await runner.RunAsync(actor, "DissolveGroup", requestId: null, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId!);
            Access.RequireAllowed(g.Rules.Dissolve, me, actor, $"dissolve a {g.Type} group");

            await membership.LeaveAsync(s, g, await MemberRepository.AllAsync(s, g.Gid), Departure.Dissolved);
            await Quota.ReleaseAsync(s);
            return true;
        }, ct);
    }

    public async Task TransferOwnershipAsync(Actor actor, string? groupId, string? newOwnerId, CancellationToken ct = default)
    {
        Validate.GroupId(groupId);
        await runner.RunAsync(actor, "TransferOwnership", requestId: null, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId!);
            Access.RequireAllowed(Allowed.Owner, me, actor, "transfer ownership");
            Validate.UserId(newOwnerId, "newOwnerId");
            if (newOwnerId == g.OwnerId) throw RealtimeException.Invalid("newOwnerId", "is already the owner");
            var target = await MemberRepository.FindAsync(s, g.Gid, newOwnerId)
                ?? throw new RealtimeException(ErrorCode.NotMember, $"{newOwnerId} is not a member of group {g.GroupId}");

            var oldOwner = g.OwnerId;
            if (target.Role == MemberRole.Admin) g.AdminCount--;
            await MemberRepository.SetRoleAsync(s, g.Gid, oldOwner, MemberRole.Member);
            await MemberRepository.SetRoleAsync(s, g.Gid, newOwnerId!, MemberRole.Owner);
            g.OwnerId = newOwnerId!;
            g.Version++;
            g.LastModified = s.Now;
            await GroupRepository.SaveAsync(s, g);
            s.AppendGroupEvent(g, "OwnerChanged", new { oldOwner, newOwner = newOwnerId });
            s.SystemMessage(newOwnerId!, "OwnershipTransferred", g.GroupId, new { oldOwner, newOwner = newOwnerId });
            return true;
        }, ct);
    }

    /// <summary>Disables or enables a group (app admin only); repeating the current state changes nothing.</summary>
    public async Task<GroupInfo> SetDisabledAsync(Actor actor, string? groupId, bool disabled, CancellationToken ct = default)
    {
        Validate.GroupId(groupId);
        return await runner.RunAsync(actor, disabled ? "DisableGroup" : "EnableGroup", requestId: null, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId!);
            Access.RequireAllowed(Allowed.AppAdminOnly, me, actor, disabled ? "disable a group" : "enable a group");
            if (g.Disabled == disabled) return g.ToInfo();

            g.Disabled = disabled;
            g.Version++;
            g.LastModified = s.Now;
            await GroupRepository.SaveAsync(s, g);
            foreach (var m in await MemberRepository.IdsAsync(s, g.Gid))
                s.SystemMessage(m, disabled ? "GroupDisabled" : "GroupEnabled", g.GroupId, new { });
            return g.ToInfo();
        }, ct);
    }

    public async Task<JoinedGroupsResult> JoinedAsync(string appId, string userId, int? offset, int? limit, CancellationToken ct = default)
    {
        var (o, l) = Validate.Page(offset, limit, defaultLimit: 1000, maxLimit: 1000);
        return await reads.ReadAsync((c, ct) => MemberRepository.JoinedAsync(c, appId, userId, o, l, ct), ct);
    }
}
