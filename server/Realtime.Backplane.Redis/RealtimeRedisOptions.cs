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

    /// <summary>Upper bound for one Redis call (connect, publish, subscribe); 1.2.6 has no async timeouts of its own.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node waits for a local connection to take one message. A connection slower than
    /// that is closed (its client reconnects and syncs) so it cannot hold up every other delivery.
    /// </summary>
    public TimeSpan SlowConsumerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Delay between reconnect attempts after Redis went away.</summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);
}
