using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Realtime.Backplane.Redis.Internal;

namespace Realtime.Backplane.Redis;

/// <summary>Registers the Redis backplane or, without Redis, the single-node manager and the in-memory user group manager.</summary>
public static class RealtimeSignalRBuilderExtensions
{
    /// <summary>Routes every hub's sends through Redis and registers the Redis <see cref="IUserGroupManager{THub}"/>.</summary>
    public static ISignalRServerBuilder AddRealtimeRedis(this ISignalRServerBuilder builder, Action<RealtimeRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(builder, configure);
        // Replaces AddSignalR's default in-memory manager (it is registered with TryAdd).
        builder.Services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RedisHubLifetimeManager<>));
        builder.Services.AddSingleton(typeof(IUserGroupManager<>), typeof(RedisUserGroupManager<>));
        return builder;
    }

    /// <summary>
    /// One node without Redis: replaces SignalR's default lifetime manager (which awaits every
    /// member's write inside a group send, so a client that stops reading stalls the sender) with
    /// one that only enqueues into each connection's bounded outgoing queue, and registers the
    /// in-memory <see cref="IUserGroupManager{THub}"/>. Of the options, only the outgoing queue's
    /// (<see cref="RealtimeRedisOptions.MaxQueuedBytesPerConnection"/>,
    /// <see cref="RealtimeRedisOptions.SlowConsumerTimeout"/>) apply.
    /// </summary>
    public static ISignalRServerBuilder AddRealtimeLocal(this ISignalRServerBuilder builder, Action<RealtimeRedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOptions(builder, configure ?? (_ => { }));
        builder.Services.AddSingleton(typeof(HubLifetimeManager<>), typeof(LocalHubLifetimeManager<>));
        return builder.AddRealtimeLocalUserGroups();
    }

    /// <summary>Registers an <see cref="IUserGroupManager{THub}"/> for a single node, whatever its lifetime manager (e.g. SignalR's default one).</summary>
    public static ISignalRServerBuilder AddRealtimeLocalUserGroups(this ISignalRServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<LocalUserConnections>();
        builder.Services.TryAddSingleton<LocalUserConnectionsFilter>();
        builder.Services.Configure<HubOptions>(options => options.AddFilter<LocalUserConnectionsFilter>());
        builder.Services.TryAddSingleton(typeof(IUserGroupManager<>), typeof(LocalUserGroupManager<>));
        return builder;
    }

    private static void AddOptions(ISignalRServerBuilder builder, Action<RealtimeRedisOptions> configure) =>
        builder.Services.AddOptions<RealtimeRedisOptions>()
            .Configure(configure)
            .Validate(o => o.MaxQueuedBytesPerConnection > 0, "MaxQueuedBytesPerConnection must be positive.")
            .Validate(o => o.SlowConsumerTimeout > TimeSpan.Zero, "SlowConsumerTimeout must be positive.");
}
