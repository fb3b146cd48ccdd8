using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// The test command's streaming standby (TestEnvironment.PostgresRead), for the tests that pause its
/// replay or stop it. Those run in the serial collection: nothing else reads through it meanwhile.
/// </summary>
public static partial class TestStandby
{
    private static string Admin => TestEnvironment.PostgresRead ?? throw new InvalidOperationException(
        "REALTIME_TEST_PG_READ is not set: run the tests with ./scripts/test.sh, which starts a streaming standby.");

    public static async Task PauseReplayAsync()
    {
        await using var c = new NpgsqlConnection(Admin + ";Pooling=false");
        await c.OpenAsync();
        await c.ExecuteAsync("SELECT pg_wal_replay_pause()");
        await Expect.EventuallyAsync(async () => await c.ExecuteScalarAsync<string>("SELECT pg_get_wal_replay_pause_state()") == "paused",
            "the standby's replay is paused");
    }

    public static async Task ResumeReplayAsync()
    {
        await using var c = new NpgsqlConnection(Admin + ";Pooling=false");
        await c.OpenAsync();
        await c.ExecuteAsync("SELECT pg_wal_replay_resume()");
    }

    /// <summary>A query on the standby's copy of a test database, as it is there now.</summary>
    public static async Task<T?> QueryAsync<T>(string database, string sql, object? args = null)
    {
        await using var c = new NpgsqlConnection(TestEnvironment.ReadConnectionFor(database) + ";Pooling=false");
        await c.OpenAsync();
        return await c.ExecuteScalarAsync<T>(sql, args);
    }

    /// <summary>pg_ctl stop -m fast (as the postgres user when the tests run as root).</summary>
    public static Task StopAsync() => PgCtlAsync("stop", "-D", TestEnvironment.PostgresReadDir, "-m", "fast", "-w", "-t", "60");

    /// <summary>pg_ctl start, then until it streams from the primary again (bounded).</summary>
    public static async Task StartAsync()
    {
        var dir = TestEnvironment.PostgresReadDir;
        await PgCtlAsync("start", "-D", dir, "-l", Path.Combine(dir, "postgres.log"), "-w", "-t", "60");
        await Expect.EventuallyAsync(async () =>
        {
            try
            {
                await using var c = new NpgsqlConnection(Admin + ";Pooling=false");
                await c.OpenAsync();
                return await c.ExecuteScalarAsync<string>("SELECT status FROM pg_stat_wal_receiver") == "streaming";
            }
            catch (NpgsqlException)
            {
                return false;
            }
        }, "the standby streams again");
    }

    /// <summary>Whether the standby accepts connections now.</summary>
    public static async Task<bool> IsRunningAsync()
    {
        try
        {
            await using var c = new NpgsqlConnection(Admin + ";Pooling=false;Timeout=3");
            await c.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private static async Task PgCtlAsync(params string[] args)
    {
        var pgCtl = Path.Combine(TestEnvironment.PostgresBin, "pg_ctl");
        var asRoot = Environment.UserName == "root";
        var info = new ProcessStartInfo(asRoot ? "runuser" : pgCtl) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        if (asRoot) foreach (var a in new[] { "-u", "postgres", "--", pgCtl }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        if (process.ExitCode != 0) throw new InvalidOperationException($"pg_ctl {args[0]} exited {process.ExitCode}: {await output}{await error}");
    }

    /// <summary>realtime_reads_total of a node, summed over the series whose labels include <paramref name="label"/> (e.g. target="replica").</summary>
    public static async Task<double> ReadsAsync(RealtimeNode node, string label)
    {
        using var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        var total = 0.0;
        foreach (Match m in ReadsLine().Matches(await http.GetStringAsync("/metrics")))
            if (m.Groups[1].Value.Contains(label, StringComparison.Ordinal)) total += double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return total;
    }

    [GeneratedRegex(@"^realtime_reads_total\{([^}]*)\} (\S+)$", RegexOptions.Multiline)]
    private static partial Regex ReadsLine();
}
