using System.Net;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Admin;

public sealed class AdminDocsTests
{
    private static readonly Dictionary<string, string?> DocsOn = new() { ["Realtime:Docs:Enabled"] = "true" };

    [Fact]
    public async Task Docs_Enabled_ServesTheScalarPageOverTheOpenApiDocument()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: DocsOn);
        using var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };

        using var page = await http.GetAsync("/docs");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Realtime admin REST API", html);
        // The page is self-contained: Scalar's scripts come from the node (the package embeds them), no CDN.
        var at = page.RequestMessage!.RequestUri!;
        foreach (var script in new[] { "scalar.js", "scalar.aspnetcore.js" })
        {
            Assert.Contains($"src=\"{script}\"", html);
            using var asset = await http.GetAsync(new Uri(at, script));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Contains("javascript", asset.Content.Headers.ContentType?.MediaType);
        }
        // Scalar resolves the document's URL against the site root less the page's path (/docs/): /openapi/v1.json.
        Assert.Equal("/docs/", at.AbsolutePath);
        Assert.Contains("'%2Fdocs%2F'", html);
        Assert.Contains("\"url\":\"openapi/v1.json\"", html);
    }

    [Fact]
    public async Task Docs_ProductionByDefault_NotServedButTheDocumentIs()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString);
        using var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/docs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_Examples_PresentAndShapedLikeRealAnswers()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString);
        using var rest = RestClient.Admin(node);
        var (status, text) = await rest.GetRawAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, status);
        var paths = JsonDocument.Parse(text).RootElement.GetProperty("paths");

        var create = paths.GetProperty("/v1/apps/{appId}/chatgroups").GetProperty("post");
        var request = create.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        var answer = Example(create, "200");
        Assert.Equal("post", answer.GetProperty("action").GetString());
        var notFound = Example(create, "404");
        Assert.Equal("GroupNotFound", notFound.GetProperty("error").GetString());
        Assert.Equal(10004, notFound.GetProperty("code").GetInt32());

        // The request example is a valid request, and the real answer has the example's fields.
        var created = (await rest.PostAsync("/chatgroups", request.GetRawText())).Ok();
        Assert.Equal(Names(answer.GetProperty("data")), Names(created));
        var groupId = created.GetProperty("groupid").GetString()!;

        var details = Example(paths.GetProperty("/v1/apps/{appId}/chatgroups/{ids}").GetProperty("get"), "200").GetProperty("data");
        var real = (await rest.GetAsync($"/chatgroups/{Uri.EscapeDataString(groupId)}")).Ok();
        Assert.Equal(Names(details[0]), Names(real[0]));

        var add = paths.GetProperty("/v1/apps/{appId}/chatgroups/{id}/users").GetProperty("post");
        var added = (await rest.PostAsync($"/chatgroups/{Uri.EscapeDataString(groupId)}/users",
            add.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").GetRawText())).Ok();
        Assert.Equal(Names(Example(add, "200").GetProperty("data")), Names(added));

        var token = paths.GetProperty("/v1/apps/{appId}/token").GetProperty("post");
        var issued = (await rest.PostAsync("/token",
            token.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").GetRawText())).Ok();
        Assert.Equal(Names(Example(token, "200").GetProperty("data")), Names(issued));
    }

    private static JsonElement Example(JsonElement operation, string status) =>
        operation.GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty("application/json").GetProperty("example");

    private static List<string> Names(JsonElement obj) => obj.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
}
