using System.Diagnostics;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// One ChatRoom of M members whose terminals are spread over the nodes; member 0 sends K messages one after the
/// other, each carrying the Stopwatch timestamp of its invocation. Every terminal records when each message's
/// GroupEvent arrives: delivery latency, deliveries/s, and a check that every member got every message once, in
/// seq order, with no gaps.
/// </summary>
public static class FanoutScenario
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(15); // a terminal that hears nothing this long gives up

    private sealed record Delivery(int Index, long Seq, long SentAt, long ArrivedAt);

    public static async Task<bool> RunAsync(Bench bench)
    {
        var o = bench.Options;
        int m = o.Members, k = o.Messages;
        var users = Enumerable.Range(0, m).Select(i => $"{bench.RunId}-f{i}").ToArray();

        Bench.Log($"fanout: connecting {m} members to {o.Urls.Length} node(s)");
        var setup = Stopwatch.GetTimestamp();
        var clients = await bench.ConnectAllAsync(users);
        var sender = clients[0];
        var group = await sender.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = $"fanout {bench.RunId}", maxMembers = Math.Max(m, 2) });
        var groupId = Bench.Str(group, "groupId");
        foreach (var batch in users.Skip(1).Chunk(100))
        {
            var results = await sender.InvokeAsync("InviteMembers", new { groupId, userIds = batch });
            var notJoined = results.EnumerateArray().Count(r => Bench.Str(r, "result") != "Joined");
            if (notJoined > 0) throw new InvalidOperationException($"{notJoined} invitees did not join: {results}");
        }
        Bench.Log($"fanout: group {groupId} has {m} members (setup {Bench.Ms(setup, Stopwatch.GetTimestamp()) / 1000:0.0} s); sending {k} messages");

        var received = users.Select(_ => new List<Delivery>(k)).ToArray();
        var consumers = clients.Select((c, i) => Task.Run(() => ConsumeAsync(c, groupId, k, received[i]))).ToArray();

        var sendLatency = new Latencies();
        var sentSeqs = new long[k];
        var sendErrors = 0;
        var firstSend = Stopwatch.GetTimestamp();
        for (var i = 0; i < k; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                var sent = await sender.InvokeAsync("SendMessage", new { groupId, payload = new { i, t0 }, clientMsgId = $"f{i}" });
                sendLatency.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                sentSeqs[i] = Bench.Long(sent, "seq");
            }
            catch (Exception ex) when (ex is HubErrorException or TimeoutException)
            {
                sendErrors++;
                Bench.Log($"fanout: message {i} failed: {ex.Message}");
            }
        }
        var sendSeconds = Bench.Ms(firstSend, Stopwatch.GetTimestamp()) / 1000;
        Bench.Log($"fanout: sent {k} messages in {sendSeconds:0.0} s; waiting for deliveries");
        await Task.WhenAll(consumers);

        // Latency = arrival − the invocation timestamp carried in the message (same process, same clock).
        var latency = new Latencies();
        long lost = 0, disorder = 0, lastArrival = firstSend;
        for (var u = 0; u < m; u++)
        {
            var got = received[u];
            foreach (var d in got)
            {
                latency.Add(Bench.Ms(d.SentAt, d.ArrivedAt));
                lastArrival = Math.Max(lastArrival, d.ArrivedAt);
            }
            lost += k - sendErrors - got.Select(d => d.Index).Distinct().Count();
            disorder += Bench.Backwards([.. got.Select(d => d.Seq)]) + got.Count(d => d.Seq != sentSeqs[d.Index]);
        }
        await Bench.CloseAllAsync(clients);

        var deliveries = latency.Count;
        var spanSeconds = Bench.Ms(firstSend, lastArrival) / 1000;
        Console.WriteLine($"## fanout: {m} members on {o.Urls.Length} node(s) × {k} messages, {o.Protocol} protocol\n");
        Console.WriteLine($"{k - sendErrors} messages sent one at a time in {sendSeconds:0.0} s ({(k - sendErrors) / sendSeconds:0.0} messages/s, " +
                          $"SendMessage p50 {sendLatency.Percentile(50):0.0} ms, p99 {sendLatency.Percentile(99):0.0} ms); " +
                          $"{deliveries} of {(long)m * (k - sendErrors)} deliveries in {spanSeconds:0.0} s = **{deliveries / spanSeconds:0} deliveries/s**.\n");
        Console.WriteLine("| delivery latency (invoke → GroupEvent at each terminal) | p50 ms | p95 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine($"| {deliveries} deliveries | {latency.Cells} |\n");
        Console.WriteLine($"Lost: {lost}; out of order or duplicated: {disorder}; failed sends: {sendErrors}.\n");
        return lost == 0 && disorder == 0 && sendErrors == 0;
    }

    /// <summary>Takes this terminal's GroupEvents of the group until K messages arrived or it heard nothing for a while.</summary>
    private static async Task ConsumeAsync(TestTerminal client, string groupId, int k, List<Delivery> got)
    {
        while (got.Count < k)
        {
            JsonElement[] args;
            try
            {
                args = await client.WaitForAsync("GroupEvent", a => Bench.Str(a[0], "groupId") == groupId, IdleTimeout);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                return; // what did not arrive counts as lost
            }
            var arrivedAt = Stopwatch.GetTimestamp();
            var e = args[0];
            if (Bench.Str(e, "type") != "Message") continue;
            var payload = e.GetProperty("data").GetProperty("payload");
            got.Add(new Delivery(payload.GetProperty("i").GetInt32(), Bench.Long(e, "seq"), payload.GetProperty("t0").GetInt64(), arrivedAt));
        }
    }
}
