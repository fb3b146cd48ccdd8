using System.Diagnostics;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// One user U in G ChatRooms (created by one owner per node, alternating) reads its cursors and goes offline; every
/// group then gets E messages. R rounds, alternating over the nodes: U connects (time until a WhoAmI invocation is
/// answered, which the server does only after OnConnectedAsync attached all G groups), syncs every group from the
/// pre-offline cursors, paging by next/hasMore (checked: every expected event exactly once, in seq order per group),
/// then one live message in a group whose owner is on another node must reach U.
/// </summary>
public static class ManyGroupsScenario
{
    private const int Writers = 8; // concurrent setup calls
    private const int PageLimit = 100; // Sync's per-stream limit (its default)
    private static readonly TimeSpan LiveTimeout = TimeSpan.FromSeconds(10);

    private sealed class Checks
    {
        public long Lost, Disorder, Unexpected, Flagged, SystemItems, Incomplete, LiveMissed;

        public bool Ok => Lost + Disorder + Unexpected + Flagged + SystemItems + Incomplete + LiveMissed == 0;
    }

    private sealed record Round(double ReadyMs, double HandshakeMs, double IdleReadyMs, double SyncMs, int Pages, int Events, double? LiveMs);

    public static async Task<bool> RunAsync(Bench bench)
    {
        var o = bench.Options;
        int g = o.Groups, e = o.Events, nodes = o.Urls.Length;
        string user = $"{bench.RunId}-u", idle = $"{bench.RunId}-z";
        var owners = Enumerable.Range(0, nodes).Select(n => $"{bench.RunId}-o{n}").ToArray();

        Bench.Log($"manygroups: {nodes} owner(s) create {g} ChatRooms with {user} as member");
        var ownerClients = await bench.ConnectAllAsync(owners); // owner n on node n
        try
        {
            var groupIds = new string[g];
            var setup = Stopwatch.GetTimestamp();
            await Parallel.ForEachAsync(Enumerable.Range(0, g), new ParallelOptions { MaxDegreeOfParallelism = Writers }, async (i, _) =>
            {
                var info = await ownerClients[i % nodes].InvokeAsync("CreateGroup",
                    new { type = "ChatRoom", name = $"many {bench.RunId} {i}", members = new[] { user } });
                groupIds[i] = Bench.Str(info, "groupId");
            });
            var createSeconds = Bench.Ms(setup, Stopwatch.GetTimestamp()) / 1000;

            // What U knows before going offline: each group's lastSeq (GetJoinedGroups) and the end of its system stream.
            var cursors = new Dictionary<string, long>(StringComparer.Ordinal);
            long systemCursor = 0;
            await using (var u = await bench.ConnectAsync(user, 0))
            {
                var joined = await u.InvokeAsync("GetJoinedGroups", new { offset = 0, limit = 1000 });
                foreach (var j in joined.GetProperty("groups").EnumerateArray()) cursors[Bench.Str(j, "groupId")] = Bench.Long(j, "lastSeq");
                var total = joined.GetProperty("total").GetInt32();
                if (total != g || groupIds.Any(id => !cursors.ContainsKey(id)))
                    throw new InvalidOperationException($"GetJoinedGroups: {user} is in {total} groups ({cursors.Count} listed), expected the {g} created");
                for (var page = 0; page < g / 1000 + 10; page++)
                {
                    var system = (await u.InvokeAsync("Sync", new { systemSince = systemCursor, limit = 1000 })).GetProperty("system");
                    systemCursor = Bench.Long(system, "next");
                    if (!system.GetProperty("hasMore").GetBoolean()) break;
                }
            }
            Bench.Log($"manygroups: {g} groups in {createSeconds:0.0} s; {user} is offline (system cursor {systemCursor}); sending {g}×{e} messages");

            // Every seq U must find after its cursor, per group: the E messages, later also each round's live message.
            var expected = groupIds.ToDictionary(id => id, _ => new List<long>(), StringComparer.Ordinal);
            var fill = Stopwatch.GetTimestamp();
            await Parallel.ForEachAsync(Enumerable.Range(0, g), new ParallelOptions { MaxDegreeOfParallelism = Writers }, async (i, _) =>
            {
                var seqs = new List<long>(e);
                for (var k = 0; k < e; k++)
                {
                    var sent = await ownerClients[i % nodes].InvokeAsync("SendMessage", new { groupId = groupIds[i], text = $"missed {k}", clientMsgId = $"m{i}-{k}" });
                    seqs.Add(Bench.Long(sent, "seq"));
                }
                lock (expected) expected[groupIds[i]].AddRange(seqs);
            });
            var fillSeconds = Bench.Ms(fill, Stopwatch.GetTimestamp()) / 1000;
            Bench.Log($"manygroups: {g * e} messages in {fillSeconds:0.0} s; one warm-up round per node, then {o.Rounds} rounds");

            var checks = new Checks();
            for (var n = 0; n < nodes; n++) await RoundAsync(bench, user, idle, n, -1, cursors, systemCursor, groupIds, expected, ownerClients, checks);
            var warmupOk = checks.Ok;

            var rounds = new List<Round>();
            for (var r = 0; r < o.Rounds; r++)
            {
                var node = r % nodes;
                // A group owned on another node, so the live message crosses the backplane to U's node.
                var live = r * 37 % g;
                if (nodes > 1 && live % nodes == node) live = (live + 1) % g;
                rounds.Add(await RoundAsync(bench, user, idle, node, live, cursors, systemCursor, groupIds, expected, ownerClients, checks));
            }

            Report(o, g, e, nodes, createSeconds, fillSeconds, systemCursor, rounds, checks, warmupOk);
            return checks.Ok;
        }
        finally
        {
            await Bench.CloseAllAsync(ownerClients);
        }
    }

