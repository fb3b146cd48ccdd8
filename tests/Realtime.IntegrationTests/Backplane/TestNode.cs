using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Backplane.Redis;
using Realtime.Backplane.Redis.Internal;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>The hub every backplane test routes for.</summary>
public sealed class TestHub : Hub;

/// <summary>One server node: its own service provider, lifetime manager and user group manager.</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly LocalUserConnectionsFilter? _filter;

    private TestNode(ServiceProvider services, TestLogs logs)
    {
        _services = services;
        Logs = logs;
        Manager = services.GetRequiredService<HubLifetimeManager<TestHub>>();
        UserGroups = services.GetRequiredService<IUserGroupManager<TestHub>>();
        _filter = services.GetService<LocalUserConnectionsFilter>();
    }

    public HubLifetimeManager<TestHub> Manager { get; }

    public IUserGroupManager<TestHub> UserGroups { get; }

    /// <summary>What this node logged (Information and above).</summary>
    public TestLogs Logs { get; }

    internal RedisHubLifetimeManager<TestHub> Redis => (RedisHubLifetimeManager<TestHub>)Manager;

    public static TestNode WithRedis(string configuration, string channelPrefix, TimeSpan? operationTimeout = null, TimeSpan? slowConsumerTimeout = null, TimeSpan? ackTimeout = null)
    {
        var logs = new TestLogs();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs));
        services.AddSignalR().AddRealtimeRedis(options =>
        {
            options.Configuration = configuration;
            options.ChannelPrefix = channelPrefix;
            options.OperationTimeout = operationTimeout ?? options.OperationTimeout;
            options.SlowConsumerTimeout = slowConsumerTimeout ?? options.SlowConsumerTimeout;
            options.AckTimeout = ackTimeout ?? options.AckTimeout;
        });
        return new TestNode(services.BuildServiceProvider(), logs);
    }

    /// <summary>One node without Redis, as the server runs it (AddRealtimeLocal).</summary>
    public static TestNode InMemory(TimeSpan? slowConsumerTimeout = null)
    {
        var logs = new TestLogs();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs));
        services.AddSignalR().AddRealtimeLocal(options =>
            options.SlowConsumerTimeout = slowConsumerTimeout ?? options.SlowConsumerTimeout);
        return new TestNode(services.BuildServiceProvider(), logs);
    }

    /// <summary>One node with SignalR's default lifetime manager and only our user groups (AddRealtimeLocalUserGroups).</summary>
    public static TestNode InMemoryWithDefaultManager()
    {
        var logs = new TestLogs();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs));
        services.AddSignalR().AddRealtimeLocalUserGroups();
        return new TestNode(services.BuildServiceProvider(), logs);
    }

    public async Task<TestClient> ConnectAsync(string? userId = null, bool reads = true)
    {
        var client = new TestClient(userId, reads);
        await Manager.OnConnectedAsync(client.Connection).Within();
        if (_filter is not null)
        {
            // HubConnectionHandler would run the hub filters; here the only one that matters is ours.
            var context = new HubLifetimeContext(new CallerContext(client.Connection), _services, new TestHub());
            await _filter.OnConnectedAsync(context, _ => Task.CompletedTask).Within();
        }

        return client;
    }

    public async Task DisconnectAsync(TestClient client)
    {
        if (_filter is not null)
        {
            var context = new HubLifetimeContext(new CallerContext(client.Connection), _services, new TestHub());
            await _filter.OnDisconnectedAsync(context, null, (_, _) => Task.CompletedTask).Within();
        }

        await Manager.OnDisconnectedAsync(client.Connection).Within();
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private sealed class CallerContext(HubConnectionContext connection) : HubCallerContext
    {
        public override string ConnectionId => connection.ConnectionId;

        public override string? UserIdentifier => connection.UserIdentifier;

        public override ClaimsPrincipal? User => connection.User;

        public override IDictionary<object, object?> Items => connection.Items;

        public override IFeatureCollection Features => connection.Features;

        public override CancellationToken ConnectionAborted => connection.ConnectionAborted;

        public override void Abort() => connection.Abort();
    }
}
