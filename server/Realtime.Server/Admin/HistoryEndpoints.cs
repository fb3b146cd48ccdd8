using Realtime.Server.Commands;
using Realtime.Server.History;

namespace Realtime.Server.Admin;

/// <summary>`GET /chatgroups/{id}/messages?before=&amp;limit=` (SPEC §9): GetMessages as the app admin, who reads the whole retained log.</summary>
public static class HistoryEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/chatgroups/{id}/messages", MessagesAsync).Named("GetChatGroupMessages");

    /// <summary>`data`: the messages, newest first (`at` in epoch ms); `cursor`: the `before` of the next page, absent on the last.</summary>
    private static async Task<AdminReply> MessagesAsync(string appId, string id, HttpRequest request, MessageHistory history, CancellationToken ct)
    {
        var limit = AdminHttp.QueryInt(request, "limit", HistoryRules.DefaultLimit, 1, HistoryRules.MaxLimit);
        var before = QueryLong(request, "before", 1, long.MaxValue);
        var page = await history.GetAsync(Actor.AppAdmin(appId), new GetMessagesRequest(id, before, limit), ct);
        var items = page.Items.Select(e => new { groupid = e.GroupId, e.Seq, e.Id, e.Type, e.Actor, at = AdminHttp.Ms(e.At), e.Data }).ToList();
        return AdminReply.Page(items, page.HasMore ? page.Items[^1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    /// <summary>An optional 64-bit integer query parameter within [min, max] (digits only, as AdminHttp.QueryInt).</summary>
    private static long? QueryLong(HttpRequest request, string name, long min, long max)
    {
        var values = request.Query[name];
        if (values.Count == 0) return null;
        if (values.Count > 1 || values[0] is not { Length: > 0 and <= 19 } text || !text.All(char.IsAsciiDigit)
            || !long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
            throw Errors.RealtimeException.Invalid(name, $"must be an integer from {min} to {max}");
        return value;
    }
}
