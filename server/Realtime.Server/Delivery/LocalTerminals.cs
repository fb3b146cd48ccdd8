using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Auth;

namespace Realtime.Server.Delivery;

/// <summary>
/// The terminals connected to this node. On shutdown they are closed, so clients reconnect
/// to another node at once instead of waiting for a timeout (SPEC §8 graceful shutdown).
/// </summary>
public sealed partial class LocalTerminals(ILogger<LocalTerminals> logger)
{
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, Caller Caller)> _connections = new(StringComparer.Ordinal);

    public int Count => _connections.Count;

    public void Add(HubCallerContext context, Caller caller) => _connections[context.ConnectionId] = (context, caller);

    public IEnumerable<(string ConnectionId, Caller Caller)> Snapshot() => _connections.Select(c => (c.Key, c.Value.Caller)).ToList();

    public void Remove(string connectionId) => _connections.TryRemove(connectionId, out _);

    public void CloseAll()
    {
        LogClosing(_connections.Count);
        foreach (var (context, _) in _connections.Values) context.Abort();
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Information, Message = "Closing {Count} terminals for shutdown")]
    private partial void LogClosing(int count);
}
