using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Backplane.Redis;
using StackExchange.Redis;

namespace Realtime.Bench.Backplane;

public enum BackplaneKind
{
    /// <summary>Realtime.Backplane.Redis (AddRealtimeRedis): sharded channels on a cluster.</summary>
    Ours,

    /// <summary>Microsoft.AspNetCore.SignalR.StackExchangeRedis (AddStackExchangeRedis): classic PUBLISH everywhere.</summary>
    Official,
}

/// <summary>One server node: its own service provider, lifetime manager and Redis connections, and its connections.</summary>
public sealed class BenchNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private BenchNode(ServiceProvider services, string name)
    {
        _services = services;
        Name = name;
        Manager = services.GetRequiredService<HubLifetimeManager<BenchHub>>();
    }

    public string Name { get; }

    public HubLifetimeManager<BenchHub> Manager { get; }

    public List<BenchConnection> Connections { get; } = [];

    /// <param name="configuration">StackExchange.Redis configuration string (one endpoint, or the cluster's masters).</param>
    /// <param name="name">Also the Redis client name of the node's connections (CLIENT LIST).</param>
    public static BenchNode Create(BackplaneKind kind, string configuration, string channelPrefix, string name, WarningLog log)
    {
        var services = new ServiceCollection().AddLogging(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(log.For(name)));
        var signalR = services.AddSignalR();
        if (kind == BackplaneKind.Ours)
        {
            signalR.AddRealtimeRedis(o =>
            {
                o.Configuration = $"{configuration},name={name}";
                o.ChannelPrefix = channelPrefix;
            });
        }
        else
        {
            signalR.AddStackExchangeRedis(o =>
            {
                o.Configuration = ConfigurationOptions.Parse(configuration);
                o.Configuration.ChannelPrefix = RedisChannel.Literal(channelPrefix);
                o.Configuration.ClientName = name;
            });
        }

        return new BenchNode(services.BuildServiceProvider(), name);
    }

    public async Task<BenchConnection> ConnectAsync(string userId, Recorder recorder)
    {
        var connection = new BenchConnection(userId, recorder);
        await Manager.OnConnectedAsync(connection.Connection).WaitAsync(TimeSpan.FromSeconds(30));
        lock (Connections)
        {
            Connections.Add(connection);
        }

        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in Connections)
        {
            await connection.CloseAsync();
        }

        await _services.DisposeAsync();
    }
}

/// <summary>Warnings and errors the nodes logged: to stderr, and counted for the report.</summary>
public sealed class WarningLog
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public ILoggerProvider For(string node) => new Provider(this, node);

    private sealed class Provider(WarningLog log, string node) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, node, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(WarningLog log, string node, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            // Only the first few in full: a systematic failure would flood stderr.
            if (Interlocked.Increment(ref log._count) <= 20)
            {
                Console.Error.WriteLine($"[{node}] {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
        }
    }
}
