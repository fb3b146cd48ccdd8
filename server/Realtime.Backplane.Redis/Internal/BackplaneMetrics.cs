using System.Diagnostics.Metrics;

namespace Realtime.Backplane.Redis.Internal;

// One process-wide meter so /metrics can aggregate every hub's backplane traffic.
internal static class BackplaneMetrics
{
    public const string MeterName = "Realtime.Backplane";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Publishes =
        Meter.CreateCounter<long>("realtime_backplane_publishes", description: "Redis PUBLISH calls made by the backplane.");

    public static readonly Counter<long> Receives =
        Meter.CreateCounter<long>("realtime_backplane_receives", description: "Messages the backplane received from Redis.");

    public static readonly Counter<long> SlowConsumersClosed =
        Meter.CreateCounter<long>(
            "realtime_backplane_slow_consumers_closed",
            description: "Connections closed for not reading: reason queue_full (outgoing queue over MaxQueuedBytesPerConnection) or stalled (one write over SlowConsumerTimeout).");

    public static readonly Counter<long> MutedGroupMessages =
        Meter.CreateCounter<long>(
            "realtime_backplane_muted_group_messages",
            description: "Group messages a node dropped while it could not be sure it had heard every detach (a Redis subscription connection was lost and not yet reconciled); clients catch up with Sync.");

    private static long _queuedBytes;

    private static readonly ObservableGauge<long> QueuedBytes =
        Meter.CreateObservableGauge(
            "realtime_backplane_outgoing_queued_bytes",
            () => Interlocked.Read(ref _queuedBytes),
            unit: "By",
            description: "Serialized bytes waiting in local connections' outgoing queues (a message sent to several connections counts for each).");

    public static void AddQueuedBytes(long bytes)
    {
        if (bytes != 0)
        {
            Interlocked.Add(ref _queuedBytes, bytes);
        }
    }
}
