using System.Diagnostics;
using System.Globalization;

namespace Realtime.Bench.Backplane;

/// <summary>One measured window: what was published and delivered, latency, and what it cost.</summary>
public sealed record PhaseResult(
    string Name,
    double Seconds,
    long Issued,
    long Completed,
    long Failed,
    long Skipped,
    long DeliveredInWindow,
    long Expected,
    long DeliveredAfterDrain,
    double P50Ms,
    double P99Ms,
    double MaxMs,
    double BenchCpuCores,
    double LagP50Ms,
    double LagP99Ms,
    RedisSample[] RedisBefore,
    RedisSample[] RedisAfter,
    string LoadBefore,
    string LoadAfter)
{
    public double PublishesPerSecond => Completed / Seconds;

    public double DeliveriesPerSecond => DeliveredInWindow / Seconds;

    /// <summary>Redis CPU of instance i over the window, in % of one core.</summary>
    public double RedisCpuPercent(int i) => (RedisAfter[i].CpuSeconds - RedisBefore[i].CpuSeconds) / Seconds * 100;
}

public sealed record MemoryResult(long NodeSubscriptions, RedisSample[] Drift, RedisSample[] Before, RedisSample[] After, long ManagedBefore, long ManagedAfter, double AttachSeconds, double ConnectSeconds);

public sealed record GoneResult(string Operation, double Seconds, string Outcome);

public sealed record ConfigResult(string Name, int Round, MemoryResult? Memory, PhaseResult Fixed, PhaseResult Max, List<GoneResult> Gone, long Warnings)
{
    public string Label => $"{Name} #{Round}";
}

public sealed record RoutingResult(string Backplane, long[] MessagesStep, long[] CommandsStep, double[] AddMs, double[] RemoveMs, List<GoneResult> Gone);

