using System.Net;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Foundation;

public sealed class HubConnectionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    [Fact]
    public async Task Connect_GoodToken_KnowsAppUserAndDevice()
    {
        await using var client = await TestTerminal.ConnectAsync(Node.HubUrl, TestTokens.Issue("alice"), "ios-7f3a");

        var me = await client.InvokeAsync("WhoAmI");

        Assert.Equal("app1", me.GetProperty("appId").GetString());
        Assert.Equal("alice", me.GetProperty("userId").GetString());
        Assert.Equal("ios-7f3a", me.GetProperty("device").GetString());
    }

    [Fact]
    public async Task Connect_BearerHeader_Accepted()
    {
        await using var client = await TestTerminal.ConnectAsync(Node.HubUrl, TestTokens.Issue("bob", RealtimeNode.OtherApp), "web-1", useBearerHeader: true);

        var me = await client.InvokeAsync("WhoAmI");

        Assert.Equal("app2", me.GetProperty("appId").GetString());
    }

    [Fact]
    public async Task Connect_MissingToken_Refused401()
    {
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(Node.HubUrl, null, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_ExpiredToken_Refused401()
    {
        var token = TestTokens.Sign(RealtimeNode.AppSecret, RealtimeNode.App, "alice", DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(-2));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_WronglySignedToken_Refused401()
    {
        var token = TestTokens.Sign("some-other-secret-0123456789abcdefghijkl", RealtimeNode.App, "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_TokenOfOtherAppSignedAsThisApp_Refused401()
    {
        // Issued by app2's back end but claiming to be app1: app1's key does not verify it.
        var token = TestTokens.Sign(RealtimeNode.OtherAppSecret, RealtimeNode.App, "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_UnknownApp_Refused401()
    {
        var token = TestTokens.Sign(RealtimeNode.AppSecret, "ghost-app", "alice", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5));
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(Node.HubUrl, token, "d1"));
        Assert.Equal(401, e.StatusCode);
    }

    [Fact]
    public async Task Connect_AdminToken_Refused403()
    {
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() =>
            RawHubSocket.ConnectAsync(Node.HubUrl, TestTokens.Issue("backend", admin: true), "d1"));
        Assert.Equal(403, e.StatusCode);
    }

    [Fact]
    public async Task Connect_BadDevice_Refused400()
    {
        var e = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(Node.HubUrl, TestTokens.Issue("alice"), "bad device!"));
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
}