    /// <summary>One connect → WhoAmI → full Sync → live message → disconnect of U on one node (live &lt; 0: no live check).</summary>
    private static async Task<Round> RoundAsync(
        Bench bench, string user, string idle, int node, int live, Dictionary<string, long> cursors, long systemCursor, string[] groupIds,
        Dictionary<string, List<long>> expected, TestTerminal[] ownerClients, Checks checks)
    {
        // Reference: the same connect for a user in no group.
        var z0 = Stopwatch.GetTimestamp();
        double idleMs;
        await using (var z = await bench.ConnectAsync(idle, node))
        {
            await z.InvokeAsync("WhoAmI");
            idleMs = Bench.Ms(z0, Stopwatch.GetTimestamp());
        }

        var t0 = Stopwatch.GetTimestamp();
        await using var client = await bench.ConnectAsync(user, node);
        var handshakeMs = Bench.Ms(t0, Stopwatch.GetTimestamp());
        var me = await client.InvokeAsync("WhoAmI");
        var readyMs = Bench.Ms(t0, Stopwatch.GetTimestamp());
        if (Bench.Str(me, "userId") != user) throw new InvalidOperationException($"WhoAmI answered {me}");

        // Sync from the pre-offline cursors; a stream that answered hasMore = false is not asked again.
        var pending = new Dictionary<string, long>(cursors, StringComparer.Ordinal);
        var got = groupIds.ToDictionary(id => id, _ => new List<long>(), StringComparer.Ordinal);
        var expectedTotal = expected.Values.Sum(l => l.Count);
        var maxPages = expectedTotal / PageLimit + expected.Values.Max(l => l.Count) / PageLimit + 10; // bounded even if hasMore never turned false
        long systemSince = systemCursor;
        bool systemMore = true;
        var pages = 0;
        var s0 = Stopwatch.GetTimestamp();
        while ((pending.Count > 0 || systemMore) && pages < maxPages)
        {
            var result = await client.InvokeAsync("Sync", new { systemSince, groups = pending, limit = PageLimit });
            pages++;
            var system = result.GetProperty("system");
            checks.SystemItems += system.GetProperty("items").GetArrayLength(); // nothing happened to U's own stream
            systemSince = Bench.Long(system, "next");
            systemMore = system.GetProperty("hasMore").GetBoolean();
            var groups = result.GetProperty("groups");
            foreach (var id in pending.Keys.ToList())
            {
                var s = groups.GetProperty(id);
                foreach (var item in s.GetProperty("items").EnumerateArray()) got[id].Add(Bench.Long(item, "seq"));
                if (s.GetProperty("removed").GetBoolean() || s.GetProperty("tooOld").GetBoolean()) checks.Flagged++;
                if (s.GetProperty("hasMore").GetBoolean()) pending[id] = Bench.Long(s, "next");
                else pending.Remove(id);
            }
        }
        var syncMs = Bench.Ms(s0, Stopwatch.GetTimestamp());
        if (pending.Count > 0 || systemMore) checks.Incomplete++;

        var events = 0;
        foreach (var id in groupIds)
        {
            var want = expected[id];
            var seqs = got[id];
            events += seqs.Count;
            var wanted = want.ToHashSet();
            checks.Lost += want.Count(s => !seqs.Contains(s));
            checks.Unexpected += seqs.Count(s => !wanted.Contains(s));
            checks.Disorder += seqs.Count - seqs.Distinct().Count() + Bench.Backwards(seqs);
        }

        double? liveMs = null;
        if (live >= 0)
        {
            var groupId = groupIds[live];
            var l0 = Stopwatch.GetTimestamp();
            var sent = await ownerClients[live % ownerClients.Length].InvokeAsync("SendMessage", new { groupId, text = "live", clientMsgId = $"live-{Guid.NewGuid():N}" });
            var seq = Bench.Long(sent, "seq");
            expected[groupId].Add(seq); // in the log now: later rounds' Syncs must return it
            try
            {
                await client.WaitForAsync("GroupEvent", a => Bench.Str(a[0], "groupId") == groupId && Bench.Long(a[0], "seq") == seq, LiveTimeout);
                liveMs = Bench.Ms(l0, Stopwatch.GetTimestamp());
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                checks.LiveMissed++;
                Bench.Log($"manygroups: the live message {groupId}#{seq} did not reach {user} on node {node}: {ex.Message}");
            }
        }
        return new Round(readyMs, handshakeMs, idleMs, syncMs, pages, events, liveMs);
    }

