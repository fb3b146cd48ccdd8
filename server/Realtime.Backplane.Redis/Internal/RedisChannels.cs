using StackExchange.Redis;

namespace Realtime.Backplane.Redis.Internal;

// Every channel name lives here. Channels are Literal so that a group called "a*" is never
// mistaken for a pattern subscription. On a Redis Cluster every channel but All is sharded
// (SSUBSCRIBE/SPUBLISH): a publish goes to the one shard that owns the channel's slot and
// reaches only the nodes subscribed there, instead of every shard of the cluster.
internal sealed class RedisChannels
{
    private readonly string _prefix;

    public RedisChannels(string channelPrefix, string hubName)
    {
        _prefix = $"{channelPrefix}:{hubName}";
        All = Literal($"{_prefix}:all");
    }

    /// <summary>Set once, when the connection found a cluster, before any channel is used on it.</summary>
    public bool Sharded { get; set; }

    /// <summary>Every node listens: SendAll / SendAllExcept. Never sharded: it is for every node.</summary>
    public RedisChannel All { get; }

    /// <summary>Only the node holding the connection listens: sends and group changes aimed at one connection.</summary>
    public RedisChannel Connection(string connectionId) => Literal($"{_prefix}:conn:{connectionId}");

    /// <summary>Nodes listen while they hold a member of the group.</summary>
    public RedisChannel Group(string groupName) => Literal($"{_prefix}:group:{groupName}");

    /// <summary>Nodes listen while they hold a connection of the user: user sends and user-wide group changes.</summary>
    public RedisChannel User(string userId) => Literal($"{_prefix}:user:{userId}");

    /// <summary>Acknowledgements of group changes, addressed to the node that asked.</summary>
    public RedisChannel Ack(string serverName) => Literal($"{_prefix}:ack:{serverName}");

    /// <summary>
    /// The channel as Redis is asked about it: sharded on a cluster (except All). Channels are
    /// named before the connection knows what Redis is, so the kind is decided here, at the one
    /// place where a channel meets Redis.
    /// </summary>
    public RedisChannel OnServer(RedisChannel channel) =>
        Sharded && !channel.IsSharded && channel != All ? RedisChannel.Sharded((byte[])channel!) : channel;

    /// <summary>all, conn, group, user or ack: what a channel is for, without the ids in its name (for traces).</summary>
    public string KindOf(RedisChannel channel)
    {
        var name = channel.ToString();
        var start = _prefix.Length + 1;
        if (name.Length <= start || !name.StartsWith(_prefix, StringComparison.Ordinal)) return "other";
        var end = name.IndexOf(':', start);
        return end < 0 ? name[start..] : name[start..end];
    }

    private static RedisChannel Literal(string name) => new(name, RedisChannel.PatternMode.Literal);
}
