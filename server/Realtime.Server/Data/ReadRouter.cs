using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Realtime.Server.Data;

/// <summary>Settings of the read replica (section Realtime:ReadReplica); the replica itself is ConnectionStrings:PostgresRead.</summary>
public sealed class ReadReplicaOptions
{
    /// <summary>How long a read waits for the replica to replay what the primary had when the read began, before it goes to the primary.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>After the replica failed (unreachable) or stayed behind for MaxWait, reads go straight to the primary this long.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The replica's data source, absent when ConnectionStrings:PostgresRead is not set.</summary>
public sealed class ReplicaDataSource(NpgsqlDataSource dataSource)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;
}

/// <summary>
/// The one place that decides where a read runs: on the hot standby of ConnectionStrings:PostgresRead
/// when it has replayed everything the primary had committed when the read began, else on the
/// primary. Commands never come here. The fence: the primary's WAL insert position, read at the
/// start (one tiny round trip), is past the commit of anything committed before, so a replica whose
/// replay position passed it answers like the primary would have at that moment — a terminal's
/// own commits, events it was pushed, any Sync cursor it holds (read-your-writes, monotonic).
/// A replica that is behind is waited for (at most MaxWait); one that is down is skipped.
/// </summary>
public sealed partial class ReadRouter
{
    private readonly Db _primary;
    private readonly NpgsqlDataSource? _replica;
    private readonly ReadReplicaOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<ReadRouter> _logger;
    private readonly Counter<long> _reads;
    private readonly object _gate = new();
    private DateTimeOffset _downUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _laggingUntil = DateTimeOffset.MinValue;
    private string _downBecause = "";
    private long _replayed; // the highest replay position seen on the replica (it only moves forward)

    public ReadRouter(Db primary, IOptions<ReadReplicaOptions> options, TimeProvider clock, IMeterFactory meters,
        ILogger<ReadRouter> logger, ReplicaDataSource? replica = null)
    {
        _primary = primary;
        _replica = replica?.DataSource;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _reads = meters.Create(Operations.RealtimeMetrics.MeterName).CreateCounter<long>("realtime_reads",
            description: "Reads that may use the replica, by where they ran (replica, primary) and why (fresh, no_replica, stale, down, error).");
    }

    /// <summary>True when a replica is configured.</summary>
    public bool HasReplica => _replica is not null;

