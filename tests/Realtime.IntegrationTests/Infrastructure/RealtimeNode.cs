using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Realtime.Server;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>One real server node: Kestrel on a loopback port, against a test database.</summary>
public sealed class RealtimeNode : IAsyncDisposable
{
    public const string App = "app1";
    public const string OtherApp = "app2";
    public const string AppSecret = "app1-test-secret-0123456789abcdefghij";
    public const string OtherAppSecret = "app2-test-secret-0123456789abcdefghij";

    private RealtimeNode(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    private readonly WebApplication _app;

    public Uri BaseUrl { get; }

    public Uri HubUrl => new(BaseUrl, "/hubs/groups");

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a node; <paramref name="environment"/> (e.g. "Development") as `--environment` gives it, Production by default.</summary>
    public static async Task<RealtimeNode> StartAsync(
        string connectionString, string nodeId = "node-1", string? redis = null, IDictionary<string, string?>? settings = null, string? environment = null)
    {
        var app = RealtimeApp.Build(environment is null ? [] : ["--environment", environment], builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var config = new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = connectionString,
                ["ConnectionStrings:Redis"] = redis,
                // Reads (Sync, listings) go through the test standby whenever the test command started one.
                ["ConnectionStrings:PostgresRead"] = TestEnvironment.PostgresRead is null ? null
                    : TestEnvironment.ReadConnectionFor(new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!),
                ["Realtime:NodeId"] = nodeId,
                [$"Realtime:Apps:{App}:Secret"] = AppSecret,
                [$"Realtime:Apps:{OtherApp}:Secret"] = OtherAppSecret,
                ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("REALTIME_TEST_LOGLEVEL") ?? "Warning",
            };
            // Tests fire commands as fast as they can; the rate limits have tests of their own, which set them.
            foreach (var app in new[] { App, OtherApp })
            {
                foreach (var rateClass in new[] { "Messages", "Creates", "Writes", "Reads", "Rest" })
                    config[$"Realtime:Apps:{app}:RateLimits:{rateClass}PerSecond"] = "0";
                config[$"Realtime:Apps:{app}:RateLimits:TerminalsPerUser"] = "0";
            }
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;
            builder.Configuration.AddInMemoryCollection(config);
        });
        await RealtimeApp.StartAsync(app);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new RealtimeNode(app, new Uri(address));
    }

    public Task<TestTerminal> ConnectAsync(string user, string device = "d1", string app = App) =>
        TestTerminal.ConnectAsync(HubUrl, TestTokens.Issue(user, app), device);

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
