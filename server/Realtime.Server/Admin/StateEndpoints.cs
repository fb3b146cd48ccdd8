using System.Text.Json.Serialization;
using Realtime.Server.Commands;
using Realtime.Server.GroupState;

namespace Realtime.Server.Admin;

/// <summary>The group state routes of SPEC §9 (attributes, counters, online members), each the hub's command as the app admin.</summary>
public static class StateEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/chatgroups/{id}/attributes", GetAttributesAsync).Named("GetChatGroupAttributes");
        app.MapPut("/chatgroups/{id}/attributes", SetAttributesAsync).Accepts<AttributesBody>("application/json").Named("SetChatGroupAttributes");
        app.MapGet("/chatgroups/{id}/counters", GetCountersAsync).Named("GetChatGroupCounters");
        app.MapPost("/chatgroups/{id}/counters", ChangeCountersAsync).Accepts<CountersBody>("application/json").Named("ChangeChatGroupCounters");
        app.MapGet("/chatgroups/{id}/online", OnlineAsync).Named("GetChatGroupOnlineMembers");
    }

    /// <summary>`?keys=a,b` (absent: every key).</summary>
    private static List<string>? Keys(HttpRequest request) =>
        request.Query["keys"] is { Count: > 0 } values ? values.SelectMany(v => AdminHttp.List(v ?? "")).ToList() : null;

    private static async Task<AdminReply> GetAttributesAsync(string appId, string id, HttpRequest request, GroupStateCommands state, CancellationToken ct) =>
        new(await state.GetAttributesAsync(Actor.AppAdmin(appId), new GetGroupAttributesRequest(id, Keys(request)), ct));

    private static async Task<AdminReply> SetAttributesAsync(string appId, string id, HttpRequest request, GroupStateCommands state, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<AttributesBody>(request);
        return new(await state.SetAttributesAsync(Actor.AppAdmin(appId),
            new SetGroupAttributesRequest(id, body.Set, body.Remove, body.ExpectedVersions, body.RequestId), ct));
    }

    private static async Task<AdminReply> GetCountersAsync(string appId, string id, HttpRequest request, GroupStateCommands state, CancellationToken ct) =>
        new(await state.GetCountersAsync(Actor.AppAdmin(appId), new GetGroupCountersRequest(id, Keys(request)), ct));

    private static async Task<AdminReply> ChangeCountersAsync(string appId, string id, HttpRequest request, GroupStateCommands state, CancellationToken ct)
    {
        var body = await AdminHttp.BodyAsync<CountersBody>(request);
        return new(await state.ChangeCountersAsync(Actor.AppAdmin(appId), new ChangeGroupCountersRequest(id, body.Increment, body.Set, body.RequestId), ct));
    }

    private static async Task<AdminReply> OnlineAsync(string appId, string id, HttpRequest request, GroupStateCommands state, CancellationToken ct)
    {
        var offset = AdminHttp.QueryInt(request, "offset", 0, 0, int.MaxValue);
        var limit = AdminHttp.QueryInt(request, "limit", GroupStateRules.PageDefault, 1, GroupStateRules.PageMax);
        var page = await state.GetOnlineMembersAsync(Actor.AppAdmin(appId), new GetOnlineMembersRequest(id, offset, limit), ct);
        return new AdminReply(page, page.UserIds.Count);
    }
}

/// <summary>`PUT /chatgroups/{id}/attributes`.</summary>
public sealed record AttributesBody(
    [property: JsonPropertyName("set")] Dictionary<string, string>? Set = null,
    [property: JsonPropertyName("remove")] List<string>? Remove = null,
    [property: JsonPropertyName("expectedVersions")] Dictionary<string, long>? ExpectedVersions = null,
    [property: JsonPropertyName("requestId")] string? RequestId = null);

/// <summary>`POST /chatgroups/{id}/counters`.</summary>
public sealed record CountersBody(
    [property: JsonPropertyName("increment")] Dictionary<string, long>? Increment = null,
    [property: JsonPropertyName("set")] Dictionary<string, long>? Set = null,
    [property: JsonPropertyName("requestId")] string? RequestId = null);
