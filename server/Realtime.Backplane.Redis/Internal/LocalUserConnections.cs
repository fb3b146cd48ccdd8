using Microsoft.AspNetCore.SignalR;

namespace Realtime.Backplane.Redis.Internal;

// Which connections of which user are open on this node, per hub type. Only needed without Redis:
// the Redis manager gets the same answer from its user channel subscriptions.
internal sealed class LocalUserConnections
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(Type Hub, string UserId), HashSet<string>> _connections = [];
    private readonly Dictionary<string, HubCallerContext> _contexts = new(StringComparer.Ordinal);

    public void Add(Type hub, string userId, HubCallerContext context)
    {
        lock (_gate)
        {
            if (!_connections.TryGetValue((hub, userId), out var ids))
            {
                ids = new HashSet<string>(StringComparer.Ordinal);
                _connections.Add((hub, userId), ids);
            }

            ids.Add(context.ConnectionId);
            _contexts[context.ConnectionId] = context;
        }
    }

    public void Remove(Type hub, string userId, string connectionId)
    {
        lock (_gate)
        {
            _contexts.Remove(connectionId);
            if (_connections.TryGetValue((hub, userId), out var ids) && ids.Remove(connectionId) && ids.Count == 0)
            {
                _connections.Remove((hub, userId));
            }
        }
    }

    /// <summary>Aborts the connection if it is open here; answers whether it was.</summary>
    public bool Abort(string connectionId)
    {
        HubCallerContext? context;
        lock (_gate)
        {
            _contexts.TryGetValue(connectionId, out context);
        }

        context?.Abort();
        return context is not null;
    }

    public string[] Of(Type hub, string userId)
    {
        lock (_gate)
        {
            return _connections.TryGetValue((hub, userId), out var ids) ? [.. ids] : [];
        }
    }
}
