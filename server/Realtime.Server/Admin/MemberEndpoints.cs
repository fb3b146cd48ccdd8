using Realtime.Server.Commands;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.Admin;

/// <summary>The member routes of SPEC §6, each a call of the membership commands as the app admin.</summary>
public static class MemberEndpoints
{
    public const int MembersPageMax = 1000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/chatgroups/{id}/users", MembersAsync).Named("GetChatGroupMembers");
        app.MapPost("/chatgroups/{id}/users", AddAsync).Accepts<AddMembersBody>("application/json").Named("AddChatGroupMembers");
        app.MapDelete("/chatgroups/{id}/users/{users}", RemoveAsync).Named("RemoveChatGroupMembers");
        app.MapPost("/chatgroups/{id}/admin", SetAdminAsync).Accepts<SetAdminBody>("application/json").Named("SetChatGroupAdmin");
        app.MapDelete("/chatgroups/{id}/admin/{user}", UnsetAdminAsync).Named("UnsetChatGroupAdmin");
        app.MapPost("/chatgroups/{id}/mute", MuteAsync).Accepts<MuteBody>("application/json").Named("MuteChatGroupMembers");
        app.MapDelete("/chatgroups/{id}/mute/{users}", UnmuteAsync).Named("UnmuteChatGroupMembers");
    }

    private static async Task<AdminReply> MembersAsync(string appId, string id, HttpRequest request, MemberCommands members, CancellationToken ct)
    {
        var pageSize = AdminHttp.QueryInt(request, "pagesize", MembersPageMax, 1, MembersPageMax);
        var pageNum = AdminHttp.QueryInt(request, "pagenum", 1, 1, int.MaxValue / MembersPageMax);
        var actor = Actor.AppAdmin(appId);
        var page = (await members.GetMembersAsync(actor, new GetMembersRequest(id, (pageNum - 1) * pageSize, pageSize), ct, MembersPageMax)).Members;
        return AdminReply.Page(page.Select(m => new Dictionary<string, string> { [m.Role.ToString().ToLowerInvariant()] = m.UserId }).ToList());
    }

    private static async Task<AdminReply> AddAsync(string appId, string id, HttpRequest request, JoinCommands joins, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<AddMembersBody>(request);
        var results = await joins.InviteAsync(Actor.AppAdmin(appId), new InviteMembersRequest(id, body.Usernames), body.Silent ?? false, ct);
        return new AdminReply(new
        {
            groupid = id,
            action = "add_member",
            newmembers = results.Where(r => r.Result == InviteOutcome.Joined).Select(r => r.UserId).ToList(),
            results = results.Select(r => new { user = r.UserId, result = r.Result, code = r.Code }).ToList(),
        });
    }

    private static async Task<AdminReply> RemoveAsync(string appId, string id, string users, MemberCommands members, CancellationToken ct)
    {
        var userIds = AdminHttp.List(users);
        await members.RemoveAsync(Actor.AppAdmin(appId), new RemoveMembersRequest(id, userIds), ct);
        return new AdminReply(userIds.Distinct(StringComparer.Ordinal)
            .Select(u => new { result = true, action = "remove_member", user = u, groupid = id }).ToList());
    }

    private static async Task<AdminReply> SetAdminAsync(string appId, string id, HttpRequest request, MemberCommands members, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<SetAdminBody>(request);
        var user = Validate.UserId(body.NewAdmin, "newadmin");
        await members.UpdateMemberAsync(Actor.AppAdmin(appId), new UpdateMemberRequest(id, user, Role: MemberRole.Admin), ct);
        return new AdminReply(new { result = "success", newadmin = user });
    }

    private static async Task<AdminReply> UnsetAdminAsync(string appId, string id, string user, MemberCommands members, CancellationToken ct)
    {
        Validate.UserId(user, "user");
        await members.UpdateMemberAsync(Actor.AppAdmin(appId), new UpdateMemberRequest(id, user, Role: MemberRole.Member), ct);
        return new AdminReply(new { result = "success", oldadmin = user });
    }

    private static async Task<AdminReply> MuteAsync(string appId, string id, HttpRequest request, MemberCommands members, CancellationToken ct)
    {
        Validate.GroupId(id, "groupid"); // before the per-user loop: a bad id fails the whole call
        var body = await AdminHttp.BodyAsync<MuteBody>(request);
        var users = Validate.UserIds(body.Usernames, "usernames");
        const long maxMs = MemberRules.MuteSecondsMax * 1000;
        if (body.MuteDuration is not { } ms || ms < 1 || ms > maxMs)
            throw RealtimeException.Invalid("mute_duration", $"must be 1-{maxMs} milliseconds");
        // Mutes are kept in whole seconds; rounding up never shortens what was asked.
        var seconds = (ms + 999) / 1000;
        return new AdminReply(await PerUserAsync(users, async u =>
        {
            var m = await members.UpdateMemberAsync(Actor.AppAdmin(appId), new UpdateMemberRequest(id, u, MuteSeconds: seconds), ct);
            return new { result = true, user = u, expire = AdminHttp.Ms(m.MutedUntil) };
        }));
    }

    private static async Task<AdminReply> UnmuteAsync(string appId, string id, string users, MemberCommands members, CancellationToken ct)
    {
        Validate.GroupId(id, "groupid");
        var userIds = Validate.UserIds(AdminHttp.List(users), "users");
        return new AdminReply(await PerUserAsync(userIds, async u =>
        {
            await members.UpdateMemberAsync(Actor.AppAdmin(appId), new UpdateMemberRequest(id, u, MuteSeconds: 0), ct);
            return new { result = true, user = u };
        }));
    }

    /// <summary>
    /// Mute is one member's change, so a batch runs one command per user and answers per user;
    /// a missing group fails the whole call (it would fail every user the same way).
    /// </summary>
    private static async Task<List<object>> PerUserAsync<T>(IReadOnlyList<string> users, Func<string, Task<T>> change) where T : notnull
    {
        var results = new List<object>();
        foreach (var u in users)
        {
            try
            {
                results.Add(await change(u));
            }
            catch (RealtimeException e) when (e.Code != ErrorCode.GroupNotFound)
            {
                results.Add(new { result = false, user = u, error = e.Code.ToString(), code = (int)e.Code, error_description = e.Message });
            }
        }
        return results;
    }
}
