using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Realtime.Server.Auth;

/// <summary>
/// Bearer authentication for our HS256 tokens (JwtBearer 9/10 does not restore here):
/// the token comes from the Authorization header or, for WebSocket clients in browsers,
/// from the access_token query parameter.
/// </summary>
public sealed class RealtimeAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenService tokens,
    TokenRevocations revocations)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Realtime";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = TokenFrom(Request);
        if (token is null) return AuthenticateResult.NoResult();

        var (caller, expires, issuedAt, error) = await tokens.ValidateFullyAsync(token);
        if (caller is null) return AuthenticateResult.Fail(error ?? "invalid token");
        if (!caller.IsAdmin && await revocations.IsRevokedAsync(caller.AppId, caller.UserId, issuedAt, Context.RequestAborted))
            return AuthenticateResult.Fail("the token was revoked");

        var claims = new List<Claim>
        {
            new("sub", caller.UserId),
            new(TokenService.AppClaim, caller.AppId),
        };
        if (caller.IsAdmin) claims.Add(new Claim(TokenService.RoleClaim, TokenService.AdminRole));
        var identity = new ClaimsIdentity(claims, SchemeName, "sub", TokenService.RoleClaim);
        // The expiry lets the hub close a terminal whose token runs out (CloseOnAuthenticationExpiration).
        var properties = new AuthenticationProperties { ExpiresUtc = new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc)) };
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, SchemeName));
    }

    private static string? TokenFrom(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        var query = request.Query["access_token"].ToString();
        return query.Length > 0 ? query : null;
    }
}
