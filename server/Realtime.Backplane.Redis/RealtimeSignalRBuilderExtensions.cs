using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Realtime.Backplane.Redis.Internal;

namespace Realtime.Backplane.Redis;

/// <summary>Registers the Redis backplane or, without Redis, the in-memory user group manager.</summary>
public static class RealtimeSignalRBuilderExtensions
{
    /// <summary>Routes every hub's sends through Redis and registers the Redis <see cref="IUserGroupManager{THub}"/>.</summary>
    public static ISignalRServerBuilder AddRealtimeRedis(this ISignalRServerBuilder builder, Action<RealtimeRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        // Replaces AddSignalR's default in-memory manager (it is registered with TryAdd).
        builder.Services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RedisHubLifetimeManager<>));
        builder.Services.AddSingleton(typeof(IUserGroupManager<>), typeof(RedisUserGroupManager<>));
        return builder;
    }

    /// <summary>Registers an <see cref="IUserGroupManager{THub}"/> for a single node using SignalR's default lifetime manager.</summary>
    public static ISignalRServerBuilder AddRealtimeLocalUserGroups(this ISignalRServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<LocalUserConnections>();
        builder.Services.TryAddSingleton<LocalUserConnectionsFilter>();
        builder.Services.Configure<HubOptions>(options => options.AddFilter<LocalUserConnectionsFilter>());
        builder.Services.TryAddSingleton(typeof(IUserGroupManager<>), typeof(LocalUserGroupManager<>));
        return builder;
    }
}
