using System.Diagnostics;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// GetMessages deep in a big group (bench/history.sh seeds `hist-big`: --events events, one in ten not a
/// message, and its member `hist-reader`): R pages of 50 at each depth (the newest page; before = the
/// middle; before = 200, the oldest messages), then one scroll from the newest message back to the first
/// (every page timed), checked to hold every message once, newest first.
/// </summary>
public static class HistoryScenario
{
    public const string GroupId = "hist-big";
    public const string Reader = "hist-reader";

    public static async Task<bool> RunAsync(Bench bench)
    {
        var rounds = bench.Options.Rounds;
        await using var t = await bench.ConnectAsync(Reader, 0);
        var lastSeq = Bench.Long((await t.InvokeAsync("GetGroups", (object)new[] { GroupId })).GetProperty("groups")[0], "lastSeq");
        await t.InvokeAsync("GetMessages", new { groupId = GroupId }); // untimed first call

        Console.WriteLine($"## history: GetMessages in a group of {lastSeq} events\n");
        Console.WriteLine($"{rounds} sequential calls per depth, limit 50, one terminal.\n");
        Console.WriteLine("| depth | before | items | p50 ms | p95 | p99 | max |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var ok = true;
        foreach (var (depth, before) in new (string, long?)[] { ("newest page", null), ("middle", lastSeq / 2), ("oldest (before = 200)", 200) })
        {
            var lat = new Latencies();
            var items = 0;
            for (var i = 0; i < rounds; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var page = await t.InvokeAsync("GetMessages", new { groupId = GroupId, before, limit = 50 });
                lat.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                items = page.GetProperty("items").GetArrayLength();
            }
            Console.WriteLine($"| {depth} | {before?.ToString() ?? "(none)"} | {items} | {lat.Cells} |");
        }

        // The whole history, newest to oldest.
        var scroll = new Latencies();
        var seqs = new List<long>();
        long? cursor = null;
        var start = Stopwatch.GetTimestamp();
        for (var page = 0; page < lastSeq / 50 + 10; page++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var result = await t.InvokeAsync("GetMessages", new { groupId = GroupId, before = cursor, limit = 50 });
            scroll.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
            var pageSeqs = result.GetProperty("items").EnumerateArray().Select(e => Bench.Long(e, "seq")).ToList();
            seqs.AddRange(pageSeqs);
            if (!result.GetProperty("hasMore").GetBoolean()) break;
            cursor = pageSeqs[^1];
        }
        var totalMs = Bench.Ms(start, Stopwatch.GetTimestamp());
        var expected = Enumerable.Range(1, (int)lastSeq).Where(s => s % 10 != 0).Select(s => (long)s).Reverse().ToList();
        var complete = seqs.SequenceEqual(expected);
        ok &= complete;
        Console.WriteLine($"\nScroll from the newest message to the first, limit 50: {scroll.Count} pages, {seqs.Count} messages in {totalMs:0} ms; " +
                          $"page p50 / p95 / p99 / max {scroll.Cells.Replace(" | ", " / ")} ms; every message once, newest first: " +
                          (complete ? "yes" : $"**no** ({seqs.Count} of {expected.Count})") + ".\n");
        return ok;
    }
}