    private static void Report(Options o, int g, int e, int nodes, double createSeconds, double fillSeconds, long systemCursor, List<Round> rounds, Checks c, bool warmupOk)
    {
        string Cells(IEnumerable<double> values)
        {
            var l = new Latencies();
            foreach (var v in values) l.Add(v);
            return $"{l.Count} | {l.Percentile(50):0.0} | {l.Percentile(95):0.0} | {l.Percentile(100):0.0}";
        }

        Console.WriteLine($"## manygroups: one user in {g} groups × {e} missed events, {rounds.Count} connects over {nodes} node(s)\n");
        Console.WriteLine($"Setup: {g} ChatRooms with the user as member, created by {nodes} owner(s) (owner n on node n, groups alternating) " +
                          $"in {createSeconds:0.0} s ({g / createSeconds:0} groups/s, {Writers} at a time); the user read its cursors " +
                          $"(GetJoinedGroups, system cursor {systemCursor}) and went offline; then the owners sent {g * e} messages in " +
                          $"{fillSeconds:0.0} s ({g * e / fillSeconds:0} messages/s). After one untimed warm-up round per node, each round, " +
                          "alternating over the nodes: a user in no group connects (reference), then the user connects, syncs all " +
                          $"{g} streams from its pre-offline cursors (limit {PageLimit} per stream, paging by `next`/`hasMore`, only streams " +
                          "with more asked again), and gets one live message in a group whose owner is on the other node.\n");
        Console.WriteLine("| measure (ms) | rounds | p50 | p95 | max |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine($"| connect → WhoAmI answered, user in {g} groups (all attached) | {Cells(rounds.Select(r => r.ReadyMs))} |");
        Console.WriteLine($"| of which WebSocket connect + SignalR handshake | {Cells(rounds.Select(r => r.HandshakeMs))} |");
        Console.WriteLine($"| connect → WhoAmI answered, user in no group (reference) | {Cells(rounds.Select(r => r.IdleReadyMs))} |");
        Console.WriteLine($"| Sync of all {g} streams, all pages | {Cells(rounds.Select(r => r.SyncMs))} |");
        Console.WriteLine($"| live: SendMessage invoke → GroupEvent at the user (other node's owner) | {Cells(rounds.Where(r => r.LiveMs is not null).Select(r => r.LiveMs!.Value))} |");
        Console.WriteLine();
        var eventsPerSecond = new Latencies();
        foreach (var r in rounds) eventsPerSecond.Add(r.Events / (r.SyncMs / 1000));
        Console.WriteLine($"Sync per round: {rounds.Min(r => r.Pages)}–{rounds.Max(r => r.Pages)} pages, {rounds.Min(r => r.Events)}–{rounds.Max(r => r.Events)} events " +
                          $"({e} per group plus the live messages of earlier rounds), **{eventsPerSecond.Percentile(50):0} events/s** " +
                          $"(p50 over rounds; min {rounds.Min(r => r.Events / (r.SyncMs / 1000)):0}).\n");
        Console.WriteLine($"Checks (all rounds{(warmupOk ? "" : ", **warm-up included**")}): every expected event once and in seq order per group — " +
                          $"lost {c.Lost}, duplicated or out of order {c.Disorder}, unexpected {c.Unexpected}; streams flagged removed/tooOld {c.Flagged}; " +
                          $"system items {c.SystemItems}; Syncs not finished within the page bound {c.Incomplete}; " +
                          $"live messages received {rounds.Count(r => r.LiveMs is not null)}/{rounds.Count} (missed {c.LiveMissed}).\n");
    }
}
