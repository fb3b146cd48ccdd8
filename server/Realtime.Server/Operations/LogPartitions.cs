using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Data;

namespace Realtime.Server.Operations;

/// <summary>
/// The daily partitions of the log tables (migration 0007): created ahead of time by every node
/// at start-up and by each retention round, dropped whole by retention once all of a partition
/// is older than the retention age. Plain declarative partitioning, no extension: a fresh
/// PostgreSQL needs nothing but the migrations.
/// </summary>
public sealed partial class LogPartitions(Db db, IOptions<RealtimeOptions> options, TimeProvider clock, ILogger<LogPartitions> logger)
{
    private const long LockKey = 0x5041_5254_4954_494E; // "PARTITIN"

    /// <summary>A log table and the key its trimmed_through is kept under.</summary>
    private sealed record LogTable(string Name, string TrimSql);

    private static readonly LogTable[] Tables =
    [
        // Exact tooOld (SyncService): before a partition goes, each group's trimmed_through moves
        // to the last seq it held, so a cursor at or after it is not too old and one before it is.
        new("group_events", """
            UPDATE groups g SET trimmed_through = GREATEST(g.trimmed_through, o.max_seq)
            FROM (SELECT gid, max(seq) AS max_seq FROM {0} GROUP BY gid) o
            WHERE g.gid = o.gid AND g.trimmed_through < o.max_seq
            """),
        new("system_messages", """
            UPDATE users u SET trimmed_through = GREATEST(u.trimmed_through, o.max_seq)
            FROM (SELECT app_id, user_id, max(seq) AS max_seq FROM {0} GROUP BY app_id, user_id) o
            WHERE u.app_id = o.app_id AND u.user_id = o.user_id AND u.trimmed_through < o.max_seq
            """),
    ];

    /// <summary>One partition: [From, To), a null bound is unbounded (the legacy partition starts at MINVALUE).</summary>
    public sealed record Partition(string Table, string Name, DateTime? From, DateTime? To);