    /// <summary>What keeps reads off the replica now (unreachable, or behind for longer than MaxWait), or null.</summary>
    public string? Problem
    {
        get
        {
            var now = _clock.GetUtcNow();
            lock (_gate)
            {
                if (now < _downUntil) return _downBecause;
                if (now < _laggingUntil) return $"replica replay was behind the primary for more than {_options.MaxWait.TotalMilliseconds:0} ms";
                return null;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/> on the replica when it is fresh enough, else on the primary; a
    /// read that fails on the replica for a database reason (not the caller's) runs again on the primary.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, CancellationToken ct = default)
    {
        if (_replica is null) return await OnPrimaryAsync(read, "no_replica", ct);
        bool down, lagging;
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            (down, lagging) = (now < _downUntil, now < _laggingUntil);
        }
        if (down) return await OnPrimaryAsync(read, "down", ct);

        long fence;
        await using (var p = await _primary.OpenAsync(ct))
            fence = Lsn(await p.ExecuteScalarAsync<string>(new CommandDefinition("SELECT pg_current_wal_insert_lsn()::text", cancellationToken: ct)));

        NpgsqlConnection? replica = null;
        try
        {
            replica = await _replica.OpenConnectionAsync(ct);
            // Lately behind: one look, no wait, so a lagging replica does not slow every read by MaxWait.
            if (Interlocked.Read(ref _replayed) < fence && !await CaughtUpAsync(replica, fence, lagging ? TimeSpan.Zero : _options.MaxWait, ct))
            {
                if (!lagging) LogLagging(_options.MaxWait);
                lock (_gate) _laggingUntil = _clock.GetUtcNow() + _options.RetryAfter;
                return await OnPrimaryAsync(read, "stale", ct);
            }
            if (lagging) lock (_gate) _laggingUntil = DateTimeOffset.MinValue;
            var result = await read(replica, ct);
            _reads.Add(1, new("target", "replica"), new("reason", "fresh"));
            return result;
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            // The server could not serve this read (a conflict with recovery, a database not replayed
            // yet): it goes to the primary. The server is gone or going (no answer, connection
            // errors, class 57P: shutting down, starting up): the replica is skipped for RetryAfter.
            var unreachable = e is not PostgresException pe || pe.SqlState.StartsWith("08", StringComparison.Ordinal)
                || pe.SqlState.StartsWith("57P", StringComparison.Ordinal);
            if (unreachable) Down($"replica unreachable: {e.Message}");
            else LogReplicaFailed(e.Message);
            return await OnPrimaryAsync(read, unreachable ? "down" : "error", ct);
        }
        finally
        {
            if (replica is not null) await replica.DisposeAsync();
        }
    }

    /// <summary>Asks the replica (readyz): answers null when reads use it, else why they go to the primary.</summary>
    public async Task<string?> CheckReplicaAsync(CancellationToken ct)
    {
        if (_replica is null) return null;
        try
        {
            await using var c = await _replica.OpenConnectionAsync(ct);
            await c.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_is_in_recovery()", cancellationToken: ct));
            lock (_gate) _downUntil = DateTimeOffset.MinValue;
        }
        catch (Exception e) when ((e is NpgsqlException or TimeoutException) && !ct.IsCancellationRequested)
        {
            Down($"replica unreachable: {e.Message}");
        }
        return Problem;
    }

    /// <summary>
    /// Waits (at most <paramref name="maxWait"/>, polling with a growing pause) until the replica's
    /// replay position passes the fence. A target that is not in recovery (PostgresRead naming a
    /// primary) has no replay position and counts as caught up.
    /// </summary>
    private async Task<bool> CaughtUpAsync(NpgsqlConnection replica, long fence, TimeSpan maxWait, CancellationToken ct)
    {
        var deadline = _clock.GetUtcNow() + maxWait;
        var pause = 1;
        while (true)
        {
            var replayed = await replica.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT pg_last_wal_replay_lsn()::text", cancellationToken: ct));
            if (replayed is null) return true;
            var position = Lsn(replayed);
            // Remembered, so a read whose fence it already passed (no writes since) asks nothing.
            for (var seen = Interlocked.Read(ref _replayed); position > seen; seen = Interlocked.Read(ref _replayed))
                if (Interlocked.CompareExchange(ref _replayed, position, seen) == seen) break;
            if (position >= fence) return true;
            if (_clock.GetUtcNow() >= deadline) return false;
            await Task.Delay(pause, ct);
            pause = Math.Min(pause * 2, 20);
        }
    }

    /// <summary>A pg_lsn's text ("16/B374D848") as a number that orders like it.</summary>
    private static long Lsn(string? text)
    {
        if (text is null) return 0;
        var slash = text.IndexOf('/');
        return (long)((ulong.Parse(text.AsSpan(0, slash), System.Globalization.NumberStyles.HexNumber) << 32)
            | ulong.Parse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.HexNumber));
    }

    private async Task<T> OnPrimaryAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, string reason, CancellationToken ct)
    {
        await using var c = await _primary.OpenAsync(ct);
        var result = await read(c, ct);
        _reads.Add(1, new("target", "primary"), new("reason", reason));
        return result;
    }

    private void Down(string because)
    {
        bool wasUp;
        lock (_gate)
        {
            wasUp = _clock.GetUtcNow() >= _downUntil;
            _downBecause = because;
            _downUntil = _clock.GetUtcNow() + _options.RetryAfter;
        }
        // A standby that restarts after a crash may come back behind what it had replayed before.
        Interlocked.Exchange(ref _replayed, 0);
        if (wasUp) LogDown(because, _options.RetryAfter);
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "Reads go to the primary for {RetryAfter}: {Because}")]
    private partial void LogDown(string because, TimeSpan retryAfter);

    [LoggerMessage(EventId = 121, Level = LogLevel.Information, Message = "The replica was behind the primary for more than {MaxWait}: reads go to the primary until it catches up")]
    private partial void LogLagging(TimeSpan maxWait);

    [LoggerMessage(EventId = 122, Level = LogLevel.Debug, Message = "A read failed on the replica and runs on the primary: {Error}")]
    private partial void LogReplicaFailed(string error);
}
