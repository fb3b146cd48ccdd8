using System.Diagnostics;

namespace Realtime.Bench.Backplane;

/// <summary>
/// Who receives what, counted on the wire (a <see cref="CountingProxy"/> between each node and the standalone
/// Redis), for both backplanes with the same layout: 4 nodes, 100 connections each, 200 groups of 2 members,
/// each group on one node (g mod 4). Step 1: node 1 sends 5 messages to every group. Step 2: node 1 adds 150
/// connections of the other nodes (50 each) to a group of their own, one at a time, then removes them.
/// Then the gone-connection check: group changes for connection ids that live on no node.
/// </summary>
public static class Routing
{
    private const int NodeCount = 4;
    private const int PerNode = 100;
    private const int GroupCount = 200;
    private const int MessagesPerGroup = 5;
    private const int RemotePerNode = 50;

    public static async Task<List<RoutingResult>> RunAsync(BenchOptions options, WarningLog log)
    {
        var colon = options.Standalone.LastIndexOf(':');
        var host = options.Standalone[..colon];
        var port = int.Parse(options.Standalone[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var bound = TimeSpan.FromSeconds(options.GoneWaitSeconds);

        // The official backplane first: its gone-connection waits run in the background while ours is counted.
        await using var official = await Setup.CreateAsync(BackplaneKind.Official, host, port, log);
        var officialResult = await official.StepsAsync();
        BenchRun.Progress($"routing (official): started {3 * 2} group changes of gone connections (bounded at {bound.TotalSeconds:F0} s)");
        var officialGone = Gone.RunAsync(official.Nodes[0], "g0", 3, bound);
        RoutingResult oursResult;
        await using (var ours = await Setup.CreateAsync(BackplaneKind.Ours, host, port, log))
        {
            oursResult = await ours.StepsAsync();
            oursResult = oursResult with { Gone = await Gone.RunAsync(ours.Nodes[0], "g0", 3, bound) };
        }

        officialResult = officialResult with { Gone = await officialGone };
        BenchRun.Progress($"routing (official): gone-connection changes took {string.Join(", ", officialResult.Gone.Select(g => $"{g.Seconds:F1} s"))}");
        return [oursResult, officialResult];
    }

    private sealed class Setup : IAsyncDisposable
    {
        private readonly BackplaneKind _kind;
        private readonly List<CountingProxy> _proxies = [];
        private readonly Recorder _recorder = new();

        private Setup(BackplaneKind kind) => _kind = kind;

        public List<BenchNode> Nodes { get; } = [];

        public static async Task<Setup> CreateAsync(BackplaneKind kind, string host, int port, WarningLog log)
        {
            var setup = new Setup(kind);
            var prefix = $"rt{DateTime.UtcNow:HHmmss}{kind}";
            for (var n = 0; n < NodeCount; n++)
            {
                var proxy = new CountingProxy(host, port);
                setup._proxies.Add(proxy);
                setup.Nodes.Add(BenchNode.Create(kind, $"127.0.0.1:{proxy.Port}", prefix, $"routing-{kind}-node-{n + 1}".ToLowerInvariant(), log));
            }

            await BenchRun.Bounded(Enumerable.Range(0, NodeCount * PerNode), 32, i => setup.Nodes[i % NodeCount].ConnectAsync($"u{i}", setup._recorder));
            for (var g = 0; g < GroupCount; g++)
            {
                var node = setup.Nodes[g % NodeCount];
                var slot = g / NodeCount * 2;
                await node.Manager.AddToGroupAsync(node.Connections[slot].ConnectionId, $"g{g}");
                await node.Manager.AddToGroupAsync(node.Connections[slot + 1].ConnectionId, $"g{g}");
            }

            return setup;
        }

        public async Task<RoutingResult> StepsAsync()
        {
            await Task.Delay(500);
            var before = Counts();
            var sender = Nodes[0].Manager;
            await BenchRun.Bounded(Enumerable.Range(0, GroupCount * MessagesPerGroup), 32,
                i => sender.SendGroupAsync($"g{i % GroupCount}", "m", [Stopwatch.GetTimestamp()]));
            var clock = Stopwatch.StartNew();
            while (_recorder.DeliveredCount < GroupCount * MessagesPerGroup * 2 && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
            }

            await Task.Delay(500);
            var afterMessages = Counts();
            var remote = Enumerable.Range(1, NodeCount - 1)
                .SelectMany(n => Nodes[n].Connections.Skip(PerNode - RemotePerNode).Take(RemotePerNode))
                .Select((c, i) => (c.ConnectionId, Group: $"x{i}"))
                .ToList();
            var adds = new List<double>();
            var removes = new List<double>();
            foreach (var (connectionId, group) in remote)
            {
                var started = Stopwatch.GetTimestamp();
                await sender.AddToGroupAsync(connectionId, group).WaitAsync(TimeSpan.FromSeconds(40));
                adds.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            foreach (var (connectionId, group) in remote)
            {
                var started = Stopwatch.GetTimestamp();
                await sender.RemoveFromGroupAsync(connectionId, group).WaitAsync(TimeSpan.FromSeconds(40));
                removes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            await Task.Delay(500);
            var afterCommands = Counts();
            BenchRun.Progress($"routing ({_kind}): messages received per node {string.Join("/", Delta(before, afterMessages))}, " +
                              $"group commands {string.Join("/", Delta(afterMessages, afterCommands))}");
            return new RoutingResult(_kind.ToString(), Delta(before, afterMessages), Delta(afterMessages, afterCommands), [.. adds], [.. removes], []);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in Nodes)
            {
                await node.DisposeAsync();
            }

            foreach (var proxy in _proxies)
            {
                await proxy.DisposeAsync();
            }
        }

        private long[] Counts() => [.. _proxies.Select(p => p.Messages)];

        private static long[] Delta(long[] a, long[] b) => [.. a.Zip(b, (x, y) => y - x)];
    }
}
