namespace Realtime.Backplane.Redis.Internal;

// Local members per key (group name or user id). The node subscribes to the key's channel when
// the first local member arrives and unsubscribes when the last one leaves, so a publish to a
// group reaches only nodes that hold one of its members.
//
// Subscribe/unsubscribe are *issued* under the lock: StackExchange.Redis queues the command
// synchronously, so the order of SUBSCRIBE/UNSUBSCRIBE for a key on the wire matches the order
// of our 0->1 and 1->0 transitions. Every joiner awaits the same subscribe task, so nobody is
// told "attached" before Redis confirmed the channel. Without Redis the callbacks do nothing.
internal sealed class SubscribedSets
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _keysByConnection = new(StringComparer.Ordinal);
    private readonly Func<string, Task> _subscribe;
    private readonly Func<string, Task> _unsubscribe;

    public SubscribedSets(Func<string, Task> subscribe, Func<string, Task> unsubscribe)
    {
        _subscribe = subscribe;
        _unsubscribe = unsubscribe;
    }

    /// <summary>Returns the task that completes when the key's channel is subscribed.</summary>
    public Task Add(string key, LocalConnection connection)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry(Start(_subscribe, key));
                _entries.Add(key, entry);
            }

            entry.Members[connection.ConnectionId] = connection;
            if (!_keysByConnection.TryGetValue(connection.ConnectionId, out var keys))
            {
                keys = new HashSet<string>(StringComparer.Ordinal);
                _keysByConnection.Add(connection.ConnectionId, keys);
            }

            keys.Add(key);
            return entry.Subscribed;
        }
    }

    public Task Remove(string key, string connectionId)
    {
        lock (_gate)
        {
            if (_keysByConnection.TryGetValue(connectionId, out var keys))
            {
                keys.Remove(key);
                if (keys.Count == 0)
                {
                    _keysByConnection.Remove(connectionId);
                }
            }

            return RemoveMember(key, connectionId);
        }
    }

    public Task RemoveAll(string connectionId)
    {
        lock (_gate)
        {
            if (!_keysByConnection.Remove(connectionId, out var keys))
            {
                return Task.CompletedTask;
            }

            return Task.WhenAll(keys.Select(key => RemoveMember(key, connectionId)).ToArray());
        }
    }

    public string[] KeysOf(string connectionId)
    {
        lock (_gate)
        {
            return _keysByConnection.TryGetValue(connectionId, out var keys) ? [.. keys] : [];
        }
    }

    public string[] Keys()
    {
        lock (_gate)
        {
            return [.. _entries.Keys];
        }
    }

    public LocalConnection[] Members(string key)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(key, out var entry) ? [.. entry.Members.Values] : [];
        }
    }

    private Task RemoveMember(string key, string connectionId)
    {
        if (!_entries.TryGetValue(key, out var entry) || !entry.Members.Remove(connectionId))
        {
            return Task.CompletedTask;
        }

        if (entry.Members.Count > 0)
        {
            return Task.CompletedTask;
        }

        _entries.Remove(key);
        return Start(_unsubscribe, key);
    }

    private static Task Start(Func<string, Task> operation, string key)
    {
        try
        {
            return operation(key);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private sealed class Entry(Task subscribed)
    {
        public Task Subscribed { get; } = subscribed;

        public Dictionary<string, LocalConnection> Members { get; } = new(StringComparer.Ordinal);
    }
}
