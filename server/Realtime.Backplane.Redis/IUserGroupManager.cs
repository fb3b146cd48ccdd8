using Microsoft.AspNetCore.SignalR;

namespace Realtime.Backplane.Redis;

/// <summary>
/// A user's connections on whichever node they live: attaches or detaches them to or from a SignalR
/// group, or closes them.
/// </summary>
public interface IUserGroupManager<THub> where THub : Hub
{
    /// <summary>Completes once every node holding a connection of the user has attached it (or the wait timed out).</summary>
    Task AddUserToGroupAsync(string userId, string groupName, CancellationToken ct = default);

    /// <summary>Completes once every node holding a connection of the user has detached it (or the wait timed out).</summary>
    Task RemoveUserFromGroupAsync(string userId, string groupName, CancellationToken ct = default);

    /// <summary>Closes every connection of the user; completes once every node holding one has (or the wait timed out).</summary>
    Task CloseUserConnectionsAsync(string userId, CancellationToken ct = default);

    /// <summary>Closes one connection, on whichever node it lives (acknowledged like the group changes).</summary>
    Task CloseConnectionAsync(string connectionId, CancellationToken ct = default);

    /// <summary>The groups a connection of this node is in, for reconciling them with the truth.</summary>
    IReadOnlyCollection<string> LocalGroupsOf(string connectionId);

    /// <summary>
    /// Raised when attach/detach commands may have been lost (the backplane reconnected to Redis):
    /// the application should reconcile its local connections' groups.
    /// </summary>
    event Action? Resynchronize;
}
