using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Realtime.Server.Apps;
using Realtime.Server.Auth;

namespace Realtime.UnitTests.Foundation;

public sealed class TokenServiceTests
{
    private const string Secret1 = "unit-app1-secret-0123456789abcdefghijkl";
    private const string Secret2 = "unit-app2-secret-0123456789abcdefghijkl";

    private static readonly TokenService Tokens = new(new AppRegistry(new Dictionary<string, AppSettings>
    {
        ["app1"] = new() { Secret = Secret1 },
        ["app2"] = new() { Secret = Secret2 },
    }));

    [Fact]
    public async Task ValidateAsync_IssuedToken_ReturnsAppAndUser()
    {
        var (caller, error) = await Tokens.ValidateAsync(Tokens.Issue("app1", "alice", TimeSpan.FromMinutes(5)));

        Assert.Null(error);
        Assert.Equal(new Caller("app1", "alice", false), caller);
    }

    [Fact]
    public async Task ValidateAsync_AdminToken_CarriesAdminRole()
    {
        var (caller, _) = await Tokens.ValidateAsync(Tokens.Issue("app2", "ops", TimeSpan.FromMinutes(5), admin: true));

        Assert.True(caller!.IsAdmin);
        Assert.Equal("app2", caller.AppId);
    }

    [Fact]
    public async Task ValidateAsync_Expired_Refused()
    {
        var token = Sign(Secret1, "app1", "alice", DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(-5));

        Assert.Null((await Tokens.ValidateAsync(token)).Caller);
    }

    [Fact]
    public async Task ValidateAsync_SignedWithOtherAppsSecret_Refused()
    {
        // Claims to be app1 but is signed with app2's secret.
        var token = Sign(Secret2, "app1", "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));

        Assert.Null((await Tokens.ValidateAsync(token)).Caller);
    }

    [Fact]
    public async Task ValidateAsync_UnknownApp_Refused()
    {
        var token = Sign(Secret1, "nope", "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));

        Assert.Equal("unknown app", (await Tokens.ValidateAsync(token)).Error);
    }

    [Fact]
    public async Task ValidateAsync_NoExpiry_Refused()
    {
        var token = Sign(Secret1, "app1", "alice", DateTime.UtcNow, expires: null);

        Assert.Null((await Tokens.ValidateAsync(token)).Caller);
    }

    [Theory]
    [InlineData("not a token")]
    [InlineData("")]
    [InlineData("a.b.c")]
    public async Task ValidateAsync_Garbage_Refused(string token)
    {
        Assert.Null((await Tokens.ValidateAsync(token)).Caller);
    }

    [Fact]
    public async Task ValidateAsync_InvalidUserId_Refused()
    {
        var token = Sign(Secret1, "app1", "bad/user", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));

        Assert.Equal("invalid sub", (await Tokens.ValidateAsync(token)).Error);
    }

    [Fact]
    public void AppRegistry_ShortSecret_Rejected()
    {
        Assert.Throws<InvalidOperationException>(() =>
            new AppRegistry(new Dictionary<string, AppSettings> { ["x"] = new() { Secret = "short" } }));
    }

    private static string Sign(string secret, string issuer, string user, DateTime notBefore, DateTime? expires)
    {
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Claims = new Dictionary<string, object> { ["sub"] = user },
            IssuedAt = notBefore,
            NotBefore = notBefore.AddSeconds(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        };
        return handler.CreateToken(descriptor);
    }
}
