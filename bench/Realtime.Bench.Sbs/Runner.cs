using System.Diagnostics;

namespace Realtime.Bench.Sbs;

/// <summary>A group a lane sends to: its key on the server, the stream id in the payload, and the terminals that should get it.</summary>
public sealed record Stream(string Group, int Id, Terminal[] Receivers);

/// <summary>One sending connection, round-robin over its streams at a fixed rate (messages/s), open loop.</summary>
public sealed record Lane(Terminal Sender, Stream[] Streams, double Rate);

/// <summary>Runs the selected scenarios against one system (its nodes already running) and returns what it measured.</summary>
public sealed class Runner(Options o, ISystem sys)
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainAfterLastSend = TimeSpan.FromSeconds(10);
    public const int LimitMembers = 10;

    private readonly SystemResult _r = new() { System = sys.Name, Nodes = o.Urls.Length };
    private Terminal _sender = null!;
    private Terminal?[] _terms = [];
    private bool[] _inStorm = [];
    private int _nextStream = 1;

    public static void Log(string message) => Console.Error.WriteLine($"[sbs {DateTime.Now:HH:mm:ss}] {message}");

    private static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;

    private static long After(long from, double seconds) => from + (long)(seconds * Stopwatch.Frequency);

    private Terminal[] Live(IEnumerable<Terminal?> ts) => [.. ts.OfType<Terminal>()];

    public async Task<SystemResult> RunAsync()
    {
        _r.LoadBefore = Proc.LoadAverage();
        var began = Stopwatch.GetTimestamp();
        using (var cts = new CancellationTokenSource(ConnectTimeout)) _sender = await sys.ConnectAsync(-1, 0, cts.Token);

        var storm = o.Scenarios.Overlaps(["joinstorm", "memory", "biggroup"]);
        string? stormGroup = null;
        if (storm)
        {
            stormGroup = await sys.CreateGroupAsync(_sender, "sbs storm");
            if (sys is StockSystem) await sys.JoinAsync(_sender, stormGroup);
        }
        await Task.Delay(1000);
        var rssBefore = o.NodePids.Select(Proc.RssKb).ToArray();

        await Step("joinstorm", async () =>
        {
            var js = await ConnectAllAsync(stormGroup);
            if (o.Scenarios.Contains("joinstorm")) _r.JoinStorm = js;
        });
        if (_terms.Length == 0) throw new InvalidOperationException("the terminals could not be connected");

        if (o.Scenarios.Contains("memory")) await Step("memory", async () => _r.Memory = await MemoryAsync(rssBefore, stormGroup));

        if (o.Scenarios.Contains("biggroup"))
        {
            await Step("biggroup", async () =>
            {
                // Only the terminals whose join succeeded are members (a failed join is reported by joinstorm).
                var stream = new Stream(stormGroup!, _nextStream++, Live(_terms.Where((_, i) => _inStorm[i])));
                _r.BigGroup = await DeliverAsync("biggroup", [new Lane(_sender, [stream], 20)], 5, 10);
                await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
            });
        }

        if (o.Scenarios.Contains("fanout"))
        {
            await Step("fanout", async () =>
            {
                const int groups = 20;
                var per = o.Connections / groups;
                var setup = Stopwatch.GetTimestamp();
                var keys = new string[groups];
                for (var g = 0; g < groups; g++)
                {
                    keys[g] = await sys.CreateGroupAsync(_sender, $"sbs fanout {g}");
                    if (sys is StockSystem) await sys.JoinAsync(_sender, keys[g]);
                }
                // Group g = terminals g*per … g*per+per-1, so each group's members alternate over the nodes.
                var failed = await JoinAllAsync(Enumerable.Range(0, o.Connections).Select(i => (i, keys[i / per])));
                await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
                Log($"fanout: {groups} groups × {per} members ready in {Seconds(setup, Stopwatch.GetTimestamp()):0.0} s");
                var streams = keys.Select((k, g) => new Stream(k, _nextStream++,
                    Live(Enumerable.Range(g * per, per).Where(i => !failed.Contains(i)).Select(i => _terms[i])))).ToArray();
                _r.Fanout = await DeliverAsync("fanout", [new Lane(_sender, streams, 200)], 5, 10);
                await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
            });
        }

        if (o.Scenarios.Contains("limit")) await Step("limit", async () => _r.Limit = await LimitAsync());

        Log("closing the terminals");
        var all = Live(_terms.Append(_sender));
        var close = Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency }, async (t, _) =>
        {
            try { await t.Connection.DisposeAsync(); } catch (Exception) { /* closing anyway */ }
        });
        if (await Task.WhenAny(close, Task.Delay(TimeSpan.FromSeconds(60))) != close) _r.Errors.Add("closing the terminals took more than 60 s");
        _r.LoadAfter = Proc.LoadAverage();
        _r.Seconds = Seconds(began, Stopwatch.GetTimestamp());
        return _r;
    }

    private async Task Step(string name, Func<Task> body)
    {
        Log($"{sys.Name}: {name} (load {Proc.LoadAverage()})");
        try
        {
            await body();
        }
        catch (Exception ex)
        {
            Log($"{sys.Name}: {name} failed: {ex}");
            _r.Errors.Add($"{name}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    // ------------------------------------------------------------------ join storm and memory

    /// <summary>Connects terminal i to node i mod nodes and (when a group is given) joins it, <c>Concurrency</c> at a time.</summary>
    private async Task<JoinStormResult> ConnectAllAsync(string? group)
    {
        var n = o.Connections;
        _terms = new Terminal?[n];
        _inStorm = new bool[n];
        var connectMs = new Hist();
        var joinMs = new Hist();
        var start = Stopwatch.GetTimestamp();
        var timeline = new long[4 * 600];
        var failed = 0;
        string? firstError = null;
        var cpu0 = Proc.CpuSeconds(o.NodePids);
        var self0 = Proc.CpuSeconds(Proc.Self);
        var pushes0 = Pushes.Count;
        Log($"{sys.Name}: connecting {n} terminals{(group is null ? "" : " and joining them to one group")}, {o.Concurrency} at a time");
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency }, async (i, _) =>
        {
            try
            {
                var t0 = Stopwatch.GetTimestamp();
                Terminal t;
                using (var cts = new CancellationTokenSource(ConnectTimeout)) t = await sys.ConnectAsync(i, i % o.Urls.Length, cts.Token);
                var t1 = Stopwatch.GetTimestamp();
                connectMs.Record((t1 - t0) * 1_000_000 / Stopwatch.Frequency);
                _terms[i] = t;
                if (group is not null)
                {
                    await sys.JoinAsync(t, group).WaitAsync(ConnectTimeout);
                    joinMs.Record((Stopwatch.GetTimestamp() - t1) * 1_000_000 / Stopwatch.Frequency);
                    _inStorm[i] = true;
                }
                var b = (Stopwatch.GetTimestamp() - start) * 4 / Stopwatch.Frequency;
                if (b < timeline.Length) Interlocked.Increment(ref timeline[b]);
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstError, ex.Message, null);
            }
        });
        var end = Stopwatch.GetTimestamp();
        var seconds = Seconds(start, end);
        var cpu = Proc.CpuSeconds(o.NodePids) - cpu0;
        var self = Proc.CpuSeconds(Proc.Self) - self0;
        Log($"{sys.Name}: {n - failed} of {n} terminals ready in {seconds:0.0} s{(failed > 0 ? $"; {failed} failed, first: {firstError}" : "")}");
        if (failed > n / 100) throw new InvalidOperationException($"{failed} of {n} terminals failed to connect or join; first: {firstError}");
        if (failed > 0) _r.Notes.Add($"joinstorm: {failed} terminals failed to connect or join (first: {firstError})");
        var quiet = await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(120));
        var used = (int)Math.Ceiling(seconds * 4) + 1;
        return new JoinStormResult
        {
            Connections = n,
            Concurrency = o.Concurrency,
            Seconds = seconds,
            Failed = failed,
            ConnectP50 = connectMs.Percentile(50),
            ConnectP99 = connectMs.Percentile(99),
            JoinP50 = group is null ? double.NaN : joinMs.Percentile(50),
            JoinP99 = group is null ? double.NaN : joinMs.Percentile(99),
            Timeline = timeline[..Math.Min(used, timeline.Length)],
            QuietSeconds = quiet,
            Pushes = Pushes.Count - pushes0,
            NodeCpuSeconds = cpu,
            GeneratorCpuPct = self / seconds * 100,
        };
    }

    /// <summary>Joins terminals to groups, <c>Concurrency</c> at a time; returns the indices whose join failed (more than 1 % fails the scenario).</summary>
    private async Task<HashSet<int>> JoinAllAsync(IEnumerable<(int Index, string Group)> joins)
    {
        var list = joins.ToList();
        var failed = new HashSet<int>();
        string? first = null;
        await Parallel.ForEachAsync(list, new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency }, async (j, _) =>
        {
            if (_terms[j.Index] is not { } t) return;
            try
            {
                await sys.JoinAsync(t, j.Group).WaitAsync(ConnectTimeout);
            }
            catch (Exception ex)
            {
                lock (failed) failed.Add(j.Index);
                Interlocked.CompareExchange(ref first, ex.Message, null);
            }
        });
        if (failed.Count > list.Count / 100) throw new InvalidOperationException($"{failed.Count} of {list.Count} joins failed; first: {first}");
        if (failed.Count > 0) _r.Notes.Add($"{failed.Count} of {list.Count} joins failed (those terminals are left out of their group's receivers); first: {first}");
        return failed;
    }

    /// <summary>Waits until no push has arrived for <paramref name="quiet"/> (at most <paramref name="max"/>); returns the seconds waited.</summary>
    private static async Task<double> QuietAsync(TimeSpan quiet, TimeSpan max)
    {
        var start = Stopwatch.GetTimestamp();
        var last = Pushes.Count;
        var lastChange = start;
        while (true)
        {
            await Task.Delay(100);
            var now = Stopwatch.GetTimestamp();
            var c = Pushes.Count;
            if (c != last)
            {
                last = c;
                lastChange = now;
            }
            if (Seconds(lastChange, now) >= quiet.TotalSeconds || Seconds(start, now) >= max.TotalSeconds) return Seconds(start, now);
        }
    }

    /// <summary>
    /// Two figures. Cold: RSS growth from before the join storm to after it, ÷ terminals — includes the node's one-time
    /// warm-up (JIT, pools, heap growth). Warm (the per-terminal cost): every terminal disconnects, the nodes settle,
    /// RSS is sampled, the same terminals connect again (members already, so Realtime attaches them by itself; the
    /// stock hub joins them again), and the growth ÷ terminals is the cost of an idle connected terminal.
    /// </summary>
    private async Task<MemoryResult> MemoryAsync(long[] before, string? group)
    {
        var quiet = await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(120));
        await Task.Delay(TimeSpan.FromSeconds(5));
        var m = new MemoryResult { IdleSeconds = quiet + 5 };
        var cold = o.NodePids.Select(Proc.RssKb).ToArray();
        int Conns(int n) => _terms.Count(t => t is not null && t.Node == n) + (n == 0 ? 1 : 0);
        var coldConns = Enumerable.Range(0, o.NodePids.Length).Sum(Conns);
        m.ColdKbPerConnection = Enumerable.Range(0, o.NodePids.Length).Sum(n => cold[n] - before[n]) / (double)coldConns;

        await Parallel.ForEachAsync(_terms.OfType<Terminal>(), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency },
            async (t, _) => await t.Connection.DisposeAsync());
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idle = o.NodePids.Select(Proc.RssKb).ToArray();
        var reconnected = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, _terms.Length), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency }, async (i, _) =>
        {
            if (_terms[i] is null) return;
            using var cts = new CancellationTokenSource(ConnectTimeout);
            var t = await sys.ConnectAsync(i, i % o.Urls.Length, cts.Token);
            if (group is not null && _inStorm[i] && sys is StockSystem) await sys.JoinAsync(t, group).WaitAsync(ConnectTimeout);
            _terms[i] = t;
            Interlocked.Increment(ref reconnected);
        });
        await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(120));
        await Task.Delay(TimeSpan.FromSeconds(5));
        for (var n = 0; n < o.NodePids.Length; n++)
        {
            var conns = Conns(n);
            var after = Proc.RssKb(o.NodePids[n]);
            m.Nodes.Add(new NodeMemory
            {
                Pid = o.NodePids[n], ColdBeforeKb = before[n], ColdAfterKb = cold[n], BeforeKb = idle[n], AfterKb = after, Connections = conns,
                KbPerConnection = conns == 0 ? double.NaN : (after - idle[n]) / (double)conns,
            });
        }
        m.KbPerConnection = m.Nodes.Sum(x => x.AfterKb - x.BeforeKb) / (double)m.Nodes.Sum(x => x.Connections);
        Log($"{sys.Name}: RSS per idle terminal {m.KbPerConnection:0.0} KiB warm ({string.Join(", ", m.Nodes.Select(x => $"{x.BeforeKb / 1024} → {x.AfterKb / 1024} MiB for {x.Connections}"))}), " +
            $"{m.ColdKbPerConnection:0.0} KiB from a cold start; {reconnected} reconnected");
        return m;
    }

    // ------------------------------------------------------------------ delivery

    /// <summary>
    /// Open-loop sending on every lane for warm-up + measured seconds; each message carries its stream id, its seq in the
    /// stream and the Stopwatch timestamp taken just before SendCoreAsync. Waits for the deliveries until all arrived or
    /// 10 s after the last send, then counts missing, duplicates and out-of-order per receiver.
    /// </summary>
    private async Task<DeliveryResult> DeliverAsync(string name, Lane[] lanes, double warm, double measure)
    {
        var duration = warm + measure;
        var streams = lanes.SelectMany(l => l.Streams).ToArray();
        var start = After(Stopwatch.GetTimestamp(), 0.3);
        var m = new Measure(start, After(start, warm), After(start, duration), duration + DrainAfterLastSend.TotalSeconds + 15);
        foreach (var lane in lanes)
        {
            var capacity = (int)Math.Ceiling(lane.Rate * duration / lane.Streams.Length) + 2;
            foreach (var s in lane.Streams)
                foreach (var t in s.Receivers) t.Arm(s.Id, capacity, m);
        }
        var sent = new int[streams.Length];
        var measuredSent = new int[streams.Length];
        var index = streams.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var lag = new Hist();
        var sendErrors = 0;

        // CPU of the nodes, the extra processes and this process over the measured window.
        var cpuTask = Task.Run(async () =>
        {
            await DelayUntil(After(start, warm));
            var a = (Nodes: Proc.CpuSeconds(o.NodePids), Extra: o.ExtraPids.Select(Proc.CpuSeconds).ToArray(), Self: Proc.CpuSeconds(Proc.Self));
            await DelayUntil(After(start, duration));
            return (Nodes: Proc.CpuSeconds(o.NodePids) - a.Nodes, Extra: o.ExtraPids.Select((p, i) => Proc.CpuSeconds(p) - a.Extra[i]).ToArray(),
                Self: Proc.CpuSeconds(Proc.Self) - a.Self);
        });

        var hardStop = After(start, duration + DrainAfterLastSend.TotalSeconds);
        var pacers = lanes.Select(lane => Task.Run(async () =>
        {
            var count = (int)Math.Round(lane.Rate * duration);
            var perMessage = Stopwatch.Frequency / lane.Rate;
            for (var n = 0; n < count; n++)
            {
                var due = start + (long)(n * perMessage);
                long now;
                while ((now = Stopwatch.GetTimestamp()) < due) await Task.Delay(Math.Max(1, (int)((due - now) * 1000 / Stopwatch.Frequency)));
                if (now > hardStop) break;
                lag.Record((now - due) * 1_000_000 / Stopwatch.Frequency);
                var s = lane.Streams[n % lane.Streams.Length];
                var msg = new Msg { G = s.Id, K = n / lane.Streams.Length, T = Stopwatch.GetTimestamp() };
                try
                {
                    await sys.SendAsync(lane.Sender, s.Group, msg);
                    var i = index[s.Id];
                    sent[i]++;
                    if (msg.T >= m.MeasureFrom && msg.T < m.MeasureTo) measuredSent[i]++;
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref sendErrors);
                }
            }
        })).ToArray();
        await Task.WhenAll(pacers);
        var lastSend = Stopwatch.GetTimestamp();
        var expected = streams.Select((s, i) => (long)sent[i] * s.Receivers.Length).Sum();
        while (m.Received < expected && Stopwatch.GetTimestamp() < After(lastSend, DrainAfterLastSend.TotalSeconds)) await Task.Delay(20);
        var drained = Stopwatch.GetTimestamp();
        var cpu = await cpuTask;
        foreach (var s in streams) foreach (var t in s.Receivers) t.Disarm();

        var r = new DeliveryResult
        {
            Name = name,
            Groups = streams.Length,
            MembersPerGroup = streams[0].Receivers.Length,
            Senders = lanes.Length,
            Rate = lanes.Sum(l => l.Rate),
            WarmupSeconds = warm,
            MeasureSeconds = measure,
            Offered = lanes.Sum(l => (int)Math.Round(l.Rate * duration)),
            Sent = sent.Sum(),
            SendErrors = sendErrors,
            Expected = expected,
            Received = m.Received,
            MeasuredExpected = streams.Select((s, i) => (long)measuredSent[i] * s.Receivers.Length).Sum(),
            MeasuredReceived = m.MeasuredReceived,
            OfferedPerSecond = lanes.Sum(l => l.Rate * l.Streams.Average(s => s.Receivers.Length)),
            Hist = m.Hist.Sparse(),
            Timeline = m.Timeline[..Math.Min(m.Timeline.Length, (int)Math.Ceiling(Seconds(start, drained) * 4) + 1)],
            NodeCpuSeconds = cpu.Nodes,
            GeneratorCpuPct = cpu.Self / measure * 100,
            ExtraCpuSeconds = o.ExtraNames.Select((x, i) => (x, cpu.Extra[i])).ToDictionary(x => x.x, x => x.Item2),
            SendLagP99 = lag.Percentile(99),
            SendLagMax = lag.MaxMs(),
            DrainSeconds = Seconds(lastSend, drained),
        };
        foreach (var s in streams)
        {
            var expectedPer = sent[index[s.Id]];
            foreach (var t in s.Receivers)
            {
                r.Missing += Math.Max(0, expectedPer - t.Received);
                r.Duplicates += t.Duplicates;
                r.OutOfOrder += t.OutOfOrder;
            }
        }
        var from = (int)(warm / Measure.Bucket);
        var to = (int)(duration / Measure.Bucket);
        r.WindowDeliveries = m.Timeline.Skip(from).Take(to - from).Sum();
        r.AchievedPerSecond = r.WindowDeliveries / measure;
        r.CpuUsPerDelivery = r.WindowDeliveries == 0 ? double.NaN : cpu.Nodes * 1e6 / r.WindowDeliveries;
        r.P50 = m.Hist.Percentile(50, r.MeasuredExpected);
        r.P90 = m.Hist.Percentile(90, r.MeasuredExpected);
        r.P99 = m.Hist.Percentile(99, r.MeasuredExpected);
        r.P999 = m.Hist.Percentile(99.9, r.MeasuredExpected);
        r.Max = r.MeasuredReceived < r.MeasuredExpected ? double.PositiveInfinity : m.Hist.MaxMs();
        Log($"{sys.Name}: {name} {r.Rate:0} msg/s: sent {r.Sent}/{r.Offered}, deliveries/s {r.AchievedPerSecond:0} of {r.OfferedPerSecond:0}, " +
            $"missing {r.Missing}, dup {r.Duplicates}, ooo {r.OutOfOrder}, p50 {r.P50:0.0} p99 {r.P99:0.0} max {r.Max:0.0} ms, " +
            $"node CPU {r.CpuUsPerDelivery:0.0} µs/delivery, generator {r.GeneratorCpuPct:0} % of a core, drain {r.DrainSeconds:0.0} s");
        return r;
    }

    private static async Task DelayUntil(long timestamp)
    {
        var now = Stopwatch.GetTimestamp();
        if (timestamp > now) await Task.Delay(TimeSpan.FromSeconds(Seconds(now, timestamp)));
    }

    // ------------------------------------------------------------------ throughput limit

    private async Task<LimitResult> LimitAsync()
    {
        const int groups = 20;
        var result = new LimitResult { MembersPerGroup = LimitMembers, StepSeconds = o.LimitStepSeconds };
        // (a) groups of 10: terminals 10g … 10g+9, sender 10g (a member, counted as a receiver too); (b) terminals 200 … 209, sender 200.
        var many = new Stream[groups];
        var manySenders = new Terminal[groups];
        for (var g = 0; g < groups; g++)
        {
            var members = Live(_terms.Skip(g * LimitMembers).Take(LimitMembers));
            manySenders[g] = members[0];
            var key = await sys.CreateGroupAsync(members[0], $"sbs limit {g}");
            if (sys is StockSystem) await sys.JoinAsync(members[0], key);
            var failed = await JoinAllAsync(Enumerable.Range(g * LimitMembers + 1, LimitMembers - 1).Select(i => (i, key)));
            many[g] = new Stream(key, 0, [.. members.Where(t => !failed.Contains(t.Index))]);
        }
        var oneMembers = Live(_terms.Skip(groups * LimitMembers).Take(LimitMembers));
        var oneKey = await sys.CreateGroupAsync(oneMembers[0], "sbs limit one");
        if (sys is StockSystem) await sys.JoinAsync(oneMembers[0], oneKey);
        var oneFailed = await JoinAllAsync(Enumerable.Range(groups * LimitMembers + 1, LimitMembers - 1).Select(i => (i, oneKey)));
        oneMembers = [.. oneMembers.Where(t => !oneFailed.Contains(t.Index))];
        await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));

        (result.BestMany, result.ManyStop) = await LadderAsync("limit-20-groups", result.Many,
            rate => [.. many.Select((s, g) => new Lane(manySenders[g], [s with { Id = _nextStream++ }], rate / (double)groups))]);
        await QuietAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        (result.BestOne, result.OneStop) = await LadderAsync("limit-1-group", result.One,
            rate => [new Lane(oneMembers[0], [new Stream(oneKey, _nextStream++, oneMembers)], rate)]);
        return result;
    }

    private async Task<(double Best, string Stop)> LadderAsync(string name, List<DeliveryResult> steps, Func<int, Lane[]> lanes)
    {
        double best = 0;
        foreach (var rate in o.LimitRates)
        {
            var r = await DeliverAsync($"{name}", lanes(rate), 0, o.LimitStepSeconds);
            steps.Add(r);
            var why = r.Sent < 0.95 * r.Offered ? $"the generator sent only {r.Sent} of {r.Offered} messages in time at {rate}/s"
                : r.AchievedPerSecond < 0.95 * r.OfferedPerSecond ? $"deliveries fell behind at {rate}/s ({100 * r.AchievedPerSecond / r.OfferedPerSecond:0} % of offered)"
                : !(r.P99 <= 100) ? $"p99 {(double.IsInfinity(r.P99) ? "∞ (messages missing)" : $"{r.P99:0} ms")} > 100 ms at {rate}/s"
                : null;
            await QuietAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
            if (why is not null) return (best, why);
            best = rate;
        }
        return (best, $"every step passed (the ladder ends at {o.LimitRates[^1]}/s)");
    }
}
