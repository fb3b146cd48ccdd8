using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// C users, spread over the nodes, each loop CreateGroup → UpdateGroupProfile → SendMessage (one Public group per
/// iteration) for S seconds; throughput and latency per method. Then each user's pushes are checked: every group's
/// events and the user's system messages arrived gapless and in seq order.
/// </summary>
public static class CommandsScenario
{
    private static readonly string[] Methods = ["CreateGroup", "UpdateGroupProfile", "SendMessage"];

    public static async Task<bool> RunAsync(Bench bench)
    {
        var o = bench.Options;
        var users = Enumerable.Range(0, o.Users).Select(i => $"{bench.RunId}-c{i}").ToArray();
        Bench.Log($"commands: connecting {users.Length} users to {o.Urls.Length} node(s)");
        var clients = await bench.ConnectAllAsync(users);

        var latencies = Methods.ToDictionary(m => m, _ => new Latencies());
        var errors = new ConcurrentDictionary<string, int>();
        var lastSeqs = users.Select(_ => new Dictionary<string, long>()).ToArray(); // per user: group → last seq it caused

        Bench.Log($"commands: running for {o.Duration} s");
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + o.Duration * Stopwatch.Frequency;
        await Task.WhenAll(users.Select((user, u) => Task.Run(async () =>
        {
            var client = clients[u];
            for (var n = 0; Stopwatch.GetTimestamp() < stopAt && client.Closed.IsCompleted is false; n++)
            {
                var created = await TimedAsync("CreateGroup", new { type = "Public", name = $"bench {user} {n}" });
                if (created is not { } group) continue;
                var groupId = Bench.Str(group, "groupId");
                lastSeqs[u][groupId] = Bench.Long(group, "lastSeq");
                if (await TimedAsync("UpdateGroupProfile", new { groupId, notification = $"notice {n}" }) is { } updated)
                    lastSeqs[u][groupId] = Bench.Long(updated, "lastSeq");
                if (await TimedAsync("SendMessage", new { groupId, text = $"hello {n}", clientMsgId = $"{user}-{n}" }) is { } sent)
                    lastSeqs[u][groupId] = Bench.Long(sent, "seq");
            }

            async Task<JsonElement?> TimedAsync(string method, object argument)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    var result = await client.InvokeAsync(method, argument);
                    latencies[method].Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                    return result;
                }
                catch (Exception ex) when (ex is HubErrorException or TimeoutException or InvalidOperationException)
                {
                    errors.AddOrUpdate($"{method}: {Bench.ErrorCode(ex)}", 1, (_, c) => c + 1);
                    return null;
                }
            }
        })));
        var seconds = Bench.Ms(started, Stopwatch.GetTimestamp()) / 1000;

        Bench.Log("commands: checking the pushes each user received");
        var (groups, missing, disorder) = await CheckPushesAsync(clients, lastSeqs);
        await Bench.CloseAllAsync(clients);

        var total = latencies.Values.Sum(l => l.Count);
        Console.WriteLine($"## commands: {o.Users} users × {o.Duration} s on {o.Urls.Length} node(s), {o.Protocol} protocol\n");
        Console.WriteLine($"{total} commands in {seconds:0.0} s = **{total / seconds:0} commands/s** " +
                          $"({total / 3 / seconds:0.0} CreateGroup+UpdateGroupProfile+SendMessage iterations/s).\n");
        Console.WriteLine("| method | calls | calls/s | p50 ms | p95 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in Methods)
            Console.WriteLine($"| {m} | {latencies[m].Count} | {latencies[m].Count / seconds:0.0} | {latencies[m].Cells} |");
        Console.WriteLine();
        Console.WriteLine($"Errors: {(errors.IsEmpty ? "none" : string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Key} ×{e.Value}")))}.");
        Console.WriteLine($"Pushes checked for {groups} groups: {missing} missing, {disorder} out of order.\n");
        return errors.IsEmpty && missing == 0 && disorder == 0;
    }

    /// <summary>
    /// Each user must have received, for each group it created, the events 1..lastSeq in order, and its own system
    /// messages (one GroupCreated per group) gapless. Waits up to 10 s for late pushes.
    /// </summary>
    private static async Task<(int Groups, int Missing, int Disorder)> CheckPushesAsync(TestTerminal[] clients, Dictionary<string, long>[] lastSeqs)
    {
        var deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (true)
        {
            int groups = 0, missing = 0, disorder = 0;
            for (var u = 0; u < clients.Length; u++)
            {
                var received = clients[u].Received;
                var events = received.Where(r => r.Target == "GroupEvent").Select(r => r.Args[0])
                    .GroupBy(e => Bench.Str(e, "groupId")).ToDictionary(g => g.Key, g => g.Select(e => Bench.Long(e, "seq")).ToList());
                foreach (var (groupId, last) in lastSeqs[u])
                {
                    groups++;
                    var seqs = events.GetValueOrDefault(groupId) ?? [];
                    missing += (int)Math.Max(0, last - seqs.Distinct().Count(s => s >= 1 && s <= last));
                    disorder += Bench.Backwards(seqs);
                }
                var system = received.Where(r => r.Target == "SystemMessage").Select(r => Bench.Long(r.Args[0], "seq")).ToList();
                disorder += Bench.Backwards(system);
                var distinct = system.Distinct().Count();
                if (distinct > 0) missing += (int)(system.Max() - system.Min() + 1 - distinct); // gaps
                missing += Math.Max(0, lastSeqs[u].Count - distinct); // at least one GroupCreated per group
            }
            if ((missing == 0 && disorder == 0) || Stopwatch.GetTimestamp() > deadline) return (groups, missing, disorder);
            await Task.Delay(250);
        }
    }
}
