using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Realtime.Backplane.Redis;
using Realtime.Protocol;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Groups;
using Realtime.Server.History;
using Realtime.Server.Membership;
using Realtime.Server.Messaging;
using Npgsql;
using Realtime.Server.Admin;
using Realtime.Server.Apps;
using Realtime.Server.Auth;
using Realtime.Server.Callbacks;
using Realtime.Server.Data;
using Realtime.Server.DevSample;
using Realtime.Server.Errors;
using Realtime.Server.Hubs;
using Realtime.Server.Operations;
using Realtime.Server.RateLimits;
using Realtime.Server.Telemetry;
using Realtime.Server.Terminals;
using Realtime.Server.WebPush;

namespace Realtime.Server;

/// <summary>The composition root: what a node is made of and how it starts.</summary>
public static class RealtimeApp
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Invocations one terminal may have running at once (SignalR's default is 1).</summary>
    public const int ParallelInvocationsPerTerminal = 32;

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(HttpErrors.ConfigureKestrel);
        builder.Logging.ClearProviders().AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        // SignalR logs every HubException as an error with a stack trace; ours are expected answers
        // ([GroupNotFound], ...), and HubErrorFilter logs the unexpected ones itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.Critical);
        configure?.Invoke(builder);
        AddServices(builder.Services, builder.Configuration);

        var app = builder.Build();
        MapEndpoints(app);
        // Created now, so the exporter sees every instrument and counts from the first command.
        app.Services.GetRequiredService<PrometheusExporter>();
        app.Services.GetRequiredService<RealtimeMetrics>();
        // Now, so that a bad VAPID key stops the node at start-up, not its first push.
        app.Services.GetRequiredService<VapidKeys>();
        var terminals = app.Services.GetRequiredService<LocalTerminals>();
        app.Lifetime.ApplicationStopping.Register(terminals.CloseAll);
        return app;
    }

    /// <summary>Migrates the database, registers the configured apps, then starts listening.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken ct = default)
    {
        await app.Services.GetRequiredService<Migrator>().MigrateAsync(ct);
        await app.Services.GetRequiredService<LogPartitions>().EnsureAheadAsync(ct);
        await RegisterAppsAsync(app.Services, ct);
        await app.Services.GetRequiredService<Presence>().StartNodeAsync(ct);
        await app.StartAsync(ct);
    }

    private static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<RealtimeOptions>(configuration.GetSection("Realtime"));
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));

        services.AddSingleton(_ =>
        {
            var builder = new NpgsqlDataSourceBuilder(configuration.GetConnectionString("Postgres")
                ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured (scripts/run.sh starts a private PostgreSQL)."));
            // The hot statements (a message's seq and row, a member lookup) run thousands of times a
            // second: prepared, PostgreSQL parses and plans each once per connection. `Max Auto Prepare`
            // in the connection string overrides this (0 turns it off, e.g. behind a pooler that cannot keep them).
            if (!builder.ConnectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
            {
                builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
                builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            }
            return builder.Build();
        });
        services.AddSingleton<Db>();
        // Optional hot standby for reads (Data/ReadRouter.cs). A short connect timeout unless the
        // string names one: a replica that does not answer costs reads little before they go to the primary.
        if (configuration.GetConnectionString("PostgresRead") is { Length: > 0 } readReplica)
        {
            services.AddSingleton(_ =>
            {
                var builder = new NpgsqlDataSourceBuilder(readReplica);
                if (!readReplica.Contains("Timeout", StringComparison.OrdinalIgnoreCase)) builder.ConnectionStringBuilder.Timeout = 3;
                return new ReplicaDataSource(builder.Build());
            });
        }
        services.Configure<ReadReplicaOptions>(configuration.GetSection("Realtime:ReadReplica"));
        services.AddSingleton<ReadRouter>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<AppRegistry>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<TokenRevocations>();
        services.AddSingleton<TerminalCloser>();

        services.AddAuthentication(RealtimeAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, RealtimeAuthenticationHandler>(RealtimeAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CommandRunner>();
        services.AddSingleton<GroupCommit>();
        services.AddSingleton<Publisher>();
        services.AddSingleton<TerminalAttacher>();
        services.AddHostedService(sp => sp.GetRequiredService<TerminalAttacher>());
        services.AddSingleton<LocalTerminals>();
        services.AddMetrics();
        services.AddSingleton<RealtimeMetrics>();
        services.AddRealtimeTracing(configuration);
        services.AddSingleton(sp => new PrometheusExporter(sp.GetRequiredService<IMeterFactory>(), [BackplaneMeter.Name]));
        services.AddSingleton<GroupCommands>();
        services.AddSingleton<MembershipChanges>();
        services.AddSingleton<JoinCommands>();
        services.AddSingleton<MemberCommands>();
        services.AddSingleton<UserListCommands>();
        services.AddSingleton<MessageCommands>();
        services.AddSingleton<Realtime.Server.GroupState.GroupStateCommands>();
        services.AddSingleton<SyncService>();
        services.AddHistoryLinksSearch();
        services.Configure<OutboxOptions>(configuration.GetSection("Realtime:Outbox"));
        services.AddHttpClient(BeforeCallbacks.HttpClientName);
        services.AddSingleton<BeforeCallbacks>();
        services.AddSingleton<OutboxSignal>();
        services.AddWebPush(configuration);
        services.AddSingleton<OutboxWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxWorker>());
        services.AddSingleton<Presence>();
        services.AddHostedService(sp => sp.GetRequiredService<Presence>());
        services.AddSingleton<LogPartitions>();
        services.AddSingleton<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());

        services.AddSingleton<RealtimeRateLimiter>();
        services.AddAdminApi();
        services.AddSingleton<IUserIdProvider, AppUserIdProvider>();
        var signalR = services.AddSignalR(o =>
            {
                // The error filter is outermost; the metrics filter inside it still sees our typed errors.
                o.AddFilter<HubErrorFilter>();
                // Only where traces are exported: otherwise it would be one more async step around every call, for nothing.
                if (RealtimeTracing.Endpoint(configuration) is not null) o.AddFilter<HubTracingFilter>();
                o.AddFilter<HubMetricsFilter>();
                o.AddFilter<RateLimitFilter>();
                // Every hub method error is already ours (HubErrorFilter) and OnConnectedAsync maps its own, so the
                // details left are SignalR's words about the client's own frames (argument counts, bad JSON, an
                // unknown frame type), which a client needs to hear; SpecErrorHubProtocol puts the code in front.
                o.EnableDetailedErrors = true;
                // Room for a Sync request carrying cursors for every group a user may be in.
                o.MaximumReceiveMessageSize = 256 * 1024;
                // A terminal may pipeline: its invocations run side by side, and GroupCommit keeps
                // its commands to one group in the order it sent them.
                o.MaximumParallelInvocationsPerClient = ParallelInvocationsPerTerminal;
                // Each push is serialized once per offered protocol and crosses the backplane in every one of them.
                o.SupportedProtocols = HubProtocols(configuration);
            })
            .AddJsonProtocol(o => RealtimeJson.Configure(o.PayloadSerializerOptions));
        services.RemoveAll<IHubProtocol>();
        services.AddSingleton<IHubProtocol>(sp =>
            new SpecErrorHubProtocol(new JsonHubProtocol(sp.GetRequiredService<IOptions<JsonHubProtocolOptions>>())));
        // MessagePack writes and reads through the JSON protocol's own options (see JsonMessagePack): one wire shape.
        services.AddSingleton<IHubProtocol>(sp => new SpecErrorHubProtocol(new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions
        {
            SerializerOptions = JsonMessagePack.SerializerOptions(sp.GetRequiredService<IOptions<JsonHubProtocolOptions>>().Value.PayloadSerializerOptions),
        }))));

        var redis = configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            // Not SignalR's default manager: its group sends wait for every member's socket. Of
            // Realtime:Redis, MaxQueuedBytesPerConnection and SlowConsumerTimeout apply here too.
            signalR.AddRealtimeLocal(o => configuration.GetSection("Realtime:Redis").Bind(o));
        }
        else
        {
            // Realtime:Redis holds ChannelPrefix, AckTimeout, OperationTimeout, SlowConsumerTimeout,
            // MaxQueuedBytesPerConnection, ReconnectInterval.
            signalR.AddRealtimeRedis(o =>
            {
                configuration.GetSection("Realtime:Redis").Bind(o);
                o.Configuration = redis;
            });
        }

        var health = services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"]);
        if (!string.IsNullOrWhiteSpace(redis)) health.AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString("PostgresRead")))
            health.AddCheck<ReadReplicaHealthCheck>("postgres-read", tags: ["ready"]);
    }

    /// <summary>Realtime:HubProtocols: the hub protocols this node offers, comma-separated (default both).</summary>
    private static List<string> HubProtocols(IConfiguration configuration)
    {
        string[] known = ["json", "messagepack"];
        var names = (configuration["Realtime:HubProtocols"] ?? string.Join(',', known))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0 || names.Any(n => !known.Contains(n)))
            throw new InvalidOperationException($"Realtime:HubProtocols must name one or more of {string.Join(", ", known)}, not '{configuration["Realtime:HubProtocols"]}'.");
        return [.. names.Distinct()];
    }

    private static void MapEndpoints(WebApplication app)
    {
        app.UseSpecErrors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.MapDevSample(); // Development only: the web sample and a sign-in without a token (DevSample/)

        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/metrics", (PrometheusExporter exporter) => Results.Text(exporter.Scrape(), "text/plain; version=0.0.4"));
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = ReadinessText.WriteAsync });

        // Checks on a hub connection before the upgrade: a draining node takes no new terminals
        // (they go to another node), the hub serves users (admin tokens are for REST), and the
        // device query parameter must name a terminal.
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(GroupHub.Path))
            {
                var device = context.Request.Query["device"].ToString();
                RealtimeException? refusal =
                    app.Lifetime.ApplicationStopping.IsCancellationRequested
                        ? new RealtimeException(ErrorCode.Internal, "this node is shutting down; connect to another")
                    : context.User.Identity?.IsAuthenticated == true && Caller.From(context.User).IsAdmin
                        ? new RealtimeException(ErrorCode.PermissionDenied, "admin tokens are for the REST API; connect with a user token")
                    : device.Length > 0 && !Ids.IsValidDeviceId(device)
                        ? RealtimeException.Invalid("device", "must be 1-64 chars of [A-Za-z0-9_.@-]")
                    : null;
                if (refusal is not null)
                {
                    context.Response.StatusCode = refusal.Code == ErrorCode.Internal ? StatusCodes.Status503ServiceUnavailable : refusal.Code.HttpStatus();
                    await context.Response.WriteAsJsonAsync(ErrorMapping.RestBody(refusal));
                    return;
                }
            }
            await next(context);
        });
        // A terminal lives no longer than its token: clients reconnect with a fresh one (SPEC §4).
        app.MapHub<GroupHub>(GroupHub.Path, o => o.CloseOnAuthenticationExpiration = true);
        app.MapAdminApi();
    }

    private static async Task RegisterAppsAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<Db>();
        var apps = services.GetRequiredService<AppRegistry>().AppIds.ToArray();
        await using var connection = await db.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO apps (app_id) SELECT unnest(@apps) ON CONFLICT DO NOTHING", new { apps }, cancellationToken: ct));
    }
}
