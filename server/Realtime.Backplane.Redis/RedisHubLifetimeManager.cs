using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Backplane.Redis.Internal;
using StackExchange.Redis;

namespace Realtime.Backplane.Redis;

/// <summary>A SignalR lifetime manager that routes sends between nodes over Redis pub/sub.</summary>
/// <remarks>
/// Ordering, on StackExchange.Redis 2.13. What the transport gives: a node publishes everything on
/// one interactive connection, so Redis executes its PUBLISHes in the order it made them, and a
/// node receives on one subscription connection, in the order Redis executed the PUBLISHes.
/// What the client gives (1.2.6's PreserveAsyncOrder is gone): a handler passed to
/// Subscribe(channel, handler) is run on a pool of workers, concurrently and in no order, not even
/// within one channel (measured on 2.13.23: 20,000 interleaved messages on two channels, handlers
/// on 5 threads at once, about 8% of them out of order within their own channel; the project docs'
/// "Pub/Sub Message Order" say the same: "no specific guarantees about the order"). A
/// <see cref="ChannelMessageQueue"/> (Subscribe(channel) without a handler) is written by the
/// socket reader itself, in arrival order, so it keeps the order of its own channel; but each
/// channel has its own queue, and two queues are read independently: the order ACROSS channels is
/// lost (same measurement: 0 inversions within a channel, dozens across the two), and no message
/// says when it arrived relative to another channel's. The client's source says why: on a message
/// it writes every queue of the channel inline and hands the handlers to a worker
/// (ConnectionMultiplexer.OnMessage: ChannelMessageQueue.WriteAll, then CompleteAsWorker).
/// Hence the two guarantees the backplane gives, and how each is kept now:
/// 1. Per-channel order. Every channel of ours is a ChannelMessageQueue; its one reader only
///    appends to the node's single inbox, and one loop handles the inbox in order, each message
///    to the end before the next (membership changes are applied synchronously; only their acks
///    wait for Redis). So two messages of one channel are handled in the order they were published.
/// 2. A node applies a user's attach/detach before any later event of that group. A detach is
///    published on the group's own channel (a <see cref="GroupCommand"/> naming the user's or the
///    connection's members): it is in the same ordered stream as the group's events, so no node
///    handles an event published after it before it, whatever any receiver count says. An attach
///    goes on the user's (or connection's) channel, since a node holding the user may not be
///    subscribed to the group yet; it rests on the acknowledgement: a node acks a group command
///    only after it applied it (an attach: after the group's SUBSCRIBE was confirmed), and the
///    caller waits for as many acks as PUBLISH reported receivers. Detaches are acked too, so a
///    later attach on the user's channel cannot be overtaken by an earlier detach still queued on
///    the group's. A detach that is not acknowledged in time, or whose PUBLISH Redis did not answer
///    although connected, throws (<see cref="TimeoutException"/>), so the caller fails and rolls
///    back its command. An attach that is not acknowledged in time is only logged: a member who
///    misses a live push recovers it with Sync.
/// 3. A node that lost a subscription connection may have missed detaches: it delivers no group
///    message (<see cref="Muted"/>) until its subscriptions are on connected servers again and the
///    application's <see cref="Resynchronize"/> handlers reconciled its groups.
/// On a Redis Cluster every channel but All is sharded (<see cref="RedisChannels"/>): SPUBLISH goes
/// to the slot's shard only. A receiver count covers only the shard node that ran the publish; the
/// detach's safety does not depend on it (point 2). A PING does not vouch for an SSUBSCRIBE there
/// (it may travel on another shard's connection), so a new subscription is confirmed by hearing a
/// probe the node published to it.
/// An attach by user is preceded by a fence on the group's channel (acked once every node subscribed
/// to the group handled the group's earlier events), so an event published before it cannot reach
/// the joiner after it; an attach of one connection (a terminal connecting) is not fenced: it may see
/// one event of a group it already belongs to from just before, which Sync would give it anyway.
/// The inbox never waits for a client: a message for local connections is put in each one's
/// bounded outgoing queue (<see cref="LocalConnection"/>), in inbox order, and written from there;
/// a client that stops reading fills its own queue and is closed, and costs nobody else. Group
/// changes stay on the inbox: they change membership, not sockets.
/// An attach needs the ack for one more reason: the node holding the user may not be subscribed to
/// the group channel yet, and Redis drops publishes to channels nobody listens to.
/// Pushes are best effort (the database is the truth): Redis failures are logged, never thrown;
/// only a detach throws: when nodes got it and did not all confirm it, or when Redis did not answer
/// its PUBLISH in time although the multiplexer is connected (with Redis plainly down it returns,
/// and the Resynchronize after the reconnect reconciles).
/// </remarks>
public sealed class RedisHubLifetimeManager<THub> : HubLifetimeManager<THub>, IDisposable where THub : Hub
{
    private readonly ILogger _logger;
    private readonly RealtimeRedisOptions _options;
    private readonly RedisChannels _channels;
    private readonly string _serverName = $"{Environment.MachineName}-{Guid.NewGuid():N}";
    private readonly IReadOnlyList<IHubProtocol> _protocols;
    private readonly ConcurrentDictionary<string, LocalConnection> _connections = new(StringComparer.Ordinal);
    private readonly LocalConnectionLimits _limits;
    private readonly SubscribedSets _groups;
    private readonly SubscribedSets _users;
    private readonly AckTracker _acks = new();
    private readonly Channel<Inbound> _inbox = Channel.CreateUnbounded<Inbound>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task<ConnectionMultiplexer?> _connect;
    private readonly Task _inboxLoop;
    private ISubscriber? _subscriber;
    private ConnectionMultiplexer? _multiplexer;
    private int _muted;
    private long _lossGeneration;
    private long _mutedDrops;
    private readonly SemaphoreSlim _topologyChanged = new(0, 1);
    private long _publishCount;
    private long _receiveCount;

