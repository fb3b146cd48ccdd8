using Microsoft.AspNetCore.SignalR;

namespace Realtime.Backplane.Redis.Internal;

// Single node, in-memory lifetime manager: applying the change to each connection before returning
// is all the ordering a later SendGroupAsync needs.
internal sealed class LocalUserGroupManager<THub> : IUserGroupManager<THub> where THub : Hub
{
    private readonly HubLifetimeManager<THub> _manager;
    private readonly LocalUserConnections _connections;

    public LocalUserGroupManager(HubLifetimeManager<THub> manager, LocalUserConnections connections)
    {
        _manager = manager;
        _connections = connections;
    }

    public async Task AddUserToGroupAsync(string userId, string groupName, CancellationToken ct = default)
    {
        foreach (var connectionId in _connections.Of(typeof(THub), userId))
        {
            await _manager.AddToGroupAsync(connectionId, groupName, ct);
        }
    }

    public async Task RemoveUserFromGroupAsync(string userId, string groupName, CancellationToken ct = default)
    {
        foreach (var connectionId in _connections.Of(typeof(THub), userId))
        {
            await _manager.RemoveFromGroupAsync(connectionId, groupName, ct);
        }
    }

    public Task CloseUserConnectionsAsync(string userId, CancellationToken ct = default)
    {
        foreach (var connectionId in _connections.Of(typeof(THub), userId))
        {
            _connections.Abort(connectionId);
        }

        return Task.CompletedTask;
    }

    public Task CloseConnectionAsync(string connectionId, CancellationToken ct = default)
    {
        _connections.Abort(connectionId);
        return Task.CompletedTask;
    }

    // In one process no attach or detach can be lost, so there is nothing to reconcile.
    public IReadOnlyCollection<string> LocalGroupsOf(string connectionId) => [];

    public event Func<Task>? Resynchronize
    {
        add { }
        remove { }
    }
}
