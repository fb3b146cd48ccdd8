using Dapper;
using Microsoft.Extensions.Options;
using Realtime.Server.Apps;
using Realtime.Server.Commands;
using Realtime.Server.Data;

namespace Realtime.Server.Operations;

/// <summary>
/// Trims the log to the retention of SPEC §5.3 and forgets requestIds after 24 h. Age: whole
/// daily partitions go once all of their rows are older than RetentionAge (LogPartitions), so a
/// row lives between RetentionAge and RetentionAge + 1 day. Events per group: rows deleted by
/// (gid, seq), only in the groups over the count. Each round also creates the partitions ahead.
/// One node at a time works (a try-lock), the others skip the round.
/// </summary>
public sealed partial class RetentionService(Db db, LogPartitions partitions, IOptions<RealtimeOptions> options, TimeProvider clock, ILogger<RetentionService> logger)
    : BackgroundService
{
    private const long LockKey = 0x5245_5445_4E54_494F; // "RETENTIO"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await TrimAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(e);
            }
        }
    }

    /// <summary>One round; answers false when another node holds the round.</summary>
    public async Task<bool> TrimAsync(CancellationToken ct = default)
    {
        var o = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var c = await db.OpenAsync(ct);
        if (!await c.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: ct)))
            return false;
        try
        {
            var args = new { cutoff = now - o.RetentionAge, keep = (long)o.RetentionEventsPerGroup, requestCutoff = now - Idempotency.Window };
            // Separate statements, each its own short transaction: a group's row is locked only
            // for the moment its trimmed_through moves, not for the whole round.
            await partitions.EnsureAheadAsync(ct);
            var dropped = await partitions.DropBeforeAsync(args.cutoff, ct);
            var trimmed = 0;
            foreach (var sql in RoundStatements)
                trimmed += await c.ExecuteAsync(new CommandDefinition(sql, args, commandTimeout: 300, cancellationToken: ct));
            LogTrimmed(dropped, trimmed);
            return true;
        }
        finally
        {
            await c.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@LockKey)", new { LockKey }, cancellationToken: CancellationToken.None));
        }
    }

    private static readonly string[] RoundStatements =
    [
        // The per-group count: only groups holding more than @keep events past their trimmed
        // point, each deleted through its (gid, seq) key.
        """
        WITH old AS (
            DELETE FROM group_events e USING groups g
            WHERE g.last_seq - @keep > g.trimmed_through AND e.gid = g.gid AND e.seq <= g.last_seq - @keep
            RETURNING e.gid, e.seq)
        UPDATE groups g SET trimmed_through = GREATEST(g.trimmed_through, o.max_seq)
        FROM (SELECT gid, max(seq) AS max_seq FROM old GROUP BY gid) o WHERE g.gid = o.gid
        """,
        "DELETE FROM idempotency_keys WHERE created_at < @requestCutoff",
        // Delivered or abandoned webhooks are kept as long as the log, for inspection.
        "DELETE FROM outbox WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < @cutoff",
    ];

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Retention round done ({Partitions} log partitions dropped, {Rows} rows changed)")]
    private partial void LogTrimmed(int partitions, int rows);

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "Retention round failed")]
    private partial void LogFailed(Exception e);
}
