using System.Globalization;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace Realtime.Soak;

/// <summary>A fault bench/soak.sh injected: s since the load started, what, details.</summary>
public sealed record Fault(double T, string Kind, string Detail);

public static class Faults
{
    /// <summary>Lines "unix-ms kind detail…" written by bench/soak.sh.</summary>
    public static List<Fault> Read(string? path)
    {
        if (path is null || !File.Exists(path)) return [];
        return [.. File.ReadAllLines(path)
            .Select(l => l.Split(' ', 3))
            .Where(f => f.Length >= 2 && long.TryParse(f[0], out _))
            .Select(f => new Fault(Clock.SecondsOfUnixMs(long.Parse(f[0], CultureInfo.InvariantCulture)), f[1], f.Length > 2 ? f[2] : ""))];
    }
}

/// <summary>The Markdown report (stdout) and the SVG plots.</summary>
public static class Report
{
    private static readonly string[] Methods = ["SendMessage", "UpdateGroupProfile", "ApplyToJoin", "QuitGroup", "InviteMembers", "RemoveMembers", "GetMembers", "GetJoinedGroups"];

    public static void Write(SoakContext ctx, SoakUser[] users, Role[] roles, FrozenReader frozen, Sampler sampler, List<Fault> faults,
        Verdict v, double loadSeconds, long[] lastSeqs)
    {
        var o = ctx.Options;
        var r = ctx.Recorder;
        var seconds = (int)Math.Floor(loadSeconds);
        var ok = r.CommandsOk.Take(seconds).Sum();
        var failed = r.CommandsFailed.Take(seconds).Sum();
        var W = Console.Out;
        string Mmss(double t) => t < 0 ? $"-{Mmss(-t)}" : $"{(int)(t / 60)}:{(int)(t % 60):00}";

        W.WriteLine($"## Soak: {o.Minutes} min, {o.Users} users on {o.Urls.Length} nodes, Redis restarted, a node killed, a frozen reader\n");
        var leaks = v.Group.AfterRemoval + v.Group.OtherOutside;
        W.WriteLine($"**{(v.Ok ? "PASS" : "FAIL")}**: lost {v.Lost}, duplicated {v.Duplicated}, acknowledged messages missing {v.AckMismatch}, " +
                    $"gaps in the group logs {v.LogMissing.Sum()}, Sync answers outside the membership windows " +
                    $"{v.Group.OutsideBySync + v.System.OutsideBySync + v.Frozen.OutsideBySync}; " +
                    $"**{(ok + failed) / loadSeconds:0.0} commands/s** ({ok} ok, {failed} failed) for {loadSeconds / 60:0.0} min." +
                    (leaks > 0 ? $" **Finding: {leaks} live pushes reached users after their removal** (SPEC §5.4; see Findings)." : "") + "\n");

        var sizes = Enumerable.Range(0, o.Groups).Select(g => roles.Count(x => x.Home == g) + (g == 0 ? 1 : 0)).ToArray();
        W.WriteLine($"Setup: {o.Groups} Public groups (FreeAccess), {string.Join(" / ", sizes)} members at the start (group 1, the busiest, " +
                    $"includes the frozen reader's user); each user has one terminal, user *i* on node *i* mod {o.Urls.Length}. Every user runs " +
                    $"one command every {o.Users / (double)o.Rate:0.00} s (target {o.Rate} commands/s in all, no catch-up when late): 72% SendMessage " +
                    "(to its group; 30% of it to the group it applied to, while a member there), 5% UpdateGroupProfile (owners and admins; " +
                    "the others read instead), 6% churn (ranks ≥ 4 ApplyToJoin the next group and QuitGroup it again; each owner " +
                    "InviteMembers two users of another group and RemoveMembers them again; each membership is changed by one party only, " +
                    "so there are no races between the load's own commands), the rest GetMembers / GetJoinedGroups. A terminal keeps a " +
                    "cursor per stream, calls `Sync` (limit 1000, paging by `next`/`hasMore`) when a live gap stays open 2 s, after every " +
                    "reconnect and once at the end; a command cut off by a lost connection or a 20 s timeout is sent once more, with the " +
                    "same requestId/clientMsgId.\n");

        // ---- load
        W.WriteLine("### Load\n");
        W.WriteLine("| method | calls ok | calls/s | p50 ms | p95 ms | p99 ms | max ms |");
        W.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in Methods.Where(r.MethodLatency.ContainsKey))
        {
            var l = r.MethodLatency[m];
            W.WriteLine($"| {m} | {l.Count} | {l.Count / loadSeconds:0.0} | {l.Percentile(50):0.0} | {l.Percentile(95):0.0} | {l.Percentile(99):0.0} | {l.Percentile(100):0.0} |");
        }
        W.WriteLine();
        W.WriteLine($"Failed commands: {(r.Errors.IsEmpty ? "none" : string.Join(", ", r.Errors.OrderBy(e => e.Key).Select(e => $"{e.Key} ×{e.Value}")))}.  ");
        W.WriteLine($"Retries: {(r.Retries.IsEmpty ? "none" : string.Join(", ", r.Retries.OrderBy(e => e.Key).Select(e => $"{e.Key} ×{e.Value}")))}.\n");

