using System.Diagnostics;
using Npgsql;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Realtime.Server.Apps;
using Realtime.Server.Data;
using Realtime.Server.Operations;
using Realtime.Server.WebPush;

namespace Realtime.Server.Callbacks;

/// <summary>Outbox delivery settings (section Realtime:Outbox).</summary>
public sealed class OutboxOptions
{
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>First retry delay; doubled each attempt up to MaxRetryDelay.</summary>
    public TimeSpan RetryBase { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);
    public int MaxAttempts { get; set; } = 12;
    /// <summary>How long a claimed row is ours; past it (a crash mid-send) another worker retries it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Wakes the worker when a command on this node queued something.</summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Notify() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) =>
        Volatile.Read(ref _next).Task.WaitAsync(timeout, ct).ContinueWith(_ => { }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}

/// <summary>
/// Delivers after-callbacks and offline pushes (SPEC §7): at least once, with the same delivery
/// id on every attempt, retried with backoff. Rows are claimed with FOR UPDATE SKIP LOCKED and
/// a lease, so several nodes share the work and a crash mid-send only delays a row.
/// </summary>
public sealed partial class OutboxWorker(
    Db db, AppRegistry apps, IHttpClientFactory http, OutboxSignal signal, RealtimeMetrics metrics,
    WebPushFanOut webPushFanOut, WebPushSender webPush, IOptions<OutboxOptions> options, TimeProvider clock, ILogger<OutboxWorker> logger) : BackgroundService
{
    private const int BatchSize = 32;

    private OutboxOptions O => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = signal.WaitAsync(O.PollInterval, stoppingToken);
            try
            {
                if (await RunOnceAsync(stoppingToken) == BatchSize) continue;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(e);
            }
            await wake;
        }
    }

    /// <summary>One round: claims due rows and tries each once. Answers how many were claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        List<Row> rows;
        await using (var c = await db.OpenAsync(ct))
        {
            rows = (await c.QueryAsync<Row>(new CommandDefinition("""
                UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @leaseEnd
                WHERE id IN (SELECT id FROM outbox
                             WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= @now
                             ORDER BY id LIMIT @BatchSize FOR UPDATE SKIP LOCKED)
                RETURNING id, app_id, kind, delivery_id, payload::text AS payload, attempts
                """, new { now, leaseEnd = now + O.Lease, BatchSize }, cancellationToken: ct))).ToList();
            metrics.OutboxDepth = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL", cancellationToken: ct));
        }
        var started = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        try
        {
            await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (row, token) =>
                {
                    started[row.Id] = true;
                    await DeliverAsync(row, token);
                });
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Claimed rows this node will not try now go back at once (those it started release themselves).
            foreach (var row in rows.Where(r => !started.ContainsKey(r.Id))) await ReleaseAsync(row, sent: false);
            throw;
        }
        return rows.Count;
    }

    private async Task DeliverAsync(Row row, CancellationToken ct)
    {
        // A delivery attempt is an operation of its own (a trace root when traced); its statements are its children.
        using var activity = Telemetry.RealtimeTracing.Source.StartActivity("outbox deliver " + row.Kind, ActivityKind.Consumer, parentContext: default);
        activity?.SetTag("realtime.app", row.AppId);
        activity?.SetTag("realtime.outbox.kind", row.Kind);
        activity?.SetTag("realtime.outbox.attempt", row.Attempts);
        string? error = null;
        var sending = false;
        var retry = true;
        try
        {
            if (row.Kind == WebPushFanOut.Kind)
                (sending, (error, retry)) = (true, await webPush.SendAsync(row.AppId, row.DeliveryId, row.Payload, ct));
            else if (await RequestOfAsync(row, ct) is (string url, string body))
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(O.RequestTimeout);
                using var request = WebhookSigner.Request(url, apps.Get(row.AppId).Secret, body, row.DeliveryId, clock.GetUtcNow());
                sending = true;
                using var response = await http.CreateClient(BeforeCallbacks.HttpClientName).SendAsync(request, timeout.Token);
                if (!response.IsSuccessStatusCode) error = $"HTTP {(int)response.StatusCode}";
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            error = e.GetType().Name + ": " + e.Message;
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Shutting down with the row claimed: hand it back at once rather than leave it leased for
            // O.Lease (another node takes it now), and uncount an attempt that never went out.
            await ReleaseAsync(row, sending);
            throw;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var giveUp = error is not null && (!retry || row.Attempts >= O.MaxAttempts);
        if (giveUp && retry && row.Kind == WebPushFanOut.Kind) webPush.GaveUp();
        var delay = TimeSpan.FromTicks(Math.Min(O.MaxRetryDelay.Ticks, O.RetryBase.Ticks * (1L << Math.Min(row.Attempts - 1, 30))));
        await using var c = await db.OpenAsync(CancellationToken.None);
        await c.ExecuteAsync(error is null
            ? "UPDATE outbox SET delivered_at = @now, last_error = NULL WHERE id = @Id"
            : giveUp
                ? "UPDATE outbox SET failed_at = @now, last_error = @error WHERE id = @Id"
                : "UPDATE outbox SET next_attempt_at = @next, last_error = @error WHERE id = @Id",
            new { row.Id, now, next = now + delay, error });
        var outcome = error is null ? "delivered" : giveUp ? "failed" : "retry";
        activity?.SetTag("realtime.outbox.outcome", outcome);
        if (error is not null) activity?.SetStatus(ActivityStatusCode.Error, outcome);
        metrics.OutboxDeliveries.Add(1, new("kind", row.Kind), new("outcome", outcome));
        if (error is not null) LogAttemptFailed(row.Kind, row.DeliveryId, row.Attempts, error, giveUp);
    }

    private async Task ReleaseAsync(Row row, bool sent)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await using var c = await db.OpenAsync(bounded.Token);
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE outbox SET next_attempt_at = @now, attempts = attempts - @unsent WHERE id = @Id AND delivered_at IS NULL",
                new { row.Id, now = clock.GetUtcNow().UtcDateTime, unsent = sent ? 0 : 1 }, cancellationToken: bounded.Token));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The lease runs out by itself.
        }
    }

    /// <summary>Where a row goes and what it says; (null, null) when nobody needs it any more.</summary>
    private async Task<(string? Url, string? Body)> RequestOfAsync(Row row, CancellationToken ct)
    {
        if (!apps.TryGet(row.AppId, out var app)) return (null, null);
        if (row.Kind == OutboxItem.CallbackKind) return (app.CallbackUrl, string.IsNullOrEmpty(app.CallbackUrl) ? null : row.Payload);
        if (!OfflinePush.Wanted(app)) return (null, null);

        var payload = JsonDocument.Parse(row.Payload).RootElement;
        var body = new Dictionary<string, object?> { ["appId"] = row.AppId, ["deliveryId"] = row.DeliveryId };
        var kind = payload.GetProperty("kind").GetString();
        body["kind"] = kind;
        switch (kind)
        {
            case OfflinePush.GroupMessageKind:
                var message = payload.GetProperty("message");
                List<string> users;
                await using (var c = await db.OpenAsync(ct))
                    users = [.. await OfflinePush.GroupMessageRecipientsAsync(c, row.AppId, payload.GetProperty("gid").GetInt64(), message, clock.GetUtcNow().UtcDateTime, ct)];
                if (users.Count == 0) return (null, null);
                body["users"] = users;
                body["message"] = message;
                break;
            case OfflinePush.SystemMessageKind:
                body["items"] = payload.GetProperty("items");
                break;
            default:
                throw new InvalidOperationException($"unknown push kind '{kind}'");
        }
        // The same push also goes to the users' browsers, each subscription a row of its own (idempotent on a retry).
        if (app.WebPush.Enabled) await webPushFanOut.QueueAsync(row.AppId, app, row.DeliveryId, body, ct);
        if (string.IsNullOrEmpty(app.PushUrl)) return (null, null);
        return (app.PushUrl, JsonSerializer.Serialize(body, RealtimeJson.Options));
    }

    private sealed class Row
    {
        public long Id { get; init; }
        public string AppId { get; init; } = "";
        public string Kind { get; init; } = "";
        public Guid DeliveryId { get; init; }
        public string Payload { get; init; } = "";
        public int Attempts { get; init; }
    }

    [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "Outbox {Kind} {DeliveryId} attempt {Attempt} failed: {Error} (given up: {GaveUp})")]
    private partial void LogAttemptFailed(string kind, Guid deliveryId, int attempt, string error, bool gaveUp);

    [LoggerMessage(EventId = 511, Level = LogLevel.Error, Message = "Outbox round failed")]
    private partial void LogRoundFailed(Exception e);
}
