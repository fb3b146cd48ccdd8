using Realtime.Server.Commands;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Admin;

/// <summary>The group routes of SPEC §6: map Agora fields to the group commands, run them as the app admin.</summary>
public static class GroupEndpoints
{
    public const int ListLimitMax = 100;
    public const int ListLimitDefault = 10;
    public const int JoinedPageMax = 1000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/chatgroups", CreateAsync).Accepts<CreateChatGroupBody>("application/json").Named("CreateChatGroup");
        app.MapGet("/chatgroups", ListAsync).Named("ListChatGroups");
        app.MapGet("/chatgroups/{ids}", DetailsAsync).Named("GetChatGroups");
        app.MapPut("/chatgroups/{id}", ModifyAsync).Accepts<ModifyChatGroupBody>("application/json").Named("ModifyChatGroup");
        app.MapDelete("/chatgroups/{id}", DissolveAsync).Named("DissolveChatGroup");
        app.MapPost("/chatgroups/{id}/disable", (string appId, string id, GroupCommands groups, CancellationToken ct) =>
            SetDisabledAsync(appId, id, true, groups, ct)).Named("DisableChatGroup");
        app.MapPost("/chatgroups/{id}/enable", (string appId, string id, GroupCommands groups, CancellationToken ct) =>
            SetDisabledAsync(appId, id, false, groups, ct)).Named("EnableChatGroup");
        app.MapPut("/chatgroups/{id}/owner", TransferAsync).Accepts<TransferOwnerBody>("application/json").Named("TransferChatGroup");
        app.MapGet("/users/{user}/joined_chatgroups", JoinedAsync).Named("GetJoinedChatGroups");
    }

    private static async Task<AdminReply> CreateAsync(string appId, HttpRequest request, GroupCommands groups, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<CreateChatGroupBody>(request);
        if (body.Desc is not null && body.Description is not null)
            throw RealtimeException.Invalid("desc", "give desc or description, not both");
        var type = body.Type ?? body.Public switch
        {
            true => GroupType.Public,
            false => GroupType.Private,
            null => throw RealtimeException.Invalid("public", "is required unless type is given"),
        };
        var info = await groups.CreateAsync(Actor.AppAdmin(appId), new CreateGroupRequest(
            type,
            body.GroupName,
            body.GroupId,
            body.Desc ?? body.Description,
            body.Notification,
            body.FaceUrl,
            body.MaxUsers,
            ApplyJoinOptionOf(body.MembersOnly, GroupTypeRules.For(type)),
            InviteOptionOf(body.AllowInvites, GroupTypeRules.For(type)),
            body.InviteNeedConfirm,
            body.Custom,
            body.Members,
            body.RequestId), body.Owner!, ct);
        return new AdminReply(new { groupid = info.GroupId });
    }

    private static async Task<AdminReply> DetailsAsync(string appId, string ids, GroupCommands groups, AdminQueries queries, CancellationToken ct)
    {
        var groupIds = AdminHttp.List(ids);
        var result = await groups.GetAsync(Actor.AppAdmin(appId), groupIds, ct);
        // The app admin sees every live group, so a failure here can only be a missing one.
        if (result.Failed.Count > 0)
            throw new RealtimeException(ErrorCode.GroupNotFound,
                $"group{(result.Failed.Count > 1 ? "s" : "")} {string.Join(", ", result.Failed.Select(f => f.GroupId))} do{(result.Failed.Count > 1 ? "" : "es")} not exist");
        var members = await queries.AffiliationsAsync(appId, result.Groups.Select(g => g.GroupId).ToList(), ct);
        return new AdminReply(result.Groups.Select(g => ChatGroupDetails.From(g, members[g.GroupId])).ToList());
    }

    private static async Task<AdminReply> ModifyAsync(
        string appId, string id, HttpRequest request, GroupCommands groups, AdminQueries queries, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<ModifyChatGroupBody>(request);
        var changed = new Dictionary<string, bool>();
        void Given(string field, object? value)
        {
            if (value is not null) changed[field] = true;
        }
        Given("groupname", body.GroupName);
        Given("description", body.Description);
        Given("maxusers", body.MaxUsers);
        Given("membersonly", body.MembersOnly);
        Given("allowinvites", body.AllowInvites);
        Given("invite_need_confirm", body.InviteNeedConfirm);
        Given("custom", body.Custom);
        Given("notification", body.Notification);
        Given("faceUrl", body.FaceUrl);
        Given("muteAll", body.MuteAll);
        if (changed.Count == 0) throw RealtimeException.Invalid("request", "names no field to modify");
        // A group's type never changes, so it is read before the command; a missing group leaves the
        // options as given and the command answers GroupNotFound.
        var rules = await queries.GroupTypeAsync(appId, id, ct) is { } type ? GroupTypeRules.For(type) : null;

        await groups.UpdateProfileAsync(Actor.AppAdmin(appId), new UpdateGroupProfileRequest(
            id,
            body.GroupName,
            body.Description,
            body.Notification,
            body.FaceUrl,
            body.MaxUsers,
            ApplyJoinOptionOf(body.MembersOnly, rules),
            InviteOptionOf(body.AllowInvites, rules),
            body.InviteNeedConfirm,
            body.MuteAll,
            body.Custom,
            RequestId: body.RequestId), ct);
        // Every field given now holds its requested value (a refused change throws instead).
        return new AdminReply(changed);
    }

    private static async Task<AdminReply> DissolveAsync(string appId, string id, GroupCommands groups, CancellationToken ct)
    {
        await groups.DissolveAsync(Actor.AppAdmin(appId), id, ct);
        return new AdminReply(new { success = true, groupid = id });
    }

    private static async Task<AdminReply> SetDisabledAsync(string appId, string id, bool disabled, GroupCommands groups, CancellationToken ct)
    {
        var info = await groups.SetDisabledAsync(Actor.AppAdmin(appId), id, disabled, ct);
        return new AdminReply(new { disabled = info.Disabled });
    }

    private static async Task<AdminReply> TransferAsync(string appId, string id, HttpRequest request, GroupCommands groups, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<TransferOwnerBody>(request);
        await groups.TransferOwnershipAsync(Actor.AppAdmin(appId), id, body.NewOwner, ct);
        return new AdminReply(new { newowner = true });
    }

    private static async Task<AdminReply> ListAsync(string appId, HttpRequest request, AdminQueries queries, CancellationToken ct)
    {
        var limit = AdminHttp.QueryInt(request, "limit", ListLimitDefault, 1, ListLimitMax);
        var after = GroupCursor.Decode(request.Query["cursor"].ToString());
        // One row more than asked tells whether a next page exists without a count.
        var rows = await queries.GroupsAfterAsync(appId, after, limit + 1, ct);
        var page = rows.Take(limit).ToList();
        var cursor = rows.Count > limit ? GroupCursor.Encode(page[^1].Gid) : null;
        return AdminReply.Page(page.Select(ListedChatGroup.From).ToList(), cursor);
    }

    private static async Task<AdminReply> JoinedAsync(string appId, string user, HttpRequest request, GroupCommands groups, CancellationToken ct)
    {
        Validate.UserId(user, "user");
        var pageSize = AdminHttp.QueryInt(request, "pagesize", JoinedPageMax, 1, JoinedPageMax);
        var pageNum = AdminHttp.QueryInt(request, "pagenum", 1, 1, int.MaxValue / JoinedPageMax);
        var result = await groups.JoinedAsync(appId, user, (pageNum - 1) * pageSize, pageSize, ct);
        return AdminReply.Page(result.Groups.Select(JoinedChatGroup.From).ToList());
    }

    // Agora's membersonly and allowinvites set the option "where the type allows them" (SPEC §6): for a
    // type that fixes the setting they are ignored. The hub's explicit options still answer
    // UnsupportedForGroupType there.
    private static ApplyJoinOption? ApplyJoinOptionOf(bool? membersOnly, GroupTypeRules? rules) =>
        rules is { ApplyJoinOptionFixed: true } ? null
        : membersOnly switch { true => ApplyJoinOption.NeedPermission, false => ApplyJoinOption.FreeAccess, null => null };

    private static InviteOption? InviteOptionOf(bool? allowInvites, GroupTypeRules? rules) =>
        rules is { InviteOptionFixed: true } ? null
        : allowInvites switch { true => InviteOption.Anyone, false => InviteOption.AdminsOnly, null => null };
}
