using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Apps;

namespace Realtime.IntegrationTests.DevSample;

/// <summary>
/// The Development-only sign-in and web sample (server/Realtime.Server/DevSample): a user name in, a demo-app
/// token out that connects; bad input answers the spec's error; in Production neither exists.
/// </summary>
public sealed class DevSampleTests
{
    private static string SamplePath => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../client-samples/web"));

    private static Dictionary<string, string?> WithSample() => new() { ["Realtime:DevSample:Path"] = SamplePath };

    private static Task<HttpResponseMessage> SignInAsync(HttpClient http, string body) =>
        http.PostAsync("/dev/sign-in", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Development_SignIn_IssuesADemoTokenThatConnectsAsThatUser()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: WithSample(), environment: "Development");
        using var http = new HttpClient { BaseAddress = node.BaseUrl };

        using var response = await SignInAsync(http, """{"userId":"alice"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([AppRegistry.DemoAppId, "alice"], [body.Str("appId"), body.Str("userId")]);
        Assert.Equal(86400, body.Long("expiresIn"));

        await using var terminal = await TestTerminal.ConnectAsync(node.HubUrl, body.Str("token"), "browser");
        var me = await terminal.InvokeAsync("WhoAmI");
        Assert.Equal([AppRegistry.DemoAppId, "alice"], [me.Str("appId"), me.Str("userId")]);
    }

    [Theory]
    [InlineData("""{"userId":"a b"}""", "userId: must be 1-64 chars")]
    [InlineData("""{"userId":""}""", "userId: must be 1-64 chars")]
    [InlineData("""{}""", "userId: must be 1-64 chars")]
    [InlineData("""{"userId":"alice","admin":true}""", "unknown field 'admin'")]
    [InlineData("""{"userId":7}""", "userId")]
    [InlineData("""not json""", "not valid JSON")]
    public async Task Development_SignInWithABadBody_InvalidArgumentNamingTheField(string requestBody, string expected)
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, environment: "Development");
        using var http = new HttpClient { BaseAddress = node.BaseUrl };

        using var response = await SignInAsync(http, requestBody);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("InvalidArgument", body.Str("error"));
        Assert.Equal(10001, body.Long("code"));
        Assert.Contains(expected, body.Str("error_description"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_WithTheRealSamplePath_ServesThePageAndTheSharedModule()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: WithSample(), environment: "Development");
        using var http = new HttpClient { BaseAddress = node.BaseUrl };

        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"signin-form\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var module = await http.GetAsync("/js/realtime-client.mjs");
        Assert.Equal(HttpStatusCode.OK, module.StatusCode);
        Assert.Equal("text/javascript", module.Content.Headers.ContentType?.MediaType);
        Assert.Contains("export class RealtimeClient", await module.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_SampleTree_ServesPageFilesModuleAndBrowserBuildsOnly()
    {
        // A sample tree of this test's own: web/ (page, package.json, node_modules) beside js/ and a file above both.
        var root = Directory.CreateTempSubdirectory("devsample-");
        try
        {
            void Write(string relative, string text)
            {
                var file = Path.Combine(root.FullName, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, text);
            }
            Write("web/index.html", "<p>page</p>");
            Write("web/app.js", "// app");
            Write("web/package.json", "{}");
            Write("web/node_modules/@microsoft/signalr/dist/browser/signalr.min.js", "// build");
            Write("web/node_modules/@microsoft/signalr/package.json", "{}");
            Write("web/node_modules/other/index.js", "// not for the page");
            Write("js/realtime-client.mjs", "// module");
            Write("secret.txt", "above the sample");

            await using var database = await TestDatabase.CreateAsync();
            var settings = new Dictionary<string, string?> { ["Realtime:DevSample:Path"] = Path.Combine(root.FullName, "web") };
            await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: settings, environment: "Development");
            using var http = new HttpClient { BaseAddress = node.BaseUrl };

            foreach (var (path, body, type) in new[]
            {
                ("/", "<p>page</p>", "text/html"),
                ("/app.js", "// app", "text/javascript"),
                ("/js/realtime-client.mjs", "// module", "text/javascript"),
                ("/node_modules/@microsoft/signalr/dist/browser/signalr.min.js", "// build", "text/javascript"),
            })
            {
                using var response = await http.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(body, await response.Content.ReadAsStringAsync());
                Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            }
            foreach (var path in new[] { "/package.json", "/node_modules/@microsoft/signalr/package.json", "/node_modules/other/index.js", "/secret.txt", "/js/../secret.txt", "/%2e%2e/secret.txt" })
            {
                using var response = await http.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Production_NeitherSignInNorSample_404()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: WithSample());
        using var http = new HttpClient { BaseAddress = node.BaseUrl };

        using var signIn = await SignInAsync(http, """{"userId":"alice"}""");
        Assert.Equal(HttpStatusCode.NotFound, signIn.StatusCode);
        foreach (var path in new[] { "/", "/index.html", "/js/realtime-client.mjs" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }
}
