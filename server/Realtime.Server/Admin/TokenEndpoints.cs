using Realtime.Server.Auth;
using Realtime.Server.Terminals;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Admin;

/// <summary>`POST /token`: user tokens for the app's own back end, signed with the app's secret.</summary>
public static class TokenEndpoints
{
    public const long TtlDefaultSeconds = 24 * 3600;
    public const long TtlMaxSeconds = 30 * 24 * 3600;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/token", IssueAsync).Accepts<TokenBody>("application/json").Named("IssueUserToken");
        app.MapPost("/users/{user}/revoke_tokens", RevokeAsync).Named("RevokeUserTokens");
    }

    private static async Task<AdminReply> IssueAsync(string appId, HttpRequest request, TokenService tokens)
    {
        var body = await AdminHttp.BodyAsync<TokenBody>(request);
        var user = Validate.UserId(body.Username, "username");
        var ttl = body.Ttl ?? TtlDefaultSeconds;
        if (ttl is < 1 or > TtlMaxSeconds) throw RealtimeException.Invalid("ttl", $"must be 1-{TtlMaxSeconds} seconds");
        var token = tokens.Issue(appId, user, TimeSpan.FromSeconds(ttl));
        return new AdminReply(new { access_token = token, expires_in = ttl, user = new { username = user } });
    }

    /// <summary>
    /// Every token the user holds now stops working: new connects are refused and every terminal of the
    /// user, on every node, is closed at once (clients then need a token issued after this).
    /// </summary>
    private static async Task<AdminReply> RevokeAsync(
        string appId, string user, TokenRevocations revocations, TerminalCloser closer, TimeProvider clock, CancellationToken ct)
    {
        Validate.UserId(user, "user");
        var at = await revocations.RevokeAsync(appId, user, clock.GetUtcNow().UtcDateTime, ct);
        await closer.CloseUserAsync(appId, user, ct);
        return new AdminReply(new { username = user, revoked_at = AdminHttp.Ms(at) });
    }
}
