using StackExchange.Redis;

namespace Realtime.Backplane.Redis.Internal;

// Every channel name lives here. Channels are Literal so that a group called "a*" is never
// mistaken for a pattern subscription.
internal sealed class RedisChannels
{
    private readonly string _prefix;

    public RedisChannels(string channelPrefix, string hubName)
    {
        _prefix = $"{channelPrefix}:{hubName}";
    }

    /// <summary>Every node listens: SendAll / SendAllExcept.</summary>
    public RedisChannel All => Literal($"{_prefix}:all");

    /// <summary>Only the node holding the connection listens: sends and group changes aimed at one connection.</summary>
    public RedisChannel Connection(string connectionId) => Literal($"{_prefix}:conn:{connectionId}");

    /// <summary>Nodes listen while they hold a member of the group.</summary>
    public RedisChannel Group(string groupName) => Literal($"{_prefix}:group:{groupName}");

    /// <summary>Nodes listen while they hold a connection of the user: user sends and user-wide group changes.</summary>
    public RedisChannel User(string userId) => Literal($"{_prefix}:user:{userId}");

    /// <summary>Acknowledgements of group changes, addressed to the node that asked.</summary>
    public RedisChannel Ack(string serverName) => Literal($"{_prefix}:ack:{serverName}");

    private static RedisChannel Literal(string name) => new(name, RedisChannel.PatternMode.Literal);
}
