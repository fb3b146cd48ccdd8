using System.Diagnostics;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// Sync throughput: U readers, each a member of G groups holding E messages, call Sync in a closed loop
/// for D seconds (every group's cursor 10 events behind, so each answer carries 10 events per group
/// and the JoinedGroup system messages). Run once against nodes reading from the primary and once
/// against nodes reading from a replica (bench/storage.sh) to compare. Checks every answer's events.
/// </summary>
public static class SyncLoadScenario
{
    private const int Behind = 10;

    public static async Task<bool> RunAsync(Bench bench)
    {
        var o = bench.Options;
        var readers = Enumerable.Range(0, o.Users).Select(i => $"{bench.RunId}-r{i}").ToArray();
        await using var owner = await bench.ConnectAsync($"{bench.RunId}-owner", 0);
        var groups = new Dictionary<string, long>();
        for (var g = 0; g < o.Groups; g++)
        {
            var groupId = Bench.Str(await owner.InvokeAsync("CreateGroup", new { type = "Public", name = $"load {g}", members = readers }), "groupId");
            long seq = 1;
            for (var e = 0; e < o.Events; e++) seq = Bench.Long(await owner.InvokeAsync("SendMessage", new { groupId, text = $"m{e}" }), "seq");
            groups[groupId] = seq;
        }
        var cursors = groups.ToDictionary(kv => kv.Key, kv => Math.Max(0, kv.Value - Behind));
        Bench.Log($"syncload: {o.Groups} groups × {o.Events} messages, {o.Users} readers, {o.Duration} s");

        var clients = await bench.ConnectAllAsync(readers);
        foreach (var c in clients) await c.InvokeAsync("Sync", new { systemSince = 0, groups = cursors, limit = 100 }); // warm-up, untimed
        // CPU of the PostgreSQL clusters named by SYNCLOAD_PG_DIRS (data dirs, comma-separated), over the timed loop only.
        var pgDirs = (Environment.GetEnvironmentVariable("SYNCLOAD_PG_DIRS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var cpuBefore = pgDirs.Select(ClusterCpuTicks).ToArray();
        var latencies = new Latencies();
        var calls = 0L;
        var wrong = 0L;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(o.Duration * Stopwatch.Frequency);
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                var t0 = Stopwatch.GetTimestamp();
                var result = await c.InvokeAsync("Sync", new { systemSince = 0, groups = cursors, limit = 100 });
                var ms = Bench.Ms(t0, Stopwatch.GetTimestamp());
                latencies.Add(ms);
                Interlocked.Increment(ref calls);
                var answer = result.GetProperty("groups");
                if (groups.Any(kv => answer.GetProperty(kv.Key).GetProperty("items").GetArrayLength() != kv.Value - cursors[kv.Key]))
                    Interlocked.Increment(ref wrong);
            }
        })));
        var seconds = Bench.Ms(start, Stopwatch.GetTimestamp()) / 1000;
        var cpu = pgDirs.Select((d, i) => $" {(ClusterCpuTicks(d) - cpuBefore[i]) * (1_000_000.0 / TicksPerSecond) / calls:0} |");
        await Bench.CloseAllAsync(clients);

        Console.WriteLine($"| {o.Users} readers × {o.Groups} groups | {calls} | {calls / seconds:0} | {latencies.Percentile(50):0.0} | {latencies.Percentile(99):0.0} | {wrong} |{string.Concat(cpu)}");
        return wrong == 0;
    }

    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>CPU ticks of a cluster so far: its postmaster (with the children it reaped) and its live children.</summary>
    private static long ClusterCpuTicks(string dataDir)
    {
        var postmaster = File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).First().Trim();
        long total = 0;
        foreach (var stat in Directory.EnumerateDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])).Select(d => Path.Combine(d, "stat")))
        {
            string text;
            try { text = File.ReadAllText(stat); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
            var f = text[(text.LastIndexOf(')') + 2)..].Split(' '); // fields from 3 (state) on
            var (pid, ppid) = (Path.GetFileName(Path.GetDirectoryName(stat))!, f[1]);
            if (pid == postmaster) total += long.Parse(f[11]) + long.Parse(f[12]) + long.Parse(f[13]) + long.Parse(f[14]);
            else if (ppid == postmaster) total += long.Parse(f[11]) + long.Parse(f[12]);
        }
        return total;
    }
}
