using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>
/// Hostile input on the admin REST API and HTTP in general (issue "Hardening" 2, 5, 9): NUL refused,
/// the body limit counted on bytes read, JSON only, and every framework-made error with the SPEC §6 body.
/// </summary>
public sealed class HostileRestTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static void AssertErrorBody(HttpStatusCode expected, HttpStatusCode status, string text)
    {
        Assert.Equal(expected, status);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.True(Enum.TryParse<ErrorCode>(body.Str("error"), out var code), text);
        Assert.Equal((int)code, body.Int("code"));
        Assert.False(string.IsNullOrEmpty(body.Str("error_description")));
        Assert.True(body.Long("timestamp") > 0);
    }

    [Theory]
    [InlineData("groupname", """{"groupname":"a\u0000","owner":"o1"}""")]
    [InlineData("desc", """{"groupname":"g","desc":"\u0000","owner":"o1"}""")]
    [InlineData("custom", """{"groupname":"g","custom":"x\u0000","owner":"o1"}""")]
    [InlineData("groupname", """{"groupname":"\ud800","owner":"o1"}""")]
    public async Task CreateChatGroup_NulOrLoneSurrogate_InvalidArgumentNamingTheField(string field, string body)
    {
        using var rest = RestClient.Admin(Node);
        var before = (await rest.GetAsync("/chatgroups?limit=100")).Ok().GetArrayLength();
        var description = (await rest.PostAsync("/chatgroups", body)).Fails(ErrorCode.InvalidArgument);
        Assert.Contains(field, description);
        Assert.Equal(before, (await rest.GetAsync("/chatgroups?limit=100")).Ok().GetArrayLength());
    }

    [Fact]
    public async Task Body_ChunkedPastTheLimit_RefusedWithoutReadingItAll()
    {
        // 25 MB with no Content-Length, over a raw socket: the server must answer once its limit is
        // passed, not buffer the lot (a client library would give up on the first failed write).
        using var tcp = new System.Net.Sockets.TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tcp.ConnectAsync(Node.BaseUrl.Host, Node.BaseUrl.Port, timeout.Token);
        var stream = tcp.GetStream();
        var head = $"POST /v1/apps/{RealtimeNode.App}/chatgroups HTTP/1.1\r\nHost: {Node.BaseUrl.Authority}\r\n"
            + $"Authorization: Bearer {TestTokens.Issue("backend", admin: true)}\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + "e\r\n{\"groupname\":\"\r\n"), timeout.Token);
        var chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string('x', 0x10000)}\r\n");
        long sent = 0;
        var answer = new byte[64 * 1024];
        var reading = stream.ReadAsync(answer, timeout.Token).AsTask();
        try
        {
            while (sent < 25 * 1024 * 1024 && !reading.IsCompleted)
            {
                await stream.WriteAsync(chunk, timeout.Token);
                sent += 0x10000;
            }
        }
        catch (IOException)
        {
            // The server answered and closed: it stopped reading, which is the point.
        }
        var read = await reading;
        var response = Encoding.UTF8.GetString(answer, 0, read);
        Assert.True(response.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), response);
        Assert.Contains("\"error\":\"InvalidArgument\"", response);
        Assert.True(sent < 8 * 1024 * 1024, $"the client sent {sent} bytes before the server answered");
    }

    [Fact]
    public async Task Body_WithoutJsonContentType_Refused()
    {
        using var http = new HttpClient { BaseAddress = Node.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Issue("backend", admin: true));
        using var response = await http.PostAsync($"/v1/apps/{RealtimeNode.App}/chatgroups",
            new StringContent("""{"groupname":"g","owner":"o1"}""", Encoding.UTF8, "text/plain"));
        AssertErrorBody(HttpStatusCode.UnsupportedMediaType, response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string, HttpStatusCode> FrameworkErrors() => new()
    {
        { "GET", "/v1/apps/app1/nothing-here", HttpStatusCode.NotFound },
        { "GET", "/no/such/path", HttpStatusCode.NotFound },
        { "PATCH", "/v1/apps/app1/chatgroups", HttpStatusCode.MethodNotAllowed },
        { "GET", "/hubs/groups?device=d", HttpStatusCode.Unauthorized },
        { "GET", "/v1/apps/app1/chatgroups?x=" + new string('a', 10_000), HttpStatusCode.RequestUriTooLong },
    };

    [Theory]
    [MemberData(nameof(FrameworkErrors))]
    public async Task FrameworkError_AnsweredWithTheSpecErrorBody(string method, string path, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = Node.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Issue("backend", admin: true));
        if (path.StartsWith("/hubs", StringComparison.Ordinal)) http.DefaultRequestHeaders.Authorization = null;
        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        AssertErrorBody(expected, response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HeadersTooLarge_431WithTheSpecErrorBody()
    {
        using var http = new HttpClient { BaseAddress = Node.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        for (var i = 0; i < 10; i++) request.Headers.Add($"X-Big-{i}", new string('h', 4000));
        using var response = await http.SendAsync(request);
        AssertErrorBody(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode, await response.Content.ReadAsStringAsync());
    }

}
