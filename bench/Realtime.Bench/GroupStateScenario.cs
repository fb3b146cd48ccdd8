using System.Diagnostics;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// Group state (SPEC §9) in the largest Public group: M members (added by the owner's InviteMembers,
/// 100 a call), K messages; then R connected members (spread over the nodes) each call MarkRead 20
/// times, moving forward, all at once (closed loop), then GetReadCount 20 times each; then counters
/// at 1000 increments/s into the group for D seconds (open loop: each increment leaves at its
/// scheduled time whether or not earlier ones have answered), from the same R members. Checks the
/// read count of one message and that the counter equals the increments answered.
/// </summary>
public static class GroupStateScenario
{
    private const int RatePerSecond = 1000;
    private const int CallsPerReader = 20;

    public static async Task<bool> RunAsync(Bench bench)
    {
        var o = bench.Options;
        var (m, k, r, d) = (o.Members, o.Messages, Math.Min(o.Users, o.Members - 1), o.Duration);
        var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
        string owner = $"{bench.RunId}-g0";
        var members = Enumerable.Range(1, m - 1).Select(i => $"{bench.RunId}-g{i}").ToArray();
        await using var ownerTerminal = await bench.ConnectAsync(owner, 0);
        var groupId = Bench.Str(await ownerTerminal.InvokeAsync("CreateGroup", new { type = "Public", name = $"state {bench.RunId}", maxMembers = m }), "groupId");
        var fill = Stopwatch.GetTimestamp();
        foreach (var chunk in members.Chunk(100)) await ownerTerminal.InvokeAsync("InviteMembers", new { groupId, userIds = chunk });
        var firstSeq = 0L;
        for (var i = 0; i < k; i++)
        {
            var seq = Bench.Long(await ownerTerminal.InvokeAsync("SendMessage", new { groupId, text = $"m{i}" }), "seq");
            if (i == 0) firstSeq = seq;
        }
        Bench.Log($"groupstate: {m} members, {k} messages in {Bench.Ms(fill, Stopwatch.GetTimestamp()) / 1000:0.0} s; connecting {r} readers");
        var readers = await bench.ConnectAllAsync(members[..r]);
        var ok = true;
        Console.WriteLine($"## groupstate: read cursors and counters in a {m}-member Public group\n");
        Console.WriteLine($"{r} members connected over {o.Urls.Length} nodes; {k} messages; load average before: {loadBefore}.\n");
        Console.WriteLine("| call | calls | failed | calls/s | p50 ms | p95 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");

        // MarkRead: reader j moves its cursor to firstSeq + 5c at its c-th call.
        var step = Math.Max(1, (k - 1) / CallsPerReader);
        ok &= await ClosedLoopAsync("MarkRead", readers, c => new { groupId, seq = firstSeq + (long)step * c });
        var finalCursor = firstSeq + (long)step * (CallsPerReader - 1);
        ok &= await ClosedLoopAsync("GetReadCount", readers, c => new { groupId, seq = firstSeq + Random.Shared.Next(k) });

        // Every reader's cursor is at finalCursor; the owner sent the message, so it counts as read.
        var count = await ownerTerminal.InvokeAsync("GetReadCount", new { groupId, seq = finalCursor });
        var countOk = count.GetProperty("read").GetInt32() == r + 1 && count.GetProperty("unread").GetInt32() == m - r - 1;
        ok &= countOk;

        // Counters, open loop.
        var total = RatePerSecond * d;
        var latencies = new Latencies();
        var failed = 0;
        var seqs = new HashSet<long>();
        var calls = new List<Task>(total);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / RatePerSecond);
            var wait = Bench.Ms(Stopwatch.GetTimestamp(), due);
            if (wait > 1) await Task.Delay(TimeSpan.FromMilliseconds(wait));
            var terminal = readers[i % readers.Length];
            calls.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    var answer = await terminal.InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { likes = 1 } });
                    latencies.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                    lock (seqs) seqs.Add(Bench.Long(answer, "seq"));
                }
                catch (Exception ex) when (ex is HubErrorException or TimeoutException)
                {
                    Interlocked.Increment(ref failed);
                }
            }));
        }
        var sendSeconds = Bench.Ms(start, Stopwatch.GetTimestamp()) / 1000;
        await Task.WhenAll(calls);
        var allSeconds = Bench.Ms(start, Stopwatch.GetTimestamp()) / 1000;
        var counters = await ownerTerminal.InvokeAsync("GetGroupCounters", new { groupId });
        var value = counters.GetProperty("counters").TryGetProperty("likes", out var v) ? v.GetInt64() : 0;
        var counterOk = failed == 0 && value == latencies.Count;
        ok &= counterOk;
        Console.WriteLine($"| ChangeGroupCounters (+1, open loop at {RatePerSecond}/s for {d} s) | {total} | {failed} | {latencies.Count / allSeconds:0} | {latencies.Cells} |");
        Console.WriteLine();
        Console.WriteLine($"- read count of message #{finalCursor} after every reader marked it: {count.GetRawText()} — " +
                          (countOk ? "exact" : $"**wrong**: expected read {r + 1}, unread {m - r - 1}"));
        Console.WriteLine($"- counters: {total} increments sent in {sendSeconds:0.00} s, all answered after {allSeconds:0.00} s; counter = {value} " +
                          (counterOk ? "(= the increments answered)" : "**(≠ the increments answered)**") +
                          $"; announced in {seqs.Count} CountersChanged events ({(seqs.Count == 0 ? 0 : latencies.Count / (double)seqs.Count):0.0} increments per event)");
        Console.WriteLine($"- load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine();
        await Bench.CloseAllAsync(readers);
        return ok;
    }

    /// <summary>Every reader makes <see cref="CallsPerReader"/> calls one after another, all readers at once.</summary>
    private static async Task<bool> ClosedLoopAsync(string method, TestTerminal[] readers, Func<int, object> request)
    {
        var latencies = new Latencies();
        var failed = 0;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(readers.Select(t => Task.Run(async () =>
        {
            for (var c = 0; c < CallsPerReader; c++)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await t.InvokeAsync(method, request(c));
                    latencies.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                }
                catch (Exception ex) when (ex is HubErrorException or TimeoutException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })));
        var seconds = Bench.Ms(start, Stopwatch.GetTimestamp()) / 1000;
        Console.WriteLine($"| {method} (closed loop, {readers.Length} members × {CallsPerReader}) | {readers.Length * CallsPerReader} | {failed} | {latencies.Count / seconds:0} | {latencies.Cells} |");
        return failed == 0;
    }
}