    /// <summary>Creates the manager and starts connecting to Redis in the background.</summary>
    public RedisHubLifetimeManager(
        ILogger<RedisHubLifetimeManager<THub>> logger,
        IOptions<RealtimeRedisOptions> options,
        IHubProtocolResolver protocolResolver,
        IOptions<HubOptions> globalHubOptions,
        IOptions<HubOptions<THub>> hubOptions)
    {
        _logger = logger;
        _options = options.Value;
        _limits = new LocalConnectionLimits(_options.MaxQueuedBytesPerConnection, _options.SlowConsumerTimeout, logger);
        _channels = new RedisChannels(_options.ChannelPrefix, typeof(THub).FullName ?? typeof(THub).Name);
        var supported = hubOptions.Value.SupportedProtocols ?? globalHubOptions.Value.SupportedProtocols;
        _protocols = supported is { Count: > 0 }
            ? protocolResolver.AllProtocols.Where(p => supported.Contains(p.Name, StringComparer.OrdinalIgnoreCase)).ToArray()
            : protocolResolver.AllProtocols;
        _groups = new SubscribedSets(
            group => SubscribeAsync(_channels.Group(group), InboundTarget.Group, group),
            group => UnsubscribeAsync(_channels.Group(group)));
        _users = new SubscribedSets(
            user => SubscribeAsync(_channels.User(user), InboundTarget.User, user),
            user => UnsubscribeAsync(_channels.User(user)));
        _inboxLoop = Task.Run(ProcessInboxAsync);
        _connect = Task.Run(ConnectAsync);
    }

    /// <summary>PUBLISH calls this manager made (tests and diagnostics).</summary>
    internal long PublishCount => Interlocked.Read(ref _publishCount);

    /// <summary>Messages this manager received from Redis.</summary>
    internal long ReceiveCount => Interlocked.Read(ref _receiveCount);