/// <summary>The whole benchmark: the routing check, then each configuration's setup, memory, fixed-rate and max phases.</summary>
public static class BenchRun
{
    public static async Task<bool> RunAsync(BenchOptions options)
    {
        var log = new WarningLog();
        var routing = new List<RoutingResult>();
        if (options.Routing)
        {
            routing = await Routing.RunAsync(options, log);
        }

        var results = new List<ConfigResult>();
        // Rounds interleave the configurations (A B C D A B C D): on a shared machine a burst of someone
        // else's work then hits one round of a configuration, not all of it. Memory is sampled in round 1.
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var config in options.Configs)
            {
                results.Add(await RunConfigAsync(options, config, round, log));
            }
        }

        Report.Write(Console.Out, options, results, routing, log.Count);
        if (options.Plots is { } prefix)
        {
            Report.Plots(prefix, results);
        }

        return true;
    }

    public static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    public static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static async Task<ConfigResult> RunConfigAsync(BenchOptions options, string config, int round, WarningLog log)
    {
        var kind = config.StartsWith("ours", StringComparison.Ordinal) ? BackplaneKind.Ours : BackplaneKind.Official;
        var cluster = config.EndsWith("cluster", StringComparison.Ordinal);
        var endPoints = cluster ? options.Cluster : [options.Standalone];
        var configuration = string.Join(",", endPoints);
        var warningsBefore = log.Count;
        Progress($"{config}: {options.Nodes} nodes, {options.Connections} connections, {options.Groups} groups of {options.Members}");
        await using var stats = await RedisStats.ConnectAsync(endPoints, cluster);
        var recorder = new Recorder();
        var prefix = $"bp{DateTime.UtcNow:HHmmss}{config.Replace("-", "", StringComparison.Ordinal)}";
        var nodes = new List<BenchNode>();
        try
        {
            for (var n = 0; n < options.Nodes; n++)
            {
                nodes.Add(BenchNode.Create(kind, configuration, prefix, $"{config}-node-{n + 1}", log));
            }

            var connect = Stopwatch.StartNew();
            var perNode = options.Connections / options.Nodes;
            await Bounded(Enumerable.Range(0, perNode * options.Nodes), 64,
                i => nodes[i % options.Nodes].ConnectAsync($"u{i}", recorder));
            var connectSeconds = connect.Elapsed.TotalSeconds;
            foreach (var node in nodes)
            {
                node.Connections.Sort((a, b) => string.CompareOrdinal(a.ConnectionId, b.ConnectionId));
            }

            var plan = GroupPlan.Make(options, nodes);
            MemoryResult? memory = null;
            var attach = Stopwatch.StartNew();
            if (round == 1)
            {
                var (managedBefore, redisDrift, redisBefore) = await SettledSampleAsync(stats);
                attach.Restart();
                await Bounded(plan.Attachments, 64, a => a.Node.Manager.AddToGroupAsync(a.ConnectionId, a.Group));
                var attachSeconds = attach.Elapsed.TotalSeconds;
                var (managedAfter, _, redisAfter) = await SettledSampleAsync(stats);
                memory = new MemoryResult(plan.NodeSubscriptions, redisDrift, redisBefore, redisAfter, managedBefore, managedAfter, attachSeconds, connectSeconds);
            }
            else
            {
                await Bounded(plan.Attachments, 64, a => a.Node.Manager.AddToGroupAsync(a.ConnectionId, a.Group));
            }

            var attachSecondsAll = memory?.AttachSeconds ?? attach.Elapsed.TotalSeconds;
            Progress($"{config} (round {round}): connected in {connectSeconds:F1} s, {plan.Attachments.Count} attaches ({plan.NodeSubscriptions} node subscriptions) in {attachSecondsAll:F1} s");

            var load = new Load(options, nodes, plan, recorder, stats);
            await load.ClosedLoopAsync("warm-up", TimeSpan.FromSeconds(2), 32);
            var fixedRate = await load.OpenLoopAsync($"fixed {options.Rate}/s", TimeSpan.FromSeconds(options.FixedSeconds), options.Rate);
            Progress($"{config}: fixed: {fixedRate.PublishesPerSecond:F0} publishes/s, {fixedRate.DeliveriesPerSecond:F0} deliveries/s, p50 {fixedRate.P50Ms:F2} ms, p99 {fixedRate.P99Ms:F2} ms, schedule lag p50 {fixedRate.LagP50Ms:F2} / p99 {fixedRate.LagP99Ms:F2} ms");
            var max = await load.ClosedLoopAsync("max", TimeSpan.FromSeconds(options.MaxSeconds), options.InFlight);
            Progress($"{config}: max: {max.PublishesPerSecond:F0} publishes/s, {max.DeliveriesPerSecond:F0} deliveries/s, p50 {max.P50Ms:F2} ms, p99 {max.P99Ms:F2} ms");

            var gone = new List<GoneResult>();
            if (kind == BackplaneKind.Ours && round == 1)
            {
                // Ours returns at once (PUBLISH reached nobody); the official one's is measured by the routing check.
                gone = await Gone.RunAsync(nodes[0], plan.GroupNames[0], 3, TimeSpan.FromSeconds(options.GoneWaitSeconds));
            }

            return new ConfigResult(config, round, memory, fixedRate, max, gone, log.Count - warningsBefore);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Managed memory after a full collection, and every Redis process's INFO once used_memory settled: Redis
    /// shrinks idle clients' query and reply buffers over a few seconds (the reply buffer's peak resets every
    /// 5 s), so it is sampled every second until the total moves by less than 16 KiB (at most 12 s). Also returns
    /// the sample before the last: their difference is the noise floor that remains.
    /// </summary>
    private static async Task<(long Managed, RedisSample[] Previous, RedisSample[] Redis)> SettledSampleAsync(RedisStats stats)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        await Task.Delay(1000);
        var previous = await stats.SampleAsync(channels: true);
        while (true)
        {
            await Task.Delay(1000);
            var sample = await stats.SampleAsync(channels: true);
            var moved = Math.Abs(sample.Sum(x => x.UsedMemory) - previous.Sum(x => x.UsedMemory));
            if (moved < 16 * 1024 || clock.Elapsed > TimeSpan.FromSeconds(12))
            {
                return (managed, previous, sample);
            }

            previous = sample;
        }
    }

    public static async Task Bounded<T>(IEnumerable<T> items, int parallelism, Func<T, Task> action)
    {
        using var gate = new SemaphoreSlim(parallelism);
        var tasks = new List<Task>();
        foreach (var item in items)
        {
            await gate.WaitAsync();
            tasks.Add(Run(item));
        }

        await Task.WhenAll(tasks);

        async Task Run(T item)
        {
            try
            {
                await action(item);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    public static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms < 10 ? ms.ToString("F2", CultureInfo.InvariantCulture) : ms.ToString("F0", CultureInfo.InvariantCulture);
}

/// <summary>Which connections are in which group: group g on node g mod N, odd groups also on node g+1.</summary>
public sealed class GroupPlan
{
    public required string[] GroupNames { get; init; }

    public required int[] MembersOf { get; init; }

    public required List<(BenchNode Node, string ConnectionId, string Group)> Attachments { get; init; }

    public long NodeSubscriptions { get; init; }

    public static GroupPlan Make(BenchOptions options, List<BenchNode> nodes)
    {
        var cursor = new int[nodes.Count];
        var names = new string[options.Groups];
        var members = new int[options.Groups];
        var attachments = new List<(BenchNode, string, string)>();
        long subscriptions = 0;
        for (var g = 0; g < options.Groups; g++)
        {
            names[g] = $"g{g}";
            var home = g % nodes.Count;
            int[] on = g % 2 == 0 ? [home] : [home, (home + 1) % nodes.Count];
            subscriptions += on.Length;
            for (var k = 0; k < options.Members; k++)
            {
                // Two nodes: the first half on the home node, the rest on the next one.
                var n = on.Length == 1 || k < (options.Members + 1) / 2 ? on[0] : on[1];
                var connections = nodes[n].Connections;
                attachments.Add((nodes[n], connections[cursor[n]++ % connections.Count].ConnectionId, names[g]));
            }

            members[g] = options.Members;
        }

        return new GroupPlan { GroupNames = names, MembersOf = members, Attachments = attachments, NodeSubscriptions = subscriptions };
    }
}

/// <summary>Group sends from random nodes to random groups; the timestamp in the message is the publish time.</summary>
public sealed class Load(BenchOptions options, List<BenchNode> nodes, GroupPlan plan, Recorder recorder, RedisStats stats)
{
    private long _issued;
    private long _completed;
    private long _failed;
    private long _skipped;
    private long _expected;
    private long _inFlight;
    private Histogram _lag = new();

    /// <summary>Open loop: R publishes/s on a fixed schedule, not waiting for earlier ones; at most 4×inflight outstanding, the rest skipped.</summary>
    public Task<PhaseResult> OpenLoopAsync(string name, TimeSpan duration, int rate) => MeasureAsync(name, duration, async deadline =>
    {
        var start = Stopwatch.GetTimestamp();
        long issued = 0;
        var cap = options.InFlight * 4;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate);
            for (; issued < due; issued++)
            {
                if (Interlocked.Read(ref _inFlight) >= cap)
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }

                // Stamped with the call time: latency is publish → delivery. How late the call was against
                // the schedule (the dispatcher wakes every ~1 ms, later on a busy machine) is reported apart.
                var now = Stopwatch.GetTimestamp();
                _lag.Add(now - (start + issued * Stopwatch.Frequency / rate));
                _ = PublishAsync(Random.Shared.Next(nodes.Count), Random.Shared.Next(plan.GroupNames.Length), now);
            }

            await Task.Delay(1);
        }
    });

    /// <summary>Closed loop: W publishers, each awaiting its publish, pausing while more than --backlog deliveries are outstanding.</summary>
    public Task<PhaseResult> ClosedLoopAsync(string name, TimeSpan duration, int workers) => MeasureAsync(name, duration, deadline =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                if (Interlocked.Read(ref _expected) - recorder.DeliveredCount > options.Backlog)
                {
                    await Task.Delay(1);
                    continue;
                }

                await PublishAsync(Random.Shared.Next(nodes.Count), Random.Shared.Next(plan.GroupNames.Length), Stopwatch.GetTimestamp());
            }
        }))));

    private async Task PublishAsync(int node, int group, long stamp)
    {
        Interlocked.Increment(ref _issued);
        Interlocked.Increment(ref _inFlight);
        Interlocked.Add(ref _expected, plan.MembersOf[group]);
        try
        {
            await nodes[node].Manager.SendGroupAsync(plan.GroupNames[group], "m", [stamp]);
            Interlocked.Increment(ref _completed);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failed);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<PhaseResult> MeasureAsync(string name, TimeSpan duration, Func<long, Task> run)
    {
        // Let the previous phase drain first, so its deliveries do not count here.
        await DrainAsync(TimeSpan.FromSeconds(5));
        var issued0 = Interlocked.Read(ref _issued);
        var completed0 = Interlocked.Read(ref _completed);
        var failed0 = Interlocked.Read(ref _failed);
        var skipped0 = Interlocked.Read(ref _skipped);
        var expected0 = Interlocked.Read(ref _expected);
        var delivered0 = recorder.DeliveredCount;
        var loadBefore = BenchRun.Load();
        var redisBefore = await stats.SampleAsync();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        recorder.Swap();
        _lag = new Histogram();
        var clock = Stopwatch.StartNew();
        await run(Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
        var redisAfter = await stats.SampleAsync();
        var deliveredInWindow = recorder.DeliveredCount - delivered0;
        var completed = Interlocked.Read(ref _completed) - completed0;
        await DrainAsync(TimeSpan.FromSeconds(10));
        var histogram = recorder.Swap();
        return new PhaseResult(
            name,
            seconds,
            Interlocked.Read(ref _issued) - issued0,
            completed,
            Interlocked.Read(ref _failed) - failed0,
            Interlocked.Read(ref _skipped) - skipped0,
            deliveredInWindow,
            Interlocked.Read(ref _expected) - expected0,
            recorder.DeliveredCount - delivered0,
            histogram.PercentileMs(50),
            histogram.PercentileMs(99),
            histogram.MaxMs,
            (cpu1 - cpu0).TotalSeconds / seconds,
            _lag.PercentileMs(50),
            _lag.PercentileMs(99),
            redisBefore,
            redisAfter,
            loadBefore,
            BenchRun.Load());
    }

    /// <summary>Until every publish completed and every expected delivery arrived (or the bound).</summary>
    private async Task DrainAsync(TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound && (Interlocked.Read(ref _inFlight) > 0 || recorder.DeliveredCount < Interlocked.Read(ref _expected)))
        {
            await Task.Delay(20);
        }
    }
}

