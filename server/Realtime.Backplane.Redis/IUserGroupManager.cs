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

    /// <summary>
    /// Completes once every node holding a connection of the user has detached it. Throws
    /// <see cref="TimeoutException"/> when a node got the detach but did not confirm it within the ack
    /// timeout: it may still deliver the group to the user, so the caller must not go on as if the
    /// user were detached (the server fails and rolls back the command). Without Redis at all it
    /// completes (the change is lost; <see cref="Resynchronize"/> follows when Redis is back).
    /// </summary>
    Task RemoveUserFromGroupAsync(string userId, string groupName, CancellationToken ct = default);

    /// <summary>Closes every connection of the user; completes once every node holding one has (or the wait timed out).</summary>
    Task CloseUserConnectionsAsync(string userId, CancellationToken ct = default);

    /// <summary>Closes one connection, on whichever node it lives (acknowledged like the group changes).</summary>
    Task CloseConnectionAsync(string connectionId, CancellationToken ct = default);

    /// <summary>The groups a connection of this node is in, for reconciling them with the truth.</summary>
    IReadOnlyCollection<string> LocalGroupsOf(string connectionId);

    /// <summary>
    /// Raised when attach/detach commands may have been lost (a subscription connection to Redis was
    /// lost and is back): the application reconciles its local connections' groups with the truth.
    /// The node delivers no group message from the loss until every handler's task has completed.
    /// </summary>
    event Func<Task>? Resynchronize;
}