    /// <inheritdoc />
    /// <summary>Whether Redis is reachable now (for readiness checks).</summary>
    public bool IsConnected => _connect.IsCompletedSuccessfully && _connect.Result?.IsConnected == true;

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        var local = new LocalConnection(connection, _limits);
        _connections[connection.ConnectionId] = local;
        // Connections come up before Redis might: the first ones wait for the (bounded) connect so
        // their subscriptions are registered with the multiplexer and restored by it later.
        await _connect.ConfigureAwait(false);
        // Both SUBSCRIBEs go out together and are awaited together: one round trip per connect, not two.
        var connectionChannel = _channels.Connection(connection.ConnectionId);
        var subscribed = GuardAsync(
            SubscribeAsync(connectionChannel, InboundTarget.Connection, connection.ConnectionId), connectionChannel, Log.SubscribeFailed);
        if (connection.UserIdentifier is { } userId)
        {
            var userSubscribed = GuardAsync(_users.Add(userId, local), _channels.User(userId), Log.SubscribeFailed);
            await Task.WhenAll(subscribed, userSubscribed).ConfigureAwait(false);
        }
        else
        {
            await subscribed.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (_connections.TryRemove(connection.ConnectionId, out var local))
        {
            local.Close();
        }

        var connectionChannel = _channels.Connection(connection.ConnectionId);
        await GuardAsync(UnsubscribeAsync(connectionChannel), connectionChannel, Log.UnsubscribeFailed).ConfigureAwait(false);
        await GuardAsync(_groups.RemoveAll(connection.ConnectionId), $"groups of {connection.ConnectionId}", Log.UnsubscribeFailed).ConfigureAwait(false);
        await GuardAsync(_users.RemoveAll(connection.ConnectionId), $"user of {connection.ConnectionId}", Log.UnsubscribeFailed).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        PublishAsync(_channels.All, Invocation(methodName, args, null), cancellationToken);

    /// <inheritdoc />
    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        PublishAsync(_channels.All, Invocation(methodName, args, excludedConnectionIds), cancellationToken);

    /// <inheritdoc />
    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            local.Send(new SerializedHubMessage(new InvocationMessage(methodName, args)));
            return Task.CompletedTask;
        }

