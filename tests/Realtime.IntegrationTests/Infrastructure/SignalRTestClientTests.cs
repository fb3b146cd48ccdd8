using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Realtime.IntegrationTests.Infrastructure;

public sealed class SignalRTestClientTests(TestHubServer server) : IClassFixture<TestHubServer>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private Task<SignalRTestClient> ConnectAsync(string? device = null) => SignalRTestClient.ConnectAsync(server.HubUrl, "ok", device);

    [Fact]
    public async Task InvokeAsync_EchoMethod_ReturnsResult()
    {
        await using var client = await ConnectAsync();

        var raw = await client.InvokeAsync("Echo", "hello");
        var typed = await client.InvokeAsync<string>("Echo", "again");

        Assert.Equal("hello", raw.GetString());
        Assert.Equal("again", typed);
    }

    [Fact]
    public async Task InvokeAsync_ObjectWithEnum_UsesCamelCaseAndStringEnums()
    {
        await using var client = await ConnectAsync();

        var raw = await client.InvokeAsync("EchoPayload", new Payload("box", Color.Green));
        var typed = await client.InvokeAsync<Payload>("EchoPayload", new Payload("cup", Color.Red));

        Assert.Equal("box", raw.GetProperty("name").GetString());
        Assert.Equal("Green", raw.GetProperty("color").GetString());
        Assert.Equal(new Payload("cup", Color.Red), typed);
    }

    [Fact]
    public async Task InvokeAsync_VoidMethod_ReturnsNull()
    {
        await using var client = await ConnectAsync();

        var result = await client.InvokeAsync("Nothing");

        Assert.Equal(JsonValueKind.Null, result.ValueKind);
    }

    [Fact]
    public async Task InvokeAsync_HubException_ThrowsHubErrorExceptionWithExactMessage()
    {
        await using var client = await ConnectAsync();

        var error = await Assert.ThrowsAsync<HubErrorException>(() => client.InvokeAsync("Fail")).WaitAsync(Limit);

        // SignalR itself wraps a HubException's message; HubMessage is the part the hub threw.
        Assert.Equal("An unexpected error occurred invoking 'Fail' on the server. HubException: [InvalidArgument] bad", error.Message);
        Assert.Equal("[InvalidArgument] bad", error.HubMessage);
        Assert.Equal(3, await client.InvokeAsync<int>("Add", 1, 2)); // the connection is still usable
    }

    [Fact]
    public async Task WaitForAsync_ServerCallsCaller_ReturnsArguments()
    {
        await using var client = await ConnectAsync();

        var pushed = client.WaitForAsync("Pushed");
        await client.InvokeAsync("PushToCaller", "ding");
        var args = await pushed;

        Assert.Equal("ding", Assert.Single(args).GetString());
        Assert.Equal("Pushed", Assert.Single(client.Received).Target);
    }

    [Fact]
    public async Task WaitForAsync_CallAlreadyReceived_ReturnsItOnceThenTimesOut()
    {
        await using var client = await ConnectAsync();
        await client.InvokeAsync("PushToCaller", "early"); // the push precedes the completion on the wire

        var args = await client.WaitForAsync("pushed"); // targets compare case-insensitively
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => client.WaitForAsync("Pushed", timeout: TimeSpan.FromMilliseconds(200))).WaitAsync(Limit);

        Assert.Equal("early", args[0].GetString());
        Assert.Contains("No 'Pushed' call arrived", timeout.Message);
        Assert.Contains("Pushed(\"early\")", timeout.Message);
    }

    [Fact]
    public async Task WaitForAsync_WithPredicate_SkipsNonMatchingCallsAndKeepsThem()
    {
        await using var client = await ConnectAsync();

        var third = client.WaitForAsync("Counted", args => args[0].GetInt32() == 3);
        await client.InvokeAsync("PushMany", 5);

        Assert.Equal(3, (await third)[0].GetInt32());
        Assert.Equal(0, (await client.WaitForAsync("Counted"))[0].GetInt32());
        Assert.Equal(1, (await client.WaitForAsync("Counted"))[0].GetInt32());
        Assert.Equal([0, 1, 2, 3, 4], client.Received.Select(c => c.Args[0].GetInt32()));
    }

    [Fact]
    public async Task InvokeAsync_LargeResult_ArrivesIntact()
    {
        await using var client = await ConnectAsync();

        var result = await client.InvokeAsync<string>("Large", 300_000);

        Assert.Equal(TestHub.MakeLarge(300_000), result);
    }

    [Fact]
    public async Task InvokeAsync_FiftyConcurrentCalls_EachGetsItsOwnResult()
    {
        await using var client = await ConnectAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.InvokeAsync<int>("Add", i, 1000))).WaitAsync(Limit);

        Assert.Equal(Enumerable.Range(1000, 50), results);
    }

    [Fact]
    public async Task Closed_ServerAbortsConnection_CompletesAndFailsPendingInvoke()
    {
        await using var client = await ConnectAsync();
        var hanging = client.InvokeAsync("Hang");

        await client.SendAsync("Abort");
        await client.Closed.WaitAsync(Limit);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => hanging).WaitAsync(Limit);
        Assert.Contains("'Hang'", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.InvokeAsync("Echo", "late")).WaitAsync(Limit);
    }

    [Fact]
    public async Task Closed_ServerClosesWithError_ReturnsCloseMessageError()
    {
        await using var client = await ConnectAsync(device: "explode"); // OnConnectedAsync throws after the handshake

        var error = await client.Closed.WaitAsync(Limit);

        Assert.StartsWith("Connection closed with an error.", error);
    }

    [Fact]
    public async Task CloseAsync_OpenConnection_CompletesClosedWithoutError()
    {
        var client = await ConnectAsync();

        await client.CloseAsync().WaitAsync(Limit);

        Assert.Null(await client.Closed.WaitAsync(Limit));
        await client.DisposeAsync().AsTask().WaitAsync(Limit);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task ConnectAsync_MissingOrWrongToken_ThrowsConnectRefusedWith401(string? token)
    {
        var error = await Assert.ThrowsAsync<ConnectRefusedException>(() => SignalRTestClient.ConnectAsync(server.HubUrl, token)).WaitAsync(Limit);

        Assert.Equal(401, error.StatusCode);
    }

    [Fact]
    public async Task ConnectAsync_QueryToken_SendsTokenAndDeviceInQuery()
    {
        await using var client = await SignalRTestClient.ConnectAsync(server.HubUrl, "ok", device: "tablet 1");

        Assert.Equal("query:tablet 1", await client.InvokeAsync<string>("WhoAmI"));
    }

    [Fact]
    public async Task ConnectAsync_BearerHeader_AuthenticatesWithoutQueryToken()
    {
        await using var client = await SignalRTestClient.ConnectAsync(server.HubUrl, "ok", device: "phone", useBearerHeader: true);

        Assert.Equal("header:phone", await client.InvokeAsync<string>("WhoAmI"));
    }

    [Fact]
    public async Task ConnectAsync_WsScheme_Connects()
    {
        var wsUrl = new UriBuilder(server.HubUrl) { Scheme = "ws" }.Uri;
        await using var client = await SignalRTestClient.ConnectAsync(wsUrl, "ok");

        Assert.Equal("x", await client.InvokeAsync<string>("Echo", "x"));
    }

    [Fact]
    public void Append_RecordsSplitAndBatchedAcrossChunks_ReturnsWholeRecords()
    {
        var splitter = new RecordSplitter();
        var bytes = Encoding.UTF8.GetBytes("{\"a\":1}\u001e{\"b\":\"ü\"}\u001e{\"c\":3}\u001e");

        var first = splitter.Append(bytes.AsSpan(0, 3));                // partial record
        var second = splitter.Append(bytes.AsSpan(3, bytes.Length - 8)); // end of the first, the whole second, start of the third
        var third = splitter.Append(bytes.AsSpan(bytes.Length - 5));     // the rest

        Assert.Empty(first);
        Assert.Equal(["{\"a\":1}", "{\"b\":\"ü\"}"], second.Select(Encoding.UTF8.GetString));
        Assert.Equal(["{\"c\":3}"], third.Select(Encoding.UTF8.GetString));
    }
}

