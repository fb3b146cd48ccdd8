using Microsoft.Extensions.Logging;

namespace Realtime.Backplane.Redis.Internal;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Connecting to Redis ({Endpoints}) as backplane node {ServerName}.")]
    public static partial void Connecting(ILogger logger, string endpoints, string serverName);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Connected to Redis (connected: {IsConnected}).")]
    public static partial void Connected(ILogger logger, bool isConnected);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Could not create the Redis connection.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Redis connection {ConnectionType} to {EndPoint} failed ({FailureType}).")]
    public static partial void ConnectionFailed(ILogger logger, string connectionType, string? endPoint, string failureType, Exception? exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Redis connection {ConnectionType} to {EndPoint} restored.")]
    public static partial void ConnectionRestored(ILogger logger, string connectionType, string? endPoint);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Publishing to {Channel} failed; the push is dropped (clients catch up by Sync).")]
    public static partial void PublishFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Subscribing to {Channel} did not complete; it is retried when Redis reconnects.")]
    public static partial void SubscribeFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Unsubscribing from {Channel} failed.")]
    public static partial void UnsubscribeFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Group change {Action} '{GroupName}' was not acknowledged by every node within {Timeout}.")]
    public static partial void AckTimedOut(ILogger logger, string action, string groupName, TimeSpan timeout);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "Handling a backplane message from {Channel} failed.")]
    public static partial void HandleFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Ignoring a backplane message of unknown kind {Kind} on {Channel}.")]
    public static partial void UnknownMessage(ILogger logger, int kind, string channel);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Closing connection {ConnectionId}: it took no message within {Timeout}.")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, TimeSpan timeout);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Closing connection {ConnectionId}: {QueuedBytes} bytes would wait for it, over the limit of {MaxQueuedBytes}; its queued messages are dropped.")]
    public static partial void OutgoingQueueFull(ILogger logger, string connectionId, long queuedBytes, long maxQueuedBytes);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Redis is a cluster: group, user, connection and ack channels are sharded (SSUBSCRIBE/SPUBLISH).")]
    public static partial void ShardedChannels(ILogger logger);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "A Redis subscription connection ({EndPoint}) was lost: group messages are held back until this node's groups are reconciled.")]
    public static partial void Muted(ILogger logger, string? endPoint);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "Subscriptions restored and groups reconciled: group messages flow again ({Dropped} dropped meanwhile).")]
    public static partial void Unmuted(ILogger logger, long dropped);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Reconciling after a lost subscription failed; retrying.")]
    public static partial void ResynchronizeFailed(ILogger logger, Exception exception);
}
