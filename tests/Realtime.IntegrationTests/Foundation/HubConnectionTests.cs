using System.Net;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Foundation;

public sealed class HubConnectionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    [Fact]
    public async Task Connect_GoodToken_KnowsAppUserAndDevice()
    {
        await using var client = await SignalRTestClient.ConnectAsync(Node.HubUrl, Node.Token("alice"), "ios-7f3a");

        var me = await client.InvokeAsync("WhoAmI");

        Assert.Equal("app1", me.GetProperty("appId").GetString());
        Assert.Equal("alice", me.GetProperty("userId").GetString());
        Assert.Equal("ios-7f3a", me.GetProperty("device").GetString());
    }

    [Fact]
    public async Task Connect_BearerHeader_Accepted()
    {
        await using var client = await SignalRTestClient.ConnectAsync(Node.HubUrl, Node.Token("bob", RealtimeNode.OtherApp), "web-1", useBearerHeader: true);

        var me = await client.InvokeAsync("WhoAmI");

        Assert.Equal("app2", me.GetProperty("appId").GetString());
    }

    [Fact]
    public async Task Connect_MissingToken_Refused401()
    {
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(Node.HubUrl, null, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_ExpiredToken_Refused401()
    {
        var token = Sign(RealtimeNode.AppSecret, RealtimeNode.App, "alice", DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(-2));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_WronglySignedToken_Refused401()
    {
        var token = Sign("some-other-secret-0123456789abcdefghijkl", RealtimeNode.App, "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_TokenOfOtherAppSignedAsThisApp_Refused401()
    {
        // Issued by app2's back end but claiming to be app1: app1's key does not verify it.
        var token = Sign(RealtimeNode.OtherAppSecret, RealtimeNode.App, "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_UnknownApp_Refused401()
    {
        var token = Sign(RealtimeNode.AppSecret, "ghost-app", "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_AdminToken_Refused403()
    {
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() =>
            SignalRTestClient.ConnectAsync(Node.HubUrl, Node.Token("backend", admin: true), "d1"));
        Assert.Equal(403, e.StatusCode);
    }

    [Fact]
    public async Task Connect_BadDevice_Refused400()
    {
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(Node.HubUrl, Node.Token("alice"), "bad device!"));
        Assert.Equal(400, e.StatusCode);
    }

    [Fact]
    public async Task Invoke_BadRequest_ErrorStartsWithCode()
    {
        await using var client = await Node.ConnectAsync("alice");

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => client.InvokeAsync("CreateGroup", new { type = "Public", name = "x", colour = "red" }));

        Assert.Contains("colour", message);
    }

    [Fact]
    public async Task Healthz_And_Readyz_Answer200()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(Node.BaseUrl, "/healthz"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(Node.BaseUrl, "/readyz"))).StatusCode);
    }

    private static string Sign(string secret, string issuer, string user, DateTime notBefore, DateTime expires) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Claims = new Dictionary<string, object> { ["sub"] = user },
            IssuedAt = notBefore,
            NotBefore = notBefore.AddSeconds(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
}
