using System.Diagnostics;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// A member stays offline while K messages accumulate in a group, then connects (to the last node) and pages through
/// them with Sync, once with the default page size (100) and once with the largest (1000): time per page and in all,
/// and a check that the pages hold every event 1..lastSeq exactly once, in order.
/// </summary>
public static class SyncScenario
{
    private const int Writers = 4; // concurrent SendMessage calls while filling the log

    public static async Task<bool> RunAsync(Bench bench)
    {
        var o = bench.Options;
        var k = o.Messages;
        string owner = $"{bench.RunId}-s0", reader = $"{bench.RunId}-s1";

        await using var writer = await bench.ConnectAsync(owner, 0);
        var group = await writer.InvokeAsync("CreateGroup", new { type = "Public", name = $"sync {bench.RunId}", members = new[] { reader } });
        var groupId = Bench.Str(group, "groupId");

        Bench.Log($"sync: {reader} is offline; writing {k} messages to {groupId} ({Writers} at a time)");
        var fill = Stopwatch.GetTimestamp();
        var next = -1;
        var fillErrors = 0;
        long lastSeq = Bench.Long(group, "lastSeq");
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < k;)
            {
                try
                {
                    var seq = Bench.Long(await writer.InvokeAsync("SendMessage", new { groupId, text = $"message {i}", clientMsgId = $"s{i}" }), "seq");
                    lock (writer) lastSeq = Math.Max(lastSeq, seq);
                }
                catch (Exception ex) when (ex is HubErrorException or TimeoutException)
                {
                    Interlocked.Increment(ref fillErrors);
                }
            }
        })));
        var fillSeconds = Bench.Ms(fill, Stopwatch.GetTimestamp()) / 1000;
        Bench.Log($"sync: wrote {k - fillErrors} messages in {fillSeconds:0.0} s; group lastSeq {lastSeq}");

        await using var client = await bench.ConnectAsync(reader, o.Urls.Length - 1);
        // One untimed call first, so the numbers are of paging, not of the node's first Sync (JIT, pool warm-up).
        await client.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = lastSeq - 1 }, limit = 1 });
        Console.WriteLine($"## sync: {k} events missed by an offline member\n");
        Console.WriteLine($"Filled by {Writers} concurrent SendMessage calls in {fillSeconds:0.0} s ({(k - fillErrors) / fillSeconds:0} messages/s); " +
                          $"group lastSeq {lastSeq}; the member syncs from seq 0 on node {o.Urls[^1].Authority}.\n");
        Console.WriteLine("| page size | pages | total ms | events/s | page p50 ms | p95 ms | p99 ms | max ms | complete and in order |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var ok = fillErrors == 0;
        foreach (var limit in new[] { 100, 1000 })
        {
            var pages = new Latencies();
            var seqs = new List<long>();
            var messages = 0;
            long since = 0, systemSince = 0;
            var maxPages = lastSeq / limit + 10; // bounded even if hasMore never turned false
            var start = Stopwatch.GetTimestamp();
            for (var page = 0; page < maxPages; page++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var result = await client.InvokeAsync("Sync", new { systemSince, groups = new Dictionary<string, long> { [groupId] = since }, limit });
                pages.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                var g = result.GetProperty("groups").GetProperty(groupId);
                foreach (var item in g.GetProperty("items").EnumerateArray())
                {
                    seqs.Add(Bench.Long(item, "seq"));
                    if (Bench.Str(item, "type") == "Message") messages++;
                }
                since = Bench.Long(g, "next");
                systemSince = Bench.Long(result.GetProperty("system"), "next");
                if (!g.GetProperty("hasMore").GetBoolean()) break;
            }
            var totalMs = Bench.Ms(start, Stopwatch.GetTimestamp());
            var complete = seqs.Count == lastSeq && seqs.Select((s, i) => s == i + 1).All(x => x) && messages == k - fillErrors;
            ok &= complete;
            Console.WriteLine($"| {limit} | {pages.Count} | {totalMs:0} | {seqs.Count / (totalMs / 1000):0} | {pages.Cells} | " +
                              (complete ? "yes" : $"**no**: {seqs.Count} events ({messages} messages) of {lastSeq}, {Bench.Backwards(seqs)} out of order") + " |");
        }
        Console.WriteLine();
        return ok;
    }
}
