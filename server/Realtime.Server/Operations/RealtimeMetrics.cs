using System.Diagnostics.Metrics;
using Realtime.Server.Delivery;

namespace Realtime.Server.Operations;

/// <summary>The node's instruments (one Meter per node through IMeterFactory).</summary>
public sealed class RealtimeMetrics
{
    public const string MeterName = "Realtime.Server";

    private readonly Meter _meter;

    public RealtimeMetrics(IMeterFactory meters, LocalTerminals terminals)
    {
        var meter = _meter = meters.Create(MeterName);
        Commands = meter.CreateCounter<long>("realtime_commands", description: "Commands handled, by method and outcome (ok or the error code).");
        CommandDuration = meter.CreateHistogram<double>("realtime_command_duration_seconds", "s", "Command latency, by method.");
        Deliveries = meter.CreateCounter<long>("realtime_deliveries", description: "Live pushes handed to SignalR, by kind.");
        SyncRequests = meter.CreateCounter<long>("realtime_sync_requests", description: "Sync calls.");
        CommandsPerTransaction = meter.CreateHistogram<int>("realtime_commands_per_transaction",
            description: "Commands applied in one transaction (group commit: above 1 only under load).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64] });
        OutboxDeliveries = meter.CreateCounter<long>("realtime_outbox_deliveries", description: "Callback and push deliveries, by kind and outcome.");
        WebPushSent = meter.CreateCounter<long>("realtime_webpush_sent", description: "Web pushes a push service accepted.");
        WebPushFailed = meter.CreateCounter<long>("realtime_webpush_failed",
            description: "Web pushes given up, by reason (rejected: a 4xx; gave_up: out of retries; expired; refused: the endpoint's address).");
        WebPushSubscriptionsDropped = meter.CreateCounter<long>("realtime_webpush_subscriptions_dropped",
            description: "Web push subscriptions deleted because their push service answered 404 or 410.");
        meter.CreateObservableGauge("realtime_connections", () => terminals.Count, description: "Terminals connected to this node.");
        meter.CreateObservableGauge("realtime_outbox_depth", () => OutboxDepth, description: "Callbacks and pushes waiting, as last seen by the worker.");
    }

    public Counter<long> Commands { get; }
    public Histogram<double> CommandDuration { get; }
    public Counter<long> Deliveries { get; }
    public Counter<long> SyncRequests { get; }
    public Counter<long> OutboxDeliveries { get; }
    public Histogram<int> CommandsPerTransaction { get; }
    public Counter<long> WebPushSent { get; }
    public Counter<long> WebPushFailed { get; }
    public Counter<long> WebPushSubscriptionsDropped { get; }

    /// <summary>Registered by GroupCommit, which owns the number.</summary>
    public void ObserveGroupCommitWaiting(Func<long> waiting) =>
        _meter.CreateObservableGauge("realtime_group_commit_waiting", waiting, description: "Commands waiting for their group's next transaction.");

    /// <summary>Set by the outbox worker each round; a gauge reads it without touching the database.</summary>
    public long OutboxDepth { get; set; }
}
