using System.Net;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

/// <summary>Who may call the admin API of which app (SPEC §6), the envelope and the error body.</summary>
public sealed class AdminAccessTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    [Fact]
    public async Task AnyRoute_NoToken_Unauthorized()
    {
        using var rest = new RestClient(Node, token: null);

        var description = (await rest.GetAsync("/chatgroups")).Fails(ErrorCode.Unauthorized);

        Assert.Contains("admin token", description);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhcHAxIiwic3ViIjoieCJ9.c2lnbmF0dXJl")]
    public async Task AnyRoute_InvalidToken_Unauthorized(string token)
    {
        using var rest = new RestClient(Node, token);

        (await rest.PostAsync("/chatgroups", new { groupname = "g", @public = true, owner = "o" })).Fails(ErrorCode.Unauthorized);
    }

    [Fact]
    public async Task AnyRoute_ExpiredAdminToken_Unauthorized()
    {
        using var rest = new RestClient(Node, TestTokens.Issue("backend", admin: true, lifetime: TimeSpan.FromMinutes(-5)));

        (await rest.GetAsync("/chatgroups")).Fails(ErrorCode.Unauthorized);
    }

    [Fact]
    public async Task AnyRoute_TokenOfUnconfiguredApp_Unauthorized()
    {
        // Signed with a key no configured app has: indistinguishable from a forged token.
        using var rest = new RestClient(Node, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJub2FwcCIsInN1YiI6ImJhY2tlbmQiLCJyb2xlIjoiYWRtaW4iLCJleHAiOjQxMDI0NDQ4MDB9.AAAA", "noapp");

        (await rest.GetAsync("/chatgroups")).Fails(ErrorCode.Unauthorized);
    }

    [Fact]
    public async Task AnyRoute_UserToken_PermissionDenied()
    {
        using var rest = new RestClient(Node, TestTokens.Issue("alice"));

        (await rest.GetAsync("/chatgroups")).Fails(ErrorCode.PermissionDenied);
        (await rest.PostAsync("/token", new { username = "alice" })).Fails(ErrorCode.PermissionDenied);
    }

    [Fact]
    public async Task AnyRoute_AdminTokenOfOtherApp_PermissionDenied()
    {
        using var other = RestClient.Admin(Node, RealtimeNode.OtherApp);

        var response = await other.SendAsync(HttpMethod.Get, "/chatgroups", app: RealtimeNode.App);

        response.Fails(ErrorCode.PermissionDenied);
    }

    [Fact]
    public async Task AdminTokenOfOtherApp_GroupOfFirstApp_NeitherReadNorChanged()
    {
        using var admin = RestClient.Admin(Node);
        using var other = RestClient.Admin(Node, RealtimeNode.OtherApp);
        var groupId = await admin.CreateGroupAsync(new { groupname = "mine", @public = true, owner = "o1" });
        var path = $"/chatgroups/{RestClient.Escape(groupId)}";

        // Through its own app the group does not exist; through ours the token is refused.
        (await other.GetAsync(path)).Fails(ErrorCode.GroupNotFound);
        (await other.DeleteAsync(path)).Fails(ErrorCode.GroupNotFound);
        (await other.SendAsync(HttpMethod.Delete, path, app: RealtimeNode.App)).Fails(ErrorCode.PermissionDenied);

        Assert.Equal("mine", (await admin.GetAsync(path)).Ok()[0].Str("name"));
    }

    [Fact]
    public async Task AnyRoute_UnknownAppWithAdminToken_NotFound()
    {
        using var admin = RestClient.Admin(Node);

        var response = await admin.SendAsync(HttpMethod.Get, "/chatgroups", app: "no-such-app");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Contains("no-such-app", response.Body.Str("error_description"));
    }

    [Fact]
    public async Task AnyRoute_UnknownAppWithUserOrNoToken_TellsNothingAboutApps()
    {
        using var user = new RestClient(Node, TestTokens.Issue("alice"));
        using var anonymous = new RestClient(Node, token: null);

        (await user.SendAsync(HttpMethod.Get, "/chatgroups", app: "no-such-app")).Fails(ErrorCode.PermissionDenied);
        (await user.SendAsync(HttpMethod.Get, "/chatgroups", app: RealtimeNode.OtherApp)).Fails(ErrorCode.PermissionDenied);
        (await anonymous.SendAsync(HttpMethod.Get, "/chatgroups", app: "no-such-app")).Fails(ErrorCode.Unauthorized);
        (await anonymous.SendAsync(HttpMethod.Get, "/chatgroups", app: RealtimeNode.OtherApp)).Fails(ErrorCode.Unauthorized);
    }

    [Fact]
    public async Task Success_Envelope_HasSpecFields()
    {
        using var admin = RestClient.Admin(Node);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var response = await admin.PostAsync("/chatgroups", new { groupname = "envelope", @public = true, owner = "o1" });

        response.Ok();
        var body = response.Body;
        Assert.Equal("post", body.Str("action"));
        Assert.Equal(RealtimeNode.App, body.Str("application"));
        Assert.Equal("/chatgroups", body.Str("path"));
        Assert.EndsWith($"/v1/apps/{RealtimeNode.App}/chatgroups", body.Str("uri"));
        Assert.Equal(0, body.GetProperty("entities").GetArrayLength());
        Assert.InRange(body.Long("timestamp"), before, before + 60_000);
        Assert.True(body.Long("duration") >= 0);
    }

    [Fact]
    public async Task Failure_Body_HasSpecFieldsOnly()
    {
        using var admin = RestClient.Admin(Node);

        var response = await admin.GetAsync("/chatgroups/nosuchgroup");

        response.Fails(ErrorCode.GroupNotFound);
        Assert.Equal(["error", "code", "error_description", "timestamp"], response.Body.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public async Task Token_Issued_ConnectsToHubAsThatUser()
    {
        using var admin = RestClient.Admin(Node);

        var data = (await admin.PostAsync("/token", new { username = "tok.user", ttl = 600 })).Ok();

        Assert.Equal(600, data.Long("expires_in"));
        Assert.Equal("tok.user", data.GetProperty("user").Str("username"));
        await using var client = await TestTerminal.ConnectAsync(Node.HubUrl, data.Str("access_token"), "d1");
        var me = await client.InvokeAsync("WhoAmI");
        Assert.Equal("tok.user", me.Str("userId"));
        Assert.Equal(RealtimeNode.App, me.Str("appId"));
    }

    [Fact]
    public async Task Token_IssuedUserToken_IsNotAnAdminToken()
    {
        using var admin = RestClient.Admin(Node);
        var token = (await admin.PostAsync("/token", new { username = "plain" })).Ok().Str("access_token");
        using var asUser = new RestClient(Node, token);

        (await asUser.GetAsync("/chatgroups")).Fails(ErrorCode.PermissionDenied);
    }

    [Theory]
    [InlineData("""{"ttl": 60}""", "username")]
    [InlineData("""{"username": "bad user"}""", "username")]
    [InlineData("""{"username": "u", "ttl": 0}""", "ttl")]
    [InlineData("""{"username": "u", "ttl": 99999999}""", "ttl")]
    [InlineData("""{"username": "u", "role": "admin"}""", "role")]
    [InlineData("""{"username": 5}""", "username")]
    [InlineData("""not json""", "request")]
    public async Task Token_BadBody_InvalidArgumentNamingField(string body, string field)
    {
        using var admin = RestClient.Admin(Node);

        var description = (await admin.PostAsync("/token", body)).Fails(ErrorCode.InvalidArgument);

        Assert.Contains(field, description);
    }

    [Fact]
    public async Task OpenApi_Document_ListsEveryRoute()
    {
        using var anonymous = new RestClient(Node, token: null);

        var (status, text) = await anonymous.GetRawAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = System.Text.Json.JsonDocument.Parse(text);
        var paths = doc.RootElement.GetProperty("paths");
        var expected = new (string Path, string Method)[]
        {
            ("/v1/apps/{appId}/chatgroups", "post"),
            ("/v1/apps/{appId}/chatgroups", "get"),
            ("/v1/apps/{appId}/chatgroups/{ids}", "get"),
            ("/v1/apps/{appId}/chatgroups/{id}", "put"),
            ("/v1/apps/{appId}/chatgroups/{id}", "delete"),
            ("/v1/apps/{appId}/chatgroups/{id}/disable", "post"),
            ("/v1/apps/{appId}/chatgroups/{id}/enable", "post"),
            ("/v1/apps/{appId}/chatgroups/{id}/owner", "put"),
            ("/v1/apps/{appId}/users/{user}/joined_chatgroups", "get"),
            ("/v1/apps/{appId}/token", "post"),
            ("/v1/apps/{appId}/chatgroups/{id}/users", "get"),
            ("/v1/apps/{appId}/chatgroups/{id}/users", "post"),
            ("/v1/apps/{appId}/chatgroups/{id}/users/{users}", "delete"),
            ("/v1/apps/{appId}/chatgroups/{id}/admin", "post"),
            ("/v1/apps/{appId}/chatgroups/{id}/admin/{user}", "delete"),
            ("/v1/apps/{appId}/chatgroups/{id}/mute", "post"),
            ("/v1/apps/{appId}/chatgroups/{id}/mute/{users}", "delete"),
        };
        foreach (var (path, method) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"OpenAPI lacks {path}: {string.Join(", ", paths.EnumerateObject().Select(p => p.Name))}");
            Assert.True(item.TryGetProperty(method, out var operation), $"OpenAPI lacks {method} {path}");
            if (method is "post" or "put" && !path.EndsWith("able", StringComparison.Ordinal))
                Assert.True(operation.TryGetProperty("requestBody", out _), $"OpenAPI lacks the body of {method} {path}");
        }
        var created = paths.GetProperty("/v1/apps/{appId}/chatgroups").GetProperty("post").GetProperty("responses");
        Assert.EndsWith("/AdminEnvelope", created.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").Str("$ref"));
        Assert.EndsWith("/AdminError", created.GetProperty("403").GetProperty("content").GetProperty("application/json").GetProperty("schema").Str("$ref"));
    }
}