        return PublishAsync(_channels.Connection(connectionId), Invocation(methodName, args, null), cancellationToken);
    }

    /// <inheritdoc />
    public override async Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        byte[]? payload = null;
        SerializedHubMessage? localMessage = null;
        foreach (var connectionId in connectionIds)
        {
            if (_connections.TryGetValue(connectionId, out var local))
            {
                localMessage ??= new SerializedHubMessage(new InvocationMessage(methodName, args));
                local.Send(localMessage);
            }
            else
            {
                payload ??= Invocation(methodName, args, null);
                await PublishAsync(_channels.Connection(connectionId), payload, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        PublishAsync(_channels.Group(groupName), Invocation(methodName, args, null), cancellationToken);

    /// <inheritdoc />
    public override async Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = Invocation(methodName, args, null);
        foreach (var groupName in groupNames)
        {
            await PublishAsync(_channels.Group(groupName), payload, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        PublishAsync(_channels.Group(groupName), Invocation(methodName, args, excludedConnectionIds), cancellationToken);

    /// <inheritdoc />
    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        PublishAsync(_channels.User(userId), Invocation(methodName, args, null), cancellationToken);

    /// <inheritdoc />
    public override async Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var payload = Invocation(methodName, args, null);
        foreach (var userId in userIds)
        {
            await PublishAsync(_channels.User(userId), payload, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        _connections.TryGetValue(connectionId, out var local)
            ? ApplyLocallyAsync(GroupAction.Add, local, groupName)
            : SendGroupCommandAsync(_channels.Connection(connectionId), GroupAction.Add, groupName, cancellationToken);

    /// <inheritdoc />
    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        _connections.TryGetValue(connectionId, out var local)
            ? ApplyLocallyAsync(GroupAction.Remove, local, groupName)
            : DetachAsync(new MemberFilter(ByUser: false, connectionId), groupName, cancellationToken);

    // First a fence on the group's channel: once every node subscribed to the group acked it, each
    // has handled the group's events published before it, so none of them can reach the user after
    // the attach (which travels on the user's channel, unordered with the group's). A node that
    // subscribes to the group after the fence only gets later events.
    internal async Task AddUserToGroupAsync(string userId, string groupName, CancellationToken cancellationToken)
    {
        await SendGroupCommandAsync(_channels.Group(groupName), GroupAction.Fence, groupName, cancellationToken).ConfigureAwait(false);
        await SendGroupCommandAsync(_channels.User(userId), GroupAction.Add, groupName, cancellationToken).ConfigureAwait(false);
    }

    internal Task RemoveUserFromGroupAsync(string userId, string groupName, CancellationToken cancellationToken) =>
        DetachAsync(new MemberFilter(ByUser: true, userId), groupName, cancellationToken);

    internal Task CloseUserConnectionsAsync(string userId, CancellationToken cancellationToken) =>
        SendGroupCommandAsync(_channels.User(userId), GroupAction.Close, "", cancellationToken);

    internal Task CloseConnectionAsync(string connectionId, CancellationToken cancellationToken) =>
        _connections.TryGetValue(connectionId, out var local)
            ? ApplyLocallyAsync(GroupAction.Close, local, "")
            : SendGroupCommandAsync(_channels.Connection(connectionId), GroupAction.Close, "", cancellationToken);

    internal IReadOnlyCollection<string> LocalGroupsOf(string connectionId) => _groups.KeysOf(connectionId);

    /// <summary>
    /// Raised once a lost subscription connection is back: group commands sent meanwhile are lost.
    /// Group messages stay held back until every handler's task completed (see <see cref="Muted"/>).
    /// </summary>
    internal event Func<Task>? Resynchronize;

    /// <summary>
    /// True from the moment a subscription connection was lost until it is back and the application
    /// reconciled this node's groups: meanwhile this node may have missed a detach, so it delivers no
    /// group message (dropped and counted; clients catch up with Sync) rather than risk one reaching
    /// a member who was removed.
    /// </summary>
    internal bool Muted => Volatile.Read(ref _muted) == 1;

    /// <summary>Stops handling messages and closes the Redis connection.</summary>
    public void Dispose()
    {
        _inbox.Writer.TryComplete();
        _ = _connect.ContinueWith(
            static t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    t.Result?.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task<ConnectionMultiplexer?> ConnectAsync()
    {
        try
        {
            var configuration = ConfigurationOptions.Parse(_options.Configuration);
            // Start while Redis is down and keep retrying; subscriptions made meanwhile are kept
            // by the multiplexer and sent once it connects.
            configuration.AbortOnConnectFail = false;
            configuration.ReconnectRetryPolicy = new LinearRetry((int)_options.ReconnectInterval.TotalMilliseconds);
            // 2.x has timeouts for async commands too: bound every call by OperationTimeout.
            configuration.SyncTimeout = configuration.AsyncTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
            Log.Connecting(_logger, string.Join(",", configuration.EndPoints.Select(e => e.ToString())), _serverName);

            var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            multiplexer.ConnectionFailed += (_, e) =>
            {
                Log.ConnectionFailed(_logger, e.ConnectionType.ToString(), e.EndPoint?.ToString(), e.FailureType.ToString(), e.Exception);
                if (e.ConnectionType == ConnectionType.Subscription) OnSubscriptionLost(e.EndPoint?.ToString());
            };
            multiplexer.ConnectionRestored += (_, e) =>
            {
                Log.ConnectionRestored(_logger, e.ConnectionType.ToString(), e.EndPoint?.ToString());
                OnTopologyChanged();
            };
            // A cluster's failover moves slots without restoring the lost connection: the client
            // reconfigures and subscribes again on the new owner.
            multiplexer.ConfigurationChanged += (_, _) => OnTopologyChanged();
            var subscriber = multiplexer.GetSubscriber();
            await WaitUntilConnectedAsync(multiplexer, subscriber).ConfigureAwait(false);
            Log.Connected(_logger, multiplexer.IsConnected);
            if (multiplexer.GetServers().Any(server => server.ServerType == ServerType.Cluster))
            {
                _channels.Sharded = true;
                Log.ShardedChannels(_logger);
            }

            _multiplexer = multiplexer;
            _subscriber = subscriber;
            await GuardAsync(SubscribeAsync(_channels.All, InboundTarget.All, string.Empty), _channels.All, Log.SubscribeFailed).ConfigureAwait(false);
            var ackChannel = _channels.OnServer(_channels.Ack(_serverName));
            await GuardAsync(subscriber.SubscribeAsync(ackChannel, OnAck), ackChannel, Log.SubscribeFailed).ConfigureAwait(false);
            return multiplexer;
        }
        catch (Exception ex)
        {
            // Only a broken configuration gets here; the node keeps serving its local connections.
            Log.ConnectFailed(_logger, ex);
            return null;
        }
    }

    /// <summary>
    /// ConnectAsync returns when it stops waiting (AbortOnConnectFail = false), connected or not, e.g.
    /// on a loaded machine. Until both connections are up, a publish fails fast and its push is
    /// dropped, and a subscription is not yet sent: give them a bounded while longer, so a node that
    /// starts slowly does not lose its first pushes. Redis really down: go on without it, as before.
    /// </summary>
    private async Task WaitUntilConnectedAsync(ConnectionMultiplexer multiplexer, ISubscriber subscriber)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(multiplexer.IsConnected && subscriber.IsConnected()) && waited.Elapsed < _options.OperationTimeout)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private Task SubscribeAsync(RedisChannel channel, InboundTarget target, string key)
    {
        var subscriber = _subscriber;
        if (subscriber is null)
        {
            return Task.CompletedTask;
        }

        return SubscribeQueueAsync(subscriber, channel, target, key);
    }

    // A queue, not a handler: handlers run concurrently and in no order (see the remarks above). The
    // queue is filled by the socket reader in arrival order; its one reader only appends to the inbox.
    // The SUBSCRIBE is sent fire-and-forget so that the queue is ours even when Redis is down: an
    // awaited SubscribeAsync that fails (measured: after AsyncTimeout in the backlog) still leaves its
    // queue registered, and restored on reconnect, but never hands it out, so nobody would read it.
    // A PING on the subscription connection, answered after the SUBSCRIBE before it, then tells when
    // Redis confirmed it (what the attach's ack vouches for); if it fails, the multiplexer still
    // subscribes the queue once it reconnects, as 1.2.6 did with a handler.
    // On a cluster the PING does not vouch for an SSUBSCRIBE: it travels on some server's subscription
    // connection, not necessarily the one of the channel's shard. There the node publishes a probe to
    // the channel and waits to hear it: heard, the subscription is live where publishes go.
    private async Task SubscribeQueueAsync(ISubscriber subscriber, RedisChannel channel, InboundTarget target, string key)
    {
        channel = _channels.OnServer(channel);
        var queue = await subscriber.SubscribeAsync(channel, CommandFlags.FireAndForget).ConfigureAwait(false);
        queue.OnMessage(message => OnMessage(target, key, channel, message.Message));
        await subscriber.PingAsync().ConfigureAwait(false);
        if (channel.IsSharded)
        {
            await ProbeAsync(subscriber, channel).ConfigureAwait(false);
        }
    }

    // Until heard or OperationTimeout (GuardAsync around the subscribe bounds and logs it). A probe that
    // overtook the SSUBSCRIBE (publish and subscribe travel on different connections) is simply lost,
    // so it is sent again, a little later each time.
    private async Task ProbeAsync(ISubscriber subscriber, RedisChannel channel)
    {
        var id = _acks.Register();
        try
        {
            var heard = _acks.WhenAcknowledged(id, 1);
            var payload = BackplaneMessage.WriteProbe(id, _serverName);
            for (var wait = 2; !heard.IsCompleted; wait = Math.Min(wait * 2, 200))
            {
                CountPublish();
                await subscriber.PublishAsync(channel, payload).ConfigureAwait(false);
                await Task.WhenAny(heard, Task.Delay(wait)).ConfigureAwait(false);
            }
        }
        finally
        {
            _acks.Forget(id);
        }
    }

    private Task UnsubscribeAsync(RedisChannel channel) =>
        _subscriber?.UnsubscribeAsync(_channels.OnServer(channel)) ?? Task.CompletedTask;

    // Runs on the channel queue's reader, one message of the channel at a time: must not block, only enqueue.
    private void OnMessage(InboundTarget target, string key, RedisChannel channel, RedisValue value)
    {
        CountReceive();
        byte[]? payload = value;
        if (payload is not { Length: > 0 })
        {
            return;
        }

        if (BackplaneMessage.ReadKind(payload) == BackplaneMessageKind.Probe)
        {
            var (id, server) = BackplaneMessage.ReadProbe(payload);
            if (server == _serverName)
            {
                _acks.OnAck(id);
            }

            return;
        }

        _inbox.Writer.TryWrite(new Inbound(target, key, channel, payload));
    }

    // Acks bypass the inbox: nothing in the inbox waits for them, and they must not queue behind
    // slow writes to clients.
    private void OnAck(RedisChannel channel, RedisValue value)
    {
        CountReceive();
        byte[]? payload = value;
        if (payload is { Length: 9 } && BackplaneMessage.ReadKind(payload) == BackplaneMessageKind.Ack)
        {
            _acks.OnAck(BackplaneMessage.ReadAck(payload));
        }
    }

    private void CountReceive()
    {
        Interlocked.Increment(ref _receiveCount);
        BackplaneMetrics.Receives.Add(1);
    }

    private async Task ProcessInboxAsync()
    {
        await foreach (var message in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                Handle(message);
            }
            catch (Exception ex)
            {
                Log.HandleFailed(_logger, message.Channel.ToString(), ex);
            }
        }
    }

    private void Handle(Inbound message)
    {
        switch (BackplaneMessage.ReadKind(message.Payload))
        {
            case BackplaneMessageKind.Invocation when message.Target == InboundTarget.Group && Muted:
                Interlocked.Increment(ref _mutedDrops);
                BackplaneMetrics.MutedGroupMessages.Add(1);
                break;
            case BackplaneMessageKind.Invocation:
                var invocation = BackplaneMessage.ReadInvocation(message.Payload);
                Enqueue(LocalTargets(message), new SerializedHubMessage(invocation.Messages), invocation.ExcludedConnectionIds);
                break;
            case BackplaneMessageKind.GroupCommand:
                var command = BackplaneMessage.ReadGroupCommand(message.Payload);
                // Membership changes here, in inbox order, before the next message is looked at. Only the
                // ack waits for Redis (a first member's SUBSCRIBE): the inbox does not, so a batch of
                // attaches to new groups costs the node one round trip, not one per attach.
                var targets = command.Action == GroupAction.Fence ? []
                    : command.Only is { } only
                    ? LocalTargets(message).Where(c => only.ByUser ? c.Context.UserIdentifier == only.Key : c.ConnectionId == only.Key).ToArray()
                    : LocalTargets(message);
                Task? pending = null;
                foreach (var connection in targets)
                {
                    var applied = ApplyLocallyAsync(command.Action, connection, command.GroupName);
                    if (!applied.IsCompleted)
                    {
                        pending = pending is null ? applied : Task.WhenAll(pending, applied);
                    }
                }

                if (pending is null)
                {
                    Acknowledge(command);
                }
                else
                {
                    _ = AcknowledgeWhenDoneAsync(pending, command);
                }

                break;
            default:
                Log.UnknownMessage(_logger, message.Payload[0], message.Channel.ToString());
                break;
        }
    }

    private IReadOnlyCollection<LocalConnection> LocalTargets(Inbound message) => message.Target switch
    {
        InboundTarget.All => [.. _connections.Values],
        InboundTarget.Group => _groups.Members(message.Key),
        InboundTarget.User => _users.Members(message.Key),
        InboundTarget.Connection => _connections.TryGetValue(message.Key, out var connection) ? [connection] : [],
        _ => [],
    };

    // Only enqueues: the inbox serves the whole node in order, so it must never wait for a client.
    private static void Enqueue(IReadOnlyCollection<LocalConnection> targets, SerializedHubMessage message, IReadOnlyList<string> excluded)
    {
        foreach (var connection in targets)
        {
            if (excluded.Count == 0 || !excluded.Contains(connection.ConnectionId))
            {
                connection.Send(message);
            }
        }
    }

    private async Task ApplyLocallyAsync(GroupAction action, LocalConnection connection, string groupName)
    {
        if (action == GroupAction.Close)
        {
            connection.Context.Abort();
        }
        else if (action == GroupAction.Add)
        {
            await GuardAsync(_groups.Add(groupName, connection), _channels.Group(groupName), Log.SubscribeFailed).ConfigureAwait(false);
        }
        else
        {
            await GuardAsync(_groups.Remove(groupName, connection.ConnectionId), _channels.Group(groupName), Log.UnsubscribeFailed).ConfigureAwait(false);
        }
    }

    private async Task AcknowledgeWhenDoneAsync(Task applied, GroupCommand command)
    {
        // ApplyLocallyAsync never throws (GuardAsync logs and bounds the wait).
        await applied.ConfigureAwait(false);
        Acknowledge(command);
    }

    private void Acknowledge(GroupCommand command)
    {
        var channel = _channels.OnServer(_channels.Ack(command.AckServer));
        try
        {
            // Fire-and-forget keeps the inbox loop from waiting on Redis; it still goes out on the
            // same ordered connection, after the SUBSCRIBE the ack vouches for was confirmed.
            CountPublish();
            _subscriber?.Publish(channel, BackplaneMessage.WriteAck(command.Id), CommandFlags.FireAndForget);
        }
        catch (Exception ex)
        {
            Log.PublishFailed(_logger, channel.ToString(), ex);
        }
    }

    // A detach goes on the group's own channel, not the target's: there it is ordered with the group's
    // events, so every node that can deliver the group hears it before any event published after it,
    // whatever the receiver counts say (on a cluster a count covers only the shard node that ran the
    // publish, and after a failover a subscription may sit on another node of the shard). Every node
    // subscribed to the group acks it, so it also completes only once the holders applied it, and a
    // later attach on the user's channel cannot be overtaken by it.
    private Task DetachAsync(MemberFilter members, string groupName, CancellationToken cancellationToken) =>
        SendGroupCommandAsync(_channels.Group(groupName), GroupAction.Remove, groupName, cancellationToken, members);

    private void OnSubscriptionLost(string? endPoint)
    {
        Interlocked.Increment(ref _lossGeneration);
        if (Interlocked.Exchange(ref _muted, 1) == 0)
        {
            Log.Muted(_logger, endPoint);
            _ = Task.Run(RecoverAsync);
        }
    }

    private void OnTopologyChanged()
    {
        try
        {
            if (_topologyChanged.CurrentCount == 0) _topologyChanged.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    // Muted until every subscription of this node is on a connected server again and the application
    // has reconciled the groups (it reads the truth after every membership change in flight committed);
    // a loss during the reconciliation starts over.
    private async Task RecoverAsync()
    {
        var dropsBefore = Interlocked.Read(ref _mutedDrops);
        while (!_inbox.Reader.Completion.IsCompleted)
        {
            await _topologyChanged.WaitAsync(_options.ReconnectInterval).ConfigureAwait(false);
            if (!SubscriptionsLive())
            {
                continue;
            }

            var generation = Interlocked.Read(ref _lossGeneration);
            try
            {
                await RaiseResynchronizeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.ResynchronizeFailed(_logger, ex);
                continue;
            }

            Volatile.Write(ref _muted, 0);
            if (generation == Interlocked.Read(ref _lossGeneration))
            {
                Log.Unmuted(_logger, Interlocked.Read(ref _mutedDrops) - dropsBefore);
                return;
            }

            Volatile.Write(ref _muted, 1);
        }
    }

    private bool SubscriptionsLive()
    {
        var (multiplexer, subscriber) = (_multiplexer, _subscriber);
        if (multiplexer is null || subscriber is null || !multiplexer.IsConnected)
        {
            return false;
        }

        IEnumerable<RedisChannel> channels =
        [
            _channels.All,
            _channels.Ack(_serverName),
            .. _groups.Keys().Select(_channels.Group),
            .. _users.Keys().Select(_channels.User),
            .. _connections.Keys.Select(_channels.Connection),
        ];
        foreach (var channel in channels)
        {
            if (subscriber.SubscribedEndpoint(_channels.OnServer(channel)) is not { } endpoint || !multiplexer.GetServer(endpoint).IsConnected)
            {
                return false;
            }
        }

        return true;
    }

    private async Task RaiseResynchronizeAsync()
    {
        if (Resynchronize is { } handlers)
        {
            await Task.WhenAll(handlers.GetInvocationList().Cast<Func<Task>>().Select(handler => handler())).ConfigureAwait(false);
        }
    }

    private async Task SendGroupCommandAsync(
        RedisChannel channel, GroupAction action, string groupName, CancellationToken cancellationToken, MemberFilter? only = null)
    {
        var id = _acks.Register();
        using var activity = BackplaneTracing.Source.StartActivity("backplane " + GroupActionName(action), ActivityKind.Client);
        activity?.SetTag("realtime.backplane.channel", _channels.KindOf(channel));
        try
        {
            var payload = BackplaneMessage.WriteGroupCommand(new GroupCommand(id, _serverName, action, groupName, only));
            var receivers = await PublishAsync(channel, payload, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("realtime.backplane.receivers", receivers);
            if (receivers is null && action == GroupAction.Remove && IsConnected)
            {
                // Connected, yet the PUBLISH was not answered in time (a stalled network): it may never
                // arrive, and no Resynchronize will follow as after a reconnect. Fail, as for a missing ack.
                // (Not connected at all: the documented gap, closed by Resynchronize once Redis is back.)
                throw new TimeoutException(
                    $"Detach from group '{groupName}' on {channel}: Redis did not answer the publish within {_options.OperationTimeout} although connected.");
            }

            if (receivers is not > 0)
            {
                return;
            }

            try
            {
                await _acks.WhenAcknowledged(id, receivers.Value).WaitAsync(_options.AckTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                activity?.SetStatus(ActivityStatusCode.Error, "ack timeout");
                Log.AckTimedOut(_logger, action.ToString(), groupName, _options.AckTimeout);
                if (action == GroupAction.Remove)
                {
                    // A node got the detach and did not confirm it: it may still deliver the group's
                    // next event to the removed member. Fail, so the caller rolls back rather than go on.
                    throw new TimeoutException(
                        $"Detach from group '{groupName}' on {channel}: not every node that got it confirmed within {_options.AckTimeout}.");
                }
            }
        }
        finally
        {
            _acks.Forget(id);
        }
    }

    /// <returns>Number of subscribers that got the message, or null when Redis could not be reached.</returns>
    private async Task<long?> PublishAsync(RedisChannel channel, byte[] payload, CancellationToken cancellationToken)
    {
        using var activity = BackplaneTracing.Source.StartActivity("backplane publish", ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "redis");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("realtime.backplane.channel", _channels.KindOf(channel));
            activity.SetTag("messaging.message.body.size", payload.Length);
        }
        try
        {
            await _connect.WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            var subscriber = _subscriber ?? throw new InvalidOperationException("The Redis connection could not be created.");
            channel = _channels.OnServer(channel);
            CountPublish();
            // AsyncTimeout bounds it too; the wait here also covers a cancelled caller.
            var receivers = await subscriber.PublishAsync(channel, payload).WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("realtime.backplane.receivers", receivers);
            return receivers;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            Log.PublishFailed(_logger, channel.ToString(), ex);
            return null;
        }
    }

    private static string GroupActionName(GroupAction action) => action switch
    {
        GroupAction.Add => "attach",
        GroupAction.Remove => "detach",
        GroupAction.Fence => "fence",
        GroupAction.Close => "close",
        _ => "group command",
    };

    private void CountPublish()
    {
        Interlocked.Increment(ref _publishCount);
        BackplaneMetrics.Publishes.Add(1);
    }

    private byte[] Invocation(string methodName, object?[] args, IReadOnlyList<string>? excludedConnectionIds)
    {
        var message = new InvocationMessage(methodName, args);
        var serialized = new SerializedMessage[_protocols.Count];
        for (var i = 0; i < serialized.Length; i++)
        {
            serialized[i] = new SerializedMessage(_protocols[i].Name, _protocols[i].GetMessageBytes(message));
        }

        return BackplaneMessage.WriteInvocation(excludedConnectionIds, serialized);
    }

    private Task GuardAsync(Task operation, RedisChannel channel, Action<ILogger, string, Exception> logFailure) =>
        GuardAsync(operation, channel.ToString(), logFailure);

    // Subscriptions are best effort too: the multiplexer keeps failed ones and sends them on reconnect.
    private async Task GuardAsync(Task operation, string channel, Action<ILogger, string, Exception> logFailure)
    {
        try
        {
            await operation.WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logFailure(_logger, channel, ex);
        }
    }

    private enum InboundTarget
    {
        All,
        Connection,
        Group,
        User,
    }

    private readonly record struct Inbound(InboundTarget Target, string Key, RedisChannel Channel, byte[] Payload);
}
