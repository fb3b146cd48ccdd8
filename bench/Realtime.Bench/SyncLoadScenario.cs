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
        await Bench.CloseAllAsync(clients);

        Console.WriteLine($"| {o.Users} readers × {o.Groups} groups | {calls} | {calls / seconds:0} | {latencies.Percentile(50):0.0} | {latencies.Percentile(99):0.0} | {wrong} |");
        return wrong == 0;
    }
}
