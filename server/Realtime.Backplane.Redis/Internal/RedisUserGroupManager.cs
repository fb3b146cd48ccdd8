using Microsoft.AspNetCore.SignalR;

namespace Realtime.Backplane.Redis.Internal;

// Publishes the change on the user's channel: every node holding a connection of the user applies
// it and acks, see RedisHubLifetimeManager for the ordering argument.
internal sealed class RedisUserGroupManager<THub> : IUserGroupManager<THub> where THub : Hub
{
    private readonly RedisHubLifetimeManager<THub> _manager;

    public RedisUserGroupManager(HubLifetimeManager<THub> manager)
    {
        _manager = manager as RedisHubLifetimeManager<THub>
            ?? throw new InvalidOperationException(
                $"AddRealtimeRedis registered the Redis user groups, but the hub lifetime manager is {manager.GetType().Name}; was it replaced after AddRealtimeRedis?");
    }

    public Task AddUserToGroupAsync(string userId, string groupName, CancellationToken ct = default) =>
        _manager.AddUserToGroupAsync(userId, groupName, ct);

    public Task RemoveUserFromGroupAsync(string userId, string groupName, CancellationToken ct = default) =>
        _manager.RemoveUserFromGroupAsync(userId, groupName, ct);

    public Task CloseUserConnectionsAsync(string userId, CancellationToken ct = default) =>
        _manager.CloseUserConnectionsAsync(userId, ct);

    public Task CloseConnectionAsync(string connectionId, CancellationToken ct = default) =>
        _manager.CloseConnectionAsync(connectionId, ct);

    public IReadOnlyCollection<string> LocalGroupsOf(string connectionId) => _manager.LocalGroupsOf(connectionId);

    public event Func<Task>? Resynchronize
    {
        add => _manager.Resynchronize += value;
        remove => _manager.Resynchronize -= value;
    }
}