    /// <summary>The partitions of both log tables, oldest first.</summary>
    public async Task<IReadOnlyList<Partition>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await ListAsync(c, ct);
    }

    private static async Task<List<Partition>> ListAsync(NpgsqlConnection c, CancellationToken ct) =>
        (await c.QueryAsync<Partition>(new CommandDefinition("""
            SELECT p.relname AS "Table", c.relname AS "Name",
                   CASE WHEN b[1] ~ '^''' THEN trim(both '''' FROM b[1])::timestamptz END AS "From",
                   CASE WHEN b[2] ~ '^''' THEN trim(both '''' FROM b[2])::timestamptz END AS "To"
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \((.*)\) TO \((.*)\)') AS b
            WHERE p.relname = ANY(@tables) AND p.relnamespace = 'public'::regnamespace
            ORDER BY 1, 3 NULLS FIRST
            """, new { tables = Tables.Select(t => t.Name).ToArray() }, cancellationToken: ct))).ToList();

    /// <summary>Creates what is missing of today's partitions and <c>LogPartitionsAhead</c> days after it.</summary>
    public Task<int> EnsureAheadAsync(CancellationToken ct = default)
    {
        var today = clock.GetUtcNow().UtcDateTime.Date;
        return EnsureAsync(today, today.AddDays(options.Value.LogPartitionsAhead), ct);
    }

    /// <summary>
    /// Creates a partition for each UTC day from <paramref name="firstDay"/> to <paramref name="lastDay"/>
    /// (inclusive) that no partition covers yet. Each is created as a plain table and then attached,
    /// which locks the parent only in SHARE UPDATE EXCLUSIVE mode: inserts and reads go on meanwhile.
    /// Nodes take turns (an advisory lock). Answers how many partitions were created.
    /// </summary>
    public async Task<int> EnsureAsync(DateTime firstDay, DateTime lastDay, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(@LockKey); SET LOCAL lock_timeout = '10s'", new { LockKey }, tx, cancellationToken: ct));
        var existing = await ListAsync(c, ct);
        var created = 0;
        foreach (var table in Tables)
        {
            var mine = existing.Where(p => p.Table == table.Name).ToList();
            for (var day = firstDay.Date; day <= lastDay.Date; day = day.AddDays(1))
            {
                var (from, to) = (day, day.AddDays(1));
                if (mine.Any(p => (p.From is null || p.From < to) && (p.To is null || p.To > from))) continue;
                var name = $"{table.Name}_p{day:yyyyMMdd}";
                await c.ExecuteAsync(new CommandDefinition($"""
                    CREATE TABLE {name} (LIKE {table.Name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE);
                    ALTER TABLE {table.Name} ATTACH PARTITION {name} FOR VALUES FROM ('{Bound(from)}') TO ('{Bound(to)}');
                    """, transaction: tx, cancellationToken: ct));
                created++;
            }
        }
        await tx.CommitAsync(ct);
        if (created > 0) LogCreated(created, firstDay, lastDay);
        return created;
    }

    /// <summary>
    /// Drops every partition whose whole range is before <paramref name="cutoff"/>: first the
    /// groups' and users' trimmed_through move past what it holds (so Sync says tooOld from then
    /// on, never misses silently), then it is detached CONCURRENTLY (no lock that stops inserts or
    /// reads) and dropped. Answers the partitions dropped. The caller holds the retention lock.
    /// </summary>
    public async Task<int> DropBeforeAsync(DateTime cutoff, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        await FinishInterruptedAsync(c, ct);
        var dropped = 0;
        foreach (var p in (await ListAsync(c, ct)).Where(p => p.To is { } to && to <= cutoff))
        {
            var table = Tables.Single(t => t.Name == p.Table);
            await c.ExecuteAsync(new CommandDefinition(string.Format(CultureInfo.InvariantCulture, table.TrimSql, p.Name),
                commandTimeout: 600, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition(
                $"ALTER TABLE {p.Table} DETACH PARTITION {p.Name} CONCURRENTLY", commandTimeout: 600, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition($"DROP TABLE {p.Name}", cancellationToken: ct));
            LogDropped(p.Name, p.To!.Value);
            dropped++;
        }
        return dropped;
    }

    /// <summary>
    /// A round interrupted between its steps leaves a partition "detach pending" or a detached
    /// table not yet dropped; both were already counted in trimmed_through, so they are finished.
    /// </summary>
    private async Task FinishInterruptedAsync(NpgsqlConnection c, CancellationToken ct)
    {
        var pending = await c.QueryAsync<(string Parent, string Name)>(new CommandDefinition("""
            SELECT p.relname, c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE i.inhdetachpending AND p.relname = ANY(@tables)
            """, new { tables = Tables.Select(t => t.Name).ToArray() }, cancellationToken: ct));
        foreach (var (parent, name) in pending)
            await c.ExecuteAsync(new CommandDefinition($"ALTER TABLE {parent} DETACH PARTITION {name} FINALIZE", cancellationToken: ct));
        var orphans = await c.QueryAsync<string>(new CommandDefinition("""
            SELECT relname FROM pg_class
            WHERE relkind = 'r' AND NOT relispartition AND relnamespace = 'public'::regnamespace
              AND relname ~ '^(group_events|system_messages)_(p[0-9]{8}|legacy)$'
            """, cancellationToken: ct));
        foreach (var name in orphans)
        {
            await c.ExecuteAsync(new CommandDefinition($"DROP TABLE {name}", cancellationToken: ct));
            LogDropped(name, null);
        }
    }

    private static string Bound(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Created {Count} log partitions for {First:yyyy-MM-dd}..{Last:yyyy-MM-dd}")]
    private partial void LogCreated(int count, DateTime first, DateTime last);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Dropped log partition {Name} (ending {To:O})")]
    private partial void LogDropped(string name, DateTime? to);
}