/// <summary>AddToGroupAsync / RemoveFromGroupAsync for connection ids that live on no node, each bounded.</summary>
public static class Gone
{
    public static async Task<List<GoneResult>> RunAsync(BenchNode node, string group, int count, TimeSpan bound)
    {
        var operations = new List<(string Name, Func<Task> Run)>();
        for (var i = 0; i < count; i++)
        {
            var gone = Guid.NewGuid().ToString("N");
            operations.Add(("AddToGroupAsync", () => node.Manager.AddToGroupAsync(gone, group)));
            operations.Add(("RemoveFromGroupAsync", () => node.Manager.RemoveFromGroupAsync(gone, group)));
        }

        return [.. await Task.WhenAll(operations.Select(async op =>
        {
            var clock = Stopwatch.StartNew();
            var task = op.Run();
            var finished = await Task.WhenAny(task, Task.Delay(bound));
            var seconds = clock.Elapsed.TotalSeconds;
            string outcome;
            if (finished != task)
            {
                outcome = $"still waiting at the {bound.TotalSeconds:F0} s bound";
                _ = task.ContinueWith(t => t.Exception, TaskScheduler.Default);
            }
            else if (task.IsCompletedSuccessfully)
            {
                outcome = "returned";
            }
            else
            {
                var ex = task.Exception?.GetBaseException();
                outcome = task.IsCanceled ? "cancelled (TaskCanceledException)" : $"threw {ex?.GetType().Name}: {ex?.Message}";
            }

            return new GoneResult(op.Name, seconds, outcome);
        }))];
    }
}