        W.WriteLine("Per minute (commands counted when answered; push latency = SendMessage invoke → `GroupEvent` at each member's terminal, live pushes only, same process so no clock skew):\n");
        W.WriteLine("| minute | commands/s | failed | live pushes/s | push p50 ms | push p99 ms | push max ms | load avg |");
        W.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var m = 0; m * 60 < seconds; m++)
        {
            var from = m * 60;
            var to = Math.Min(seconds, from + 60);
            var span = Math.Max(1, to - from);
            var lat = Values.Of(r.Latency.Skip(from / Recorder.LatencyWindow).Take(Math.Max(1, span / Recorder.LatencyWindow)));
            var loads = sampler.Samples.Where(s => s.T >= from && s.T < to).Select(s => s.Load1).DefaultIfEmpty(double.NaN).ToList();
            W.WriteLine($"| {m + 1} | {r.CommandsOk.Skip(from).Take(span).Sum() / (double)span:0.0} | {r.CommandsFailed.Skip(from).Take(span).Sum()} | " +
                        $"{r.LiveDeliveries.Skip(from).Take(span).Sum() / (double)span:0} | {lat.Percentile(50):0.0} | {lat.Percentile(99):0.0} | {lat.Percentile(100):0} | {loads.Average():0.00} |");
        }
        var all = Values.Of(r.Latency);
        W.WriteLine($"\nAll {all.Count} live message pushes: p50 {all.Percentile(50):0.0} ms, p99 {all.Percentile(99):0.0} ms, p99.9 {all.Percentile(99.9):0} ms, max {all.Percentile(100):0} ms.\n");

        // ---- faults
        W.WriteLine("### Faults\n");
        W.WriteLine("| at (m:ss since the load started) | what | detail |");
        W.WriteLine("|---:|---|---|");
        foreach (var f in faults) W.WriteLine($"| {Mmss(f.T)} | {f.Kind} | {f.Detail} |");
        foreach (var (t, closed) in frozen.Terminals)
            W.WriteLine($"| {Mmss(t)} | frozen terminal connected | node-{frozen.Node + 1}; {(closed is { } c ? $"closed by the server at {Mmss(c)}, after {c - t:0} s" : "still open at the end")} |");
        W.WriteLine();
        string Between(string a, string b)
        {
            var fa = faults.FirstOrDefault(f => f.Kind == a);
            var fb = faults.FirstOrDefault(f => f.Kind == b && fa is not null && f.T >= fa.T);
            return fa is null || fb is null ? "n/a" : $"{fb.T - fa.T:0.0} s";
        }
        W.WriteLine($"Redis was down for {Between("redis-stop", "redis-up")} (stop → answering PING again); the killed node was gone for " +
                    $"{Between("node-kill", "node-ready")} (kill -9 → /readyz answering 200 again).");
        var reconnects = users.SelectMany(u => u.Reconnects).ToList();
        if (reconnects.Count > 0)
        {
            var took = new Values();
            foreach (var x in reconnects) took.Add(x.Seconds);
            W.WriteLine($"{reconnects.Count} reconnects by {users.Count(u => u.Reconnects.Count > 0)} users (connection lost → connected and synced): " +
                        $"p50 {took.Percentile(50):0.0} s, max {took.Percentile(100):0.0} s; {reconnects.Count(x => x.To != x.From)} went to the other node, " +
                        $"{reconnects.Count(x => x.To == x.From)} back to the same one; gave up: {v.GaveUp}.");
        }
        else
        {
            W.WriteLine("No terminal lost its connection.");
        }
        W.WriteLine($"The frozen reader (a raw WebSocket of a member of group 1, handshake done, then never read; socket receive buffer " +
                    $"{FrozenReader.ReceiveBuffer / 1024} KiB; a SignalR ping every 10 s) was replaced each time the server closed it: " +
                    $"{frozen.Terminals.Count} terminal(s), {frozen.Terminals.Count(x => x.ClosedAt is not null)} closed by the server; at most " +
                    $"{frozen.MaxQueuedBytes / 1024.0 / 1024:0.0} MiB were queued towards it (the node's TCP send queue plus its unread receive queue).\n");

        // ---- delivery
        W.WriteLine("### Delivery after the final Sync\n");
        W.WriteLine("Expected events per terminal follow from the group log (union of everything any terminal got, checked gapless 1..lastSeq " +
                    "with one id per seq): a user's windows open at each `MembersJoined` naming it and close at the `MembersKicked`/`MemberQuit` " +
                    "that removes it (the owner's from 0); system messages 1..last. \"Removal by Sync\" is the event that removed the user, " +
                    "which by design reaches the removed user only through Sync (it is detached before commit).\n");
        W.WriteLine("| streams | count | events expected | received live | recovered by Sync only | removal by Sync | **lost** | outside windows: just before a join / after removal / other (of which by Sync) |");
        W.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        void Row(string name, StreamCounts c) =>
            W.WriteLine($"| {name} | {c.Streams} | {c.Expected} | {c.Live} | {c.SyncOnly} | {c.RemovalBySync} | **{c.Lost}** | " +
                        $"{c.PreJoin} / {c.AfterRemoval} / {c.OtherOutside} ({c.OutsideBySync}) |");
        Row("group events (user × group)", v.Group);
        Row("system messages (per user)", v.System);
        Row("frozen reader's user (fresh terminal, Sync from 0)", v.Frozen);
        W.WriteLine();
        W.WriteLine($"- group logs: lastSeq {string.Join(" / ", lastSeqs)}; seqs missing from every terminal {v.LogMissing.Sum()}, beyond lastSeq " +
                    $"{v.LogBeyond.Sum()}, one seq with two ids {v.Conflicts} (system messages: {v.SystemConflicts}); messages {v.Messages.Sum()}.");
        W.WriteLine($"- {v.Acked} acknowledged SendMessage calls: each in the log at the seq it was given, with its clientMsgId: {v.Acked - v.AckMismatch} " +
                    $"(missing or different {v.AckMismatch}); a clientMsgId logged twice: {v.DuplicateMessages}.");
        W.WriteLine($"- the same seq pushed twice to a terminal: {v.LiveTwice}; Sync pages out of order: {v.SyncOrder}; `tooOld` answers: {v.TooOld}; " +
                    $"final Syncs that did not finish: {v.FinalSyncFailed}.");
        W.WriteLine($"- live pushes arriving below a seq already pushed on the same connection: {v.LiveBackwards} (two nodes publish " +
                    "independently after their commits, so a terminal may see seq n+1 before n; the cursor waits for n).");
        W.WriteLine("- Sync calls: " + string.Join("; ", ctx.Syncs.OrderBy(s => s.Key).Select(s =>
            $"{s.Key} {s.Value[0]} calls, {s.Value[1]} pages, {s.Value[2]} items of which {s.Value[3]} not seen before{(s.Value[4] > 0 ? $", {s.Value[4]} unfinished" : "")}")) + ".");
        foreach (var e in v.Examples) W.WriteLine($"- example: {e}");
        W.WriteLine();

        W.WriteLine("### Findings\n");
        W.WriteLine($"- **just before a join** ({v.Group.PreJoin}): a joiner got, live, events logged at most {Verifier.PreJoinSeconds:0} s before " +
                    "its `MembersJoined` (its window starts after them). A join attaches the terminal before its commit, while the pushes " +
                    "of the commands committed just before it may still be on their way (pushes go out after commit, through Redis); " +
                    "those reach the joiner too. Sync never returns them, and the cursor starts at joinSeq, so nothing is out of order; " +
                    "but they are events from before the user joined.");
        if (v.Leaks.Count == 0)
        {
            W.WriteLine("- no live push reached a user after its removal (SPEC §5.4).");
        }
        else
        {
            W.WriteLine($"- **after removal** ({v.Leaks.Count}, SPEC §5.4): live pushes that reached a user after the event that removed it. " +
                        "By when they were logged, next to the faults:");
            W.WriteLine();
            W.WriteLine("  | logged at | nearest fault | events |");
            W.WriteLine("  |---:|---|---:|");
            foreach (var bucket in v.Leaks.GroupBy(l => Math.Floor(l.At / 5) * 5).OrderBy(b => b.Key))
            {
                var near = faults.Where(f => f.Kind is "redis-stop" or "redis-up" or "node-kill" or "node-ready")
                    .OrderBy(f => Math.Abs(f.T - bucket.Key)).FirstOrDefault();
                W.WriteLine($"  | {Mmss(bucket.Key)}–{Mmss(bucket.Key + 5)} | {(near is null ? "none" : $"{near.Kind} at {Mmss(near.T)}")} | {bucket.Count()} |");
            }
            W.WriteLine();
            foreach (var l in v.Leaks.Take(8)) W.WriteLine($"  - {l.Text}");
        }
        W.WriteLine();

        // ---- memory
        W.WriteLine("### Memory (VmRSS) and load\n");
        var warm = o.Warmup.TotalSeconds;
        var mid = loadSeconds / 2;
        W.WriteLine($"Sampled every {Sampler.Interval.TotalSeconds:0} s. start = first sample after {warm:0} s of warm-up, mid = at {Mmss(mid)}, " +
                    "end = last sample of the load; slope = least squares over the second half (for a process restarted in it, from its restart). " +
                    "Flagged when it grows faster than 1 MB/min or ends more than 10% above mid.\n");
        W.WriteLine("| process | start MB | mid MB | end MB | max MB | slope 2nd half MB/min | flat? |");
        W.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        var samples = sampler.Samples.Where(s => s.T <= loadSeconds).ToList();
        for (var p = 0; p < sampler.Names.Length; p++)
        {
            var series = samples.Where(s => !double.IsNaN(s.RssMb[p])).ToList();
            if (series.Count == 0) continue;
            Sample? At(double t) => series.FirstOrDefault(s => s.T >= t) ?? series.LastOrDefault();
            var start = At(warm);
            var middle = At(mid);
            var end = series[^1];
            var endPid = end.Pids[p];
            var half = series.Where(s => s.T >= mid && s.Pids[p] == endPid).ToList();
            var slope = Slope(half.Select(s => (s.T / 60, s.RssMb[p])).ToList());
            var restarted = series.Select(s => s.Pids[p]).Distinct().Count() > 1;
            var flat = slope <= 1 && (middle is null || end.RssMb[p] <= middle.RssMb[p] * 1.1);
            W.WriteLine($"| {sampler.Names[p]}{(restarted ? " (restarted)" : "")} | {start?.RssMb[p]:0} | {middle?.RssMb[p]:0} | {end.RssMb[p]:0} | " +
                        $"{series.Max(s => s.RssMb[p]):0} | {slope:+0.00;-0.00} | {(flat ? "yes" : "**grows**")} |");
        }
        var loadsAll = samples.Where(s => s.T >= 0).Select(s => s.Load1).DefaultIfEmpty(double.NaN).ToList();
        W.WriteLine($"\nLoad average (1 min) during the load: min {loadsAll.Min():0.00}, mean {loadsAll.Average():0.00}, max {loadsAll.Max():0.00} " +
                    $"on {Environment.ProcessorCount} cores. The load generator keeps one byte per (terminal, seq) and the group logs' " +
                    "entries (for the check), so its RSS grows slowly with the events by design.\n");

        if (o.PlotPrefix is { } prefix)
        {
            var name = Path.GetFileName(prefix);
            Plots(ctx, sampler, faults, frozen, v, loadSeconds, prefix);
            W.WriteLine($"![RSS per process]({name}-rss.svg)\n");
            W.WriteLine($"![commands per second]({name}-throughput.svg)\n");
            W.WriteLine($"![live pushes and recovered events]({name}-deliveries.svg)\n");
            W.WriteLine($"![push latency]({name}-latency.svg)\n");
        }
    }

    private static double Slope(List<(double X, double Y)> points)
    {
        if (points.Count < 3) return double.NaN;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx == 0 ? double.NaN : points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
    }

    // ------------------------------------------------------------------ plots

    private static void Plots(SoakContext ctx, Sampler sampler, List<Fault> faults, FrozenReader frozen, Verdict v, double loadSeconds, string prefix)
    {
        var r = ctx.Recorder;
        var seconds = (int)Math.Floor(loadSeconds);
        var colors = new[] { OxyColors.SteelBlue, OxyColors.DarkOrange, OxyColors.SeaGreen, OxyColors.Purple, OxyColors.Gray };

        var rss = Model("RSS per process (MB)", "MB", faults, frozen, loadSeconds);
        for (var p = 0; p < sampler.Names.Length; p++)
        {
            var s = new LineSeries { Title = sampler.Names[p], Color = colors[p % colors.Length], StrokeThickness = 1.5 };
            foreach (var x in sampler.Samples.Where(x => x.T >= 0 && x.T <= loadSeconds + 30))
                s.Points.Add(double.IsNaN(x.RssMb[p]) ? DataPoint.Undefined : new DataPoint(x.T / 60, x.RssMb[p]));
            rss.Series.Add(s);
        }
        Save(rss, prefix + "-rss.svg");

        var tp = Model("Commands per second (5 s mean) and load average", "commands/s", faults, frozen, loadSeconds);
        tp.Series.Add(Smoothed("answered ok", r.CommandsOk, seconds, OxyColors.SteelBlue));
        tp.Series.Add(Smoothed("failed", r.CommandsFailed, seconds, OxyColors.Red));
        tp.Axes.Add(new LinearAxis { Position = AxisPosition.Right, Key = "load", Title = "load average (1 min)", Minimum = 0 });
        var load = new LineSeries { Title = "load average", YAxisKey = "load", Color = OxyColors.Gray, LineStyle = LineStyle.Dot };
        foreach (var x in sampler.Samples.Where(x => x.T >= 0 && x.T <= loadSeconds)) load.Points.Add(new DataPoint(x.T / 60, x.Load1));
        tp.Series.Add(load);
        Save(tp, prefix + "-throughput.svg");

        var dl = Model("Group events: pushed live per second, and recovered by Sync (by when they were logged)", "events/s", faults, frozen, loadSeconds);
        dl.Series.Add(Smoothed("received live (5 s mean)", r.LiveDeliveries, seconds, OxyColors.SteelBlue));
        dl.Series.Add(Smoothed("recovered by Sync only (5 s mean)", v.RecoveredAt, seconds, OxyColors.DarkOrange));
        Save(dl, prefix + "-deliveries.svg");

        var lat = Model($"Live push latency per {Recorder.LatencyWindow} s (SendMessage invoke → GroupEvent)", "ms", faults, frozen, loadSeconds, logY: true);
        var p50 = new LineSeries { Title = "p50", Color = OxyColors.SteelBlue };
        var p99 = new LineSeries { Title = "p99", Color = OxyColors.DarkOrange };
        var max = new LineSeries { Title = "max", Color = OxyColors.Red, LineStyle = LineStyle.Dot };
        for (var w = 0; w * Recorder.LatencyWindow < seconds; w++)
        {
            var values = r.Latency[w];
            if (values.Count == 0) continue;
            var x = (w + 0.5) * Recorder.LatencyWindow / 60;
            p50.Points.Add(new DataPoint(x, Math.Max(0.1, values.Percentile(50))));
            p99.Points.Add(new DataPoint(x, Math.Max(0.1, values.Percentile(99))));
            max.Points.Add(new DataPoint(x, Math.Max(0.1, values.Percentile(100))));
        }
        lat.Series.Add(p50);
        lat.Series.Add(p99);
        lat.Series.Add(max);
        Save(lat, prefix + "-latency.svg");
    }

    private static PlotModel Model(string title, string yTitle, List<Fault> faults, FrozenReader frozen, double loadSeconds, bool logY = false)
    {
        var m = new PlotModel { Title = title, TitleFontSize = 13, Background = OxyColors.White, Padding = new OxyThickness(8, 14, 8, 8) };
        m.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "minutes since the load started", Minimum = 0, Maximum = loadSeconds / 60 + 0.2 });
        m.Axes.Add(logY
            ? new LogarithmicAxis { Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot }
            : new LinearAxis { Position = AxisPosition.Left, Title = yTitle, Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        m.DefaultFont = "Arial";
        m.Legends.Add(new Legend { LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.BottomCenter, LegendOrientation = LegendOrientation.Horizontal });
        foreach (var f in faults.Where(f => f.Kind is "redis-stop" or "redis-up" or "node-kill" or "node-ready"))
        {
            m.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical, X = f.T / 60, Text = f.Kind, Color = f.Kind.StartsWith("redis") ? OxyColors.Firebrick : OxyColors.DarkViolet,
                LineStyle = LineStyle.Dash, TextOrientation = AnnotationTextOrientation.Vertical, FontSize = 10,
            });
        }
        foreach (var closed in frozen.Terminals.Where(t => t.ClosedAt is not null).Select(t => t.ClosedAt!.Value))
        {
            m.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical, X = closed / 60, Text = "frozen closed", Color = OxyColors.Goldenrod,
                LineStyle = LineStyle.Dot, TextOrientation = AnnotationTextOrientation.Vertical, FontSize = 9,
            });
        }
        return m;
    }

    private static LineSeries Smoothed(string title, long[] perSecond, int seconds, OxyColor color)
    {
        var s = new LineSeries { Title = title, Color = color, StrokeThickness = 1.2 };
        for (var t = 0; t + 5 <= seconds; t += 5) s.Points.Add(new DataPoint((t + 2.5) / 60, perSecond.Skip(t).Take(5).Sum() / 5.0));
        return s;
    }

    private static void Save(PlotModel model, string path)
    {
        using var stream = File.Create(path);
        new SvgExporter { Width = 1000, Height = 420 }.Export(model, stream);
    }
}
