using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Realtime.Server.Apps;

namespace Realtime.Server.Auth;

/// <summary>Issues and validates the HS256 tokens of SPEC §4 (iss = app, sub = user, role: admin).</summary>
public sealed class TokenService(AppRegistry apps)
{
    public const string AppClaim = "app";
    public const string RoleClaim = "role";
    public const string AdminRole = "admin";

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public string Issue(string appId, string userId, TimeSpan lifetime, bool admin = false)
    {
        var key = apps.KeyOf(appId) ?? throw new ArgumentException($"unknown app '{appId}'", nameof(appId));
        var claims = new Dictionary<string, object> { ["sub"] = userId };
        if (admin) claims[RoleClaim] = AdminRole;
        var now = DateTime.UtcNow;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = appId,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now.AddSeconds(-1),
            Expires = now.Add(lifetime),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>The caller, or null with a reason when the token is bad, expired, foreign or of an unknown app.</summary>
    public async Task<(Caller? Caller, string? Error)> ValidateAsync(string token)
    {
        var (caller, _, _, error) = await ValidateFullyAsync(token);
        return (caller, error);
    }

    /// <summary>As <see cref="ValidateAsync"/>, with the token's expiry and issue time (UTC; null without iat) for a valid one.</summary>
    public async Task<(Caller? Caller, DateTime Expires, DateTime? IssuedAt, string? Error)> ValidateFullyAsync(string token)
    {
        string appId;
        try
        {
            appId = _handler.ReadJsonWebToken(token).Issuer;
        }
        catch (ArgumentException)
        {
            return (null, default, null, "malformed token");
        }
        var key = apps.KeyOf(appId);
        if (key is null) return (null, default, null, "unknown app");

        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = appId,
            ValidateAudience = false,
            IssuerSigningKey = key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(30),
        });
        if (!result.IsValid) return (null, default, null, result.Exception?.GetType().Name ?? "invalid token");

        var sub = result.Claims.TryGetValue("sub", out var s) ? s as string : null;
        if (sub is null || !Ids.IsValidUserId(sub)) return (null, default, null, "invalid sub");
        var admin = result.Claims.TryGetValue(RoleClaim, out var r) && r as string == AdminRole;
        var issuedAt = ((JsonWebToken)result.SecurityToken).IssuedAt;
        return (new Caller(appId, sub, admin), result.SecurityToken.ValidTo, issuedAt == DateTime.MinValue ? null : issuedAt, null);
    }
}

/// <summary>Who is calling: app, user and whether the token is the app's admin token.</summary>
public sealed record Caller(string AppId, string UserId, bool IsAdmin)
{
    public static Caller From(ClaimsPrincipal principal) => new(
        principal.FindFirstValue(TokenService.AppClaim) ?? throw new InvalidOperationException("no app claim"),
        principal.FindFirstValue("sub") ?? throw new InvalidOperationException("no sub claim"),
        principal.FindFirstValue(TokenService.RoleClaim) == TokenService.AdminRole);
}
