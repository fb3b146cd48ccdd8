using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Realtime.Server.Auth;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// Every token the tests use, signed as an app's back end signs them (SPEC §4: HS256 with the app secret,
/// iss = app, sub = user, role = admin for an admin token), with the secrets <see cref="RealtimeNode"/> configures.
/// </summary>
public static class TestTokens
{
    /// <summary>A token of <paramref name="app"/> for <paramref name="user"/>, valid from now for <paramref name="lifetime"/> (1 h).</summary>
    public static string Issue(string user, string app = RealtimeNode.App, bool admin = false, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        return Sign(SecretOf(app), app, user, now, now.Add(lifetime ?? TimeSpan.FromHours(1)), admin);
    }

    /// <summary>A token signed with any secret, claiming any issuer and validity: for the refusal tests.</summary>
    public static string Sign(string secret, string issuer, string user, DateTime notBefore, DateTime expires, bool admin = false)
    {
        var claims = new Dictionary<string, object> { ["sub"] = user };
        if (admin) claims[TokenService.RoleClaim] = TokenService.AdminRole;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Claims = claims,
            IssuedAt = notBefore,
            NotBefore = notBefore.AddSeconds(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    public static string SecretOf(string app) => app switch
    {
        RealtimeNode.App => RealtimeNode.AppSecret,
        RealtimeNode.OtherApp => RealtimeNode.OtherAppSecret,
        _ => throw new ArgumentException($"no test app '{app}'", nameof(app)),
    };
}
