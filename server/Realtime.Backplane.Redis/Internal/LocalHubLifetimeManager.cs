using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Realtime.Backplane.Redis.Internal;

// The single-node manager: SignalR's default one awaits every member's write inside the caller's
// group send, so one client that stops reading would stall the sender (and, with ordered pushes,
// everyone after it) for as long as the client pleases. This one routes like the default manager
// but only enqueues into each connection's bounded queue, as the Redis manager does.
internal sealed class LocalHubLifetimeManager<THub> : HubLifetimeManager<THub> where THub : Hub
{
    private readonly ConcurrentDictionary<string, LocalConnection> _connections = new(StringComparer.Ordinal);
    private readonly SubscribedSets _groups = new(_ => Task.CompletedTask, _ => Task.CompletedTask);
    private readonly SubscribedSets _users = new(_ => Task.CompletedTask, _ => Task.CompletedTask);
    private readonly LocalConnectionLimits _limits;

    public LocalHubLifetimeManager(ILogger<LocalHubLifetimeManager<THub>> logger, IOptions<RealtimeRedisOptions> options)
    {
        _limits = new LocalConnectionLimits(options.Value.MaxQueuedBytesPerConnection, options.Value.SlowConsumerTimeout, logger);
    }

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        var local = new LocalConnection(connection, _limits);
        _connections[connection.ConnectionId] = local;
        if (connection.UserIdentifier is { } userId)
        {
            _users.Add(userId, local);
        }

        return Task.CompletedTask;
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (_connections.TryRemove(connection.ConnectionId, out var local))
        {
            local.Close();
        }

        _groups.RemoveAll(connection.ConnectionId);
        _users.RemoveAll(connection.ConnectionId);
        return Task.CompletedTask;
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Send(_connections.Values, methodName, args, null);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        Send(_connections.Values, methodName, args, excludedConnectionIds);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendConnectionsAsync([connectionId], methodName, args, cancellationToken);

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Send(connectionIds.Select(id => _connections.GetValueOrDefault(id)).OfType<LocalConnection>(), methodName, args, null);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Send(_groups.Members(groupName), methodName, args, null);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Send(groupNames.SelectMany(_groups.Members), methodName, args, null);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        Send(_groups.Members(groupName), methodName, args, excludedConnectionIds);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Send(_users.Members(userId), methodName, args, null);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        Send(userIds.SelectMany(_users.Members), methodName, args, null);

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            _groups.Add(groupName, local);
        }

        return Task.CompletedTask;
    }

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        _groups.Remove(groupName, connectionId);
        return Task.CompletedTask;
    }

    // Serialized at most once per protocol, shared by every target's queue; nothing here waits for a client.
    private static Task Send(IEnumerable<LocalConnection> targets, string methodName, object?[] args, IReadOnlyList<string>? excluded)
    {
        SerializedHubMessage? message = null;
        try
        {
            foreach (var connection in targets)
            {
                if (excluded is null || !excluded.Contains(connection.ConnectionId))
                {
                    message ??= new SerializedHubMessage(new InvocationMessage(methodName, args));
                    connection.Send(message);
                }
            }
        }
        catch (Exception ex)
        {
            // E.g. arguments the protocol cannot serialize: the caller's send fails, no connection is closed.
            return Task.FromException(ex);
        }

        return Task.CompletedTask;
    }
}