public enum Color { Red, Green }

public sealed record Payload(string Name, Color Color);

/// <summary>A real Kestrel server on a free loopback port hosting <see cref="TestHub"/> at /hubs/test.</summary>
public sealed class TestHubServer : IAsyncLifetime
{
    private WebApplication? _app;

    /// <summary>Cancelled on shutdown; releases invocations of TestHub.Hang.</summary>
    public CancellationTokenSource Release { get; } = new();

    public Uri HubUrl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(this);
        builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        builder.Services.AddSignalR(o => o.MaximumParallelInvocationsPerClient = 8)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapHub<TestHub>("/hubs/test");
        await _app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        HubUrl = new Uri(address.TrimEnd('/') + "/hubs/test");
    }

    public async Task DisposeAsync()
    {
        await Release.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _app.DisposeAsync();
        }
        Release.Dispose();
    }
}

[Authorize]
public sealed class TestHub(TestHubServer server) : Hub
{
    public static string MakeLarge(int length) => string.Create(length, 0, (span, _) =>
    {
        for (var i = 0; i < span.Length; i++) span[i] = (char)('a' + i % 26);
    });

    private string? Device => Context.GetHttpContext()?.Request.Query["device"];

    public override Task OnConnectedAsync() =>
        Device == "explode" ? throw new InvalidOperationException("refusing this device") : Task.CompletedTask;

    public string Echo(string text) => text;

    public int Add(int a, int b) => a + b;

    public Payload EchoPayload(Payload payload) => payload;

    public void Nothing() { }

    public void Fail() => throw new HubException("[InvalidArgument] bad");

    public Task PushToCaller(string text) => Clients.Caller.SendAsync("Pushed", text);

    public async Task PushMany(int count)
    {
        for (var i = 0; i < count; i++) await Clients.Caller.SendAsync("Counted", i);
    }

    public string Large(int length) => MakeLarge(length);

    public Task Hang() => Task.Delay(Timeout.Infinite, server.Release.Token);

    public void Abort() => Context.Abort();

    public string WhoAmI() => $"{Context.User?.FindFirst("source")?.Value}:{Device}";
}

/// <summary>Accepts the token "ok" from the access_token query parameter or an "Authorization: Bearer ok" header.</summary>
public sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var source = Request.Query["access_token"] == "ok" ? "query" : Request.Headers.Authorization == "Bearer ok" ? "header" : null;
        if (source is null) return Task.FromResult(AuthenticateResult.NoResult());
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("source", source)], SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
