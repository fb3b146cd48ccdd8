namespace Realtime.Backplane.Redis;

/// <summary>Settings of the Redis backplane: where Redis is and how channels of this deployment are named.</summary>
public sealed class RealtimeRedisOptions
{
    /// <summary>StackExchange.Redis configuration string, e.g. "localhost:6379".</summary>
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>Prefix of every channel, so several deployments can share one Redis.</summary>
    public string ChannelPrefix { get; set; } = "realtime";

    /// <summary>How long a cross-node group change waits for the nodes that hold the connections to confirm.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Upper bound for one Redis call (connect, publish, subscribe); also StackExchange.Redis' SyncTimeout and AsyncTimeout.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long one write to a local connection may wait for its client to read. A connection
    /// slower than that is closed (its client reconnects and syncs). The wait happens in the
    /// connection's own queue, never on the node's shared delivery path.
    /// </summary>
    public TimeSpan SlowConsumerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bound of each local connection's outgoing queue, in serialized bytes (default 1 MiB, about
    /// 250 messages of 4 KB, on top of what the socket buffers). The node only enqueues a send for
    /// a connection and never waits for its client; a client that stops reading fills its own
    /// queue, and the send that would take it past this bound closes the connection, once: its
    /// queued messages are dropped, the client reconnects and catches up with Sync. Logged
    /// (event 13) and counted in <c>realtime_backplane_slow_consumers_closed{reason="queue_full"}</c>.
    /// A message fanned out to many connections is serialized and held once, but counts in each
    /// queue. Applies to the single-node manager (<c>AddRealtimeLocal</c>) too.
    /// </summary>
    public long MaxQueuedBytesPerConnection { get; set; } = 1024 * 1024;

    /// <summary>Delay between reconnect attempts after Redis went away.</summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);
}
