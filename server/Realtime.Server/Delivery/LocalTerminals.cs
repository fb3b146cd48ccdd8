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
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, Caller Caller, string Device)> _connections = new(StringComparer.Ordinal);

    public int Count => _connections.Count;

    /// <summary>
    /// The device is kept here rather than in Context.Items, whose first use gives every connection
    /// a ConcurrentDictionary of its own (about 0.5 KB per idle terminal).
    /// </summary>
    public void Add(HubCallerContext context, Caller caller, string device) => _connections[context.ConnectionId] = (context, caller, device);

    /// <summary>The device of a connection of this node (null once it is gone).</summary>
    public string? DeviceOf(string connectionId) => _connections.TryGetValue(connectionId, out var terminal) ? terminal.Device : null;

    public IEnumerable<(string ConnectionId, Caller Caller)> Snapshot() => _connections.Select(c => (c.Key, c.Value.Caller)).ToList();

    public void Remove(string connectionId) => _connections.TryRemove(connectionId, out _);

    public void CloseAll()
    {
        LogClosing(_connections.Count);
        foreach (var (context, _, _) in _connections.Values) context.Abort();
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Information, Message = "Closing {Count} terminals for shutdown")]
    private partial void LogClosing(int count);
}
