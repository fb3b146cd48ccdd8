using System.Globalization;
using System.Text.Json;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using Realtime.BenchTools;

namespace Realtime.Bench.Sbs;

/// <summary>The three systems side by side: Markdown tables with ratios, the targets check, and the SVG plots.</summary>
public static class Report
{
    private static readonly string[] Order = ["realtime", "stock-redis", "stock-memory"];
    private static readonly OxyColor[] Colors = [OxyColors.Firebrick, OxyColors.SteelBlue, OxyColors.SeaGreen];

    public static int Run(string[] args)
    {
        var v = CommandLine.Pairs(args, 1);
        if (!v.TryGetValue("dir", out var dir) || !v.TryGetValue("prefix", out var prefix)) throw new ArgumentException("report needs --dir and --prefix");
        var results = Order.Select(s => Path.Combine(dir, s + ".json")).Where(File.Exists)
            .Select(p => JsonSerializer.Deserialize<SystemResult>(File.ReadAllText(p), Json.Options)!).ToList();
        var pgbench = v.TryGetValue("pgbench", out var pg) && File.Exists(pg) ? File.ReadAllLines(pg) : [];
        Write(Console.Out, results, pgbench, prefix);
        return 0;
    }

    private static string F(double x, string fmt = "0.0") =>
        double.IsNaN(x) ? "n/a" : double.IsPositiveInfinity(x) ? "∞" : x.ToString(fmt, CultureInfo.InvariantCulture);

    private static string Ratio(double a, double b) =>
        double.IsNaN(a) || double.IsNaN(b) ? "n/a" : double.IsInfinity(a) && !double.IsInfinity(b) ? "∞" : b == 0 || double.IsInfinity(b) ? "n/a" : $"{a / b:0.00}×";

    private static void Write(TextWriter w, List<SystemResult> results, string[] pgbench, string prefix)
    {
        var name = Path.GetFileName(prefix);
        SystemResult? Sys(string s) => results.FirstOrDefault(r => r.System == s);
        var rt = Sys("realtime");
        var sr = Sys("stock-redis");
        var sm = Sys("stock-memory");

        w.WriteLine("## Summary\n");
        w.WriteLine($"| metric | {string.Join(" | ", results.Select(r => r.System))} | Realtime ÷ stock-redis | Realtime ÷ stock-memory |");
        w.WriteLine($"|---|{string.Concat(results.Select(_ => "---:|"))}---:|---:|");
        void Row(string metric, Func<SystemResult, double> f, string fmt = "0.0", bool ratio = true)
        {
            double G(SystemResult? r) => r is null ? double.NaN : f(r);
            w.WriteLine($"| {metric} | {string.Join(" | ", results.Select(r => F(f(r), fmt)))} | " +
                        $"{(ratio ? Ratio(G(rt), G(sr)) : "")} | {(ratio ? Ratio(G(rt), G(sm)) : "")} |");
        }
        double D(DeliveryResult? d, Func<DeliveryResult, double> f) => d is null ? double.NaN : f(d);
        foreach (var (label, pick) in new (string, Func<SystemResult, DeliveryResult?>)[] { ("fanout", r => r.Fanout), ("biggroup", r => r.BigGroup) })
        {
            var offered = results.Select(pick).FirstOrDefault(d => d is not null);
            if (offered is null) continue;
            Row($"{label}: deliveries/s (offered {offered.OfferedPerSecond:0})", r => D(pick(r), d => d.AchievedPerSecond), "0");
            Row($"{label}: missing / duplicate / out of order", r => D(pick(r), d => d.Missing), "0", false);
            Row($"{label}: latency p50 ms", r => D(pick(r), d => d.P50));
            Row($"{label}: latency p99 ms", r => D(pick(r), d => d.P99));
            Row($"{label}: latency max ms", r => D(pick(r), d => d.Max));
            Row($"{label}: server CPU µs per delivery", r => D(pick(r), d => d.CpuUsPerDelivery), "0.00");
            Row($"{label}: load generator CPU % of one core", r => D(pick(r), d => d.GeneratorCpuPct), "0", false);
        }
        Row($"join storm: s to connect and join {results.Select(r => r.JoinStorm?.Connections ?? 0).Max()}", r => r.JoinStorm?.Seconds ?? double.NaN, "0.0");
        Row("RSS KiB per idle terminal (warm node: the terminals reconnected)", r => r.Memory?.KbPerConnection ?? double.NaN, "0.0");
        Row("RSS KiB growth per terminal from a cold start (incl. the node's warm-up)", r => r.Memory?.ColdKbPerConnection ?? double.NaN, "0.0");
        Row("throughput limit, 20 groups: messages/s", r => r.Limit?.BestMany ?? double.NaN, "0");
        Row("throughput limit, 1 group: messages/s", r => r.Limit?.BestOne ?? double.NaN, "0");
        w.WriteLine();
        w.WriteLine("The missing row shows missing deliveries (duplicates and out-of-order are in the scenario tables below). " +
                    "A ratio above 1 means Realtime needs more (time, memory, CPU) or is slower; for deliveries/s and the limits above 1 is better.\n");

        // ---- targets
        w.WriteLine("## Targets (Realtime, ratios from this run)\n");
        var targets = new List<(string What, bool? Met, string Value)>();
        foreach (var (label, pick) in new (string, Func<SystemResult, DeliveryResult?>)[] { ("fanout", r => r.Fanout), ("biggroup", r => r.BigGroup) })
        {
            var a = rt is null ? null : pick(rt);
            var b = sr is null ? null : pick(sr);
            targets.Add(($"{label}: achieved = offered (≥ 99 % in the measured window) with 0 missing",
                a is null ? null : a.Missing == 0 && a.AchievedPerSecond >= 0.99 * a.OfferedPerSecond,
                a is null ? "not run" : $"{a.AchievedPerSecond:0}/s of {a.OfferedPerSecond:0}/s, missing {a.Missing}"));
            targets.Add(($"{label}: p99 ≤ 1.5 × stock-redis p99", a is null || b is null ? null : a.P99 <= 1.5 * b.P99,
                a is null || b is null ? "not run" : $"{F(a.P99)} vs {F(b.P99)} ms ({Ratio(a.P99, b.P99)})"));
            targets.Add(($"{label}: p50 ≤ 2 × stock-redis p50", a is null || b is null ? null : a.P50 <= 2 * b.P50,
                a is null || b is null ? "not run" : $"{F(a.P50)} vs {F(b.P50)} ms ({Ratio(a.P50, b.P50)})"));
            targets.Add(($"{label}: server CPU per delivery ≤ 1.5 × stock-redis", a is null || b is null ? null : a.CpuUsPerDelivery <= 1.5 * b.CpuUsPerDelivery,
                a is null || b is null ? "not run" : $"{F(a.CpuUsPerDelivery, "0.00")} vs {F(b.CpuUsPerDelivery, "0.00")} µs ({Ratio(a.CpuUsPerDelivery, b.CpuUsPerDelivery)})"));
        }
        targets.Add(("durable messages ≥ 2000/s across 20 groups (p99 ≤ 100 ms)", rt?.Limit is null ? null : rt.Limit.BestMany >= 2000,
            rt?.Limit is null ? "not run" : $"{rt.Limit.BestMany:0}/s; stopped: {rt.Limit.ManyStop}"));
        targets.Add(("durable messages ≥ 1000/s into one group (p99 ≤ 100 ms)", rt?.Limit is null ? null : rt.Limit.BestOne >= 1000,
            rt?.Limit is null ? "not run" : $"{rt.Limit.BestOne:0}/s; stopped: {rt.Limit.OneStop}"));
        targets.Add(("join storm ≤ 3 × stock-redis time", rt?.JoinStorm is null || sr?.JoinStorm is null ? null : rt.JoinStorm.Seconds <= 3 * sr.JoinStorm.Seconds,
            rt?.JoinStorm is null || sr?.JoinStorm is null ? "not run" : $"{rt.JoinStorm.Seconds:0.0} vs {sr.JoinStorm.Seconds:0.0} s ({Ratio(rt.JoinStorm.Seconds, sr.JoinStorm.Seconds)})"));
        targets.Add(("≤ 40 KB RSS per idle terminal", rt?.Memory is null ? null : rt.Memory.KbPerConnection <= 40,
            rt?.Memory is null ? "not run" : $"{rt.Memory.KbPerConnection:0.0} KiB"));
        w.WriteLine("| target | met? | measured |");
        w.WriteLine("|---|---|---|");
        foreach (var t in targets) w.WriteLine($"| {t.What} | {(t.Met is null ? "n/a" : t.Met.Value ? "met" : "**missed**")} | {t.Value} |");
        w.WriteLine($"\n**{targets.Count(t => t.Met == true)} of {targets.Count} targets met.**\n");

        // ---- details
        foreach (var (label, pick, what) in new (string, Func<SystemResult, DeliveryResult?>, string)[]
                 {
                     ("fanout", r => r.Fanout, "20 groups × 100 members, 200 messages/s from one extra sender connection (a member of all 20 groups, not counted as a receiver), round-robin over the groups"),
                     ("biggroup", r => r.BigGroup, "1 group × 2000 members, 20 messages/s from one extra sender connection (a member, not counted as a receiver)"),
                 })
        {
            var rows = results.Where(r => pick(r) is not null).ToList();
            if (rows.Count == 0) continue;
            w.WriteLine($"## {label}: {what}\n");
            w.WriteLine("5 s warm-up, 10 s measured (latency of the messages sent in those 10 s; deliveries/s and CPU = arrivals and CPU time in those 10 s).\n");
            w.WriteLine("| system | sent / offered | deliveries/s / offered | expected | received | missing | dup | out of order | p50 | p90 | p99 | p99.9 | max ms | drain s | send lag p99 / max ms | node CPU s | µs CPU / delivery | Redis CPU s | generator % core |");
            w.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in rows)
            {
                var d = pick(r)!;
                w.WriteLine($"| {r.System} | {d.Sent} / {d.Offered} | {d.AchievedPerSecond:0} / {d.OfferedPerSecond:0} | {d.Expected} | {d.Received} | {d.Missing} | {d.Duplicates} | {d.OutOfOrder} | " +
                            $"{F(d.P50)} | {F(d.P90)} | {F(d.P99)} | {F(d.P999)} | {F(d.Max)} | {d.DrainSeconds:0.0} | {F(d.SendLagP99)} / {F(d.SendLagMax)} | {d.NodeCpuSeconds:0.00} | " +
                            $"{F(d.CpuUsPerDelivery, "0.00")} | {(d.ExtraCpuSeconds.TryGetValue("redis", out var rc) ? rc.ToString("0.00", CultureInfo.InvariantCulture) : "-")} | {d.GeneratorCpuPct:0} |");
            }
            w.WriteLine();
            PlotLatency(rows.Select(r => (r.System, pick(r)!)).ToList(), $"{label}: delivery latency (measured 10 s)", $"{prefix}-{label}-latency.svg");
            PlotThroughput(rows.Select(r => (r.System, pick(r)!)).ToList(), $"{label}: deliveries per second (250 ms buckets)", $"{prefix}-{label}-throughput.svg");
            w.WriteLine($"![{label} latency]({name}-{label}-latency.svg)\n");
            w.WriteLine($"![{label} throughput]({name}-{label}-throughput.svg)\n");
        }

        var storms = results.Where(r => r.JoinStorm is not null).ToList();
        if (storms.Count > 0)
        {
            var c = storms[0].JoinStorm!;
            w.WriteLine($"## join storm: {c.Connections} terminals connect and join one group, {c.Concurrency} at a time\n");
            w.WriteLine("| system | total s | failed | connect p50 / p99 ms | join p50 / p99 ms | node CPU s | pushes caused | s until quiet after | generator % core |");
            w.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in storms)
            {
                var j = r.JoinStorm!;
                w.WriteLine($"| {r.System} | {j.Seconds:0.0} | {j.Failed} | {F(j.ConnectP50)} / {F(j.ConnectP99)} | {F(j.JoinP50)} / {F(j.JoinP99)} | {j.NodeCpuSeconds:0.0} | {j.Pushes} | {j.QuietSeconds:0.0} | {j.GeneratorCpuPct:0} |");
            }
            w.WriteLine();
            PlotStorm(storms, $"{prefix}-joinstorm.svg");
            w.WriteLine($"![join storm]({name}-joinstorm.svg)\n");
        }

        var mems = results.Where(r => r.Memory is not null).ToList();
        if (mems.Count > 0)
        {
            w.WriteLine("## memory: RSS per idle connected terminal\n");
            w.WriteLine("VmRSS of each node. Cold: before the 2000 terminals first connected (one sender terminal already connected) and after all were connected, " +
                        "joined to one group and idle — this includes the node's one-time warm-up (JIT, pools, heap growth). Warm: all terminals disconnected, " +
                        "the node idle 5 s, then the same terminals connected again (still members: Realtime attaches them by itself, the stock hub joins them again) " +
                        "and idle; the difference ÷ the node's terminals is the cost of an idle connected terminal.\n");
            w.WriteLine("| system | node | cold before MiB | cold after MiB | warm before MiB | warm after MiB | terminals | KiB per terminal (warm) |");
            w.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in mems)
                for (var i = 0; i < r.Memory!.Nodes.Count; i++)
                {
                    var n = r.Memory.Nodes[i];
                    w.WriteLine($"| {r.System} | {i + 1} | {n.ColdBeforeKb / 1024.0:0.0} | {n.ColdAfterKb / 1024.0:0.0} | {n.BeforeKb / 1024.0:0.0} | {n.AfterKb / 1024.0:0.0} | {n.Connections} | {n.KbPerConnection:0.0} |");
                }
            w.WriteLine();
        }

        var limits = results.Where(r => r.Limit is not null).ToList();
        if (limits.Count > 0)
        {
            var l0 = limits[0].Limit!;
            w.WriteLine($"## throughput limit: groups of {l0.MembersPerGroup} (the sender is one of them and counts as a receiver), {l0.StepSeconds:0} s per step\n");
            w.WriteLine("Rates stepped up until p99 > 100 ms (a missing delivery counts as infinitely late), deliveries in the step fall below 95 % of offered, " +
                        "or the generator cannot send at the rate. (a) 20 groups, one sender each (rate ÷ 20 per sender); (b) one group, one sender (fire-and-forget sends, pipelined).\n");
            w.WriteLine("| system | (a) 20 groups: msg/s | stopped because | (b) 1 group: msg/s | stopped because |");
            w.WriteLine("|---|---:|---|---:|---|");
            foreach (var r in limits) w.WriteLine($"| {r.System} | {r.Limit!.BestMany:0} | {r.Limit.ManyStop} | {r.Limit.BestOne:0} | {r.Limit.OneStop} |");
            w.WriteLine();
            w.WriteLine("| system | variant | msg/s | sent / offered | deliveries/s / offered | missing | p50 | p99 | max ms | µs CPU / delivery | generator % core |");
            w.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in limits)
                foreach (var (variant, steps) in new[] { ("20 groups", r.Limit!.Many), ("1 group", r.Limit.One) })
                    foreach (var d in steps)
                        w.WriteLine($"| {r.System} | {variant} | {d.Rate:0} | {d.Sent} / {d.Offered} | {d.AchievedPerSecond:0} / {d.OfferedPerSecond:0} | {d.Missing} | {F(d.P50)} | {F(d.P99)} | {F(d.Max)} | {F(d.CpuUsPerDelivery, "0.00")} | {d.GeneratorCpuPct:0} |");
            w.WriteLine();
            PlotLimit(limits, $"{prefix}-limit.svg");
            w.WriteLine($"![throughput limit]({name}-limit.svg)\n");
        }

        if (pgbench.Length > 0)
        {
            w.WriteLine("## pgbench on the same PostgreSQL (the ceiling of durable commits on this box)\n");
            w.WriteLine("`pgbench -i -s 10` into a scratch database, then the built-in tpcb-like script (5 statements + commit per transaction), 10 s each, after the three systems were stopped.\n");
            w.WriteLine("| clients | TPS | mean latency ms |");
            w.WriteLine("|---:|---:|---:|");
            foreach (var line in pgbench)
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length >= 3) w.WriteLine($"| {f[0]} | {(double.TryParse(f[1], CultureInfo.InvariantCulture, out var tps) ? tps.ToString("0", CultureInfo.InvariantCulture) : f[1])} | {f[2]} |");
            }
            w.WriteLine();
        }

        w.WriteLine("## Runs\n");
        w.WriteLine("| system | nodes | load average before | after | wall s | errors | notes |");
        w.WriteLine("|---|---:|---|---|---:|---|---|");
        foreach (var r in results)
            w.WriteLine($"| {r.System} | {r.Nodes} | {r.LoadBefore} | {r.LoadAfter} | {r.Seconds:0} | {(r.Errors.Count == 0 ? "none" : string.Join("; ", r.Errors))} | " +
                        $"{(r.Notes.Count == 0 ? "none" : string.Join("; ", r.Notes))} |");
        w.WriteLine();
    }

    // ------------------------------------------------------------------ plots

    private static OxyColor Color(string system) => Colors[Math.Max(0, Array.IndexOf(Order, system)) % Colors.Length];

    private static PlotModel Model(string title)
    {
        var m = new PlotModel { Title = title, TitleFontSize = 13, Background = OxyColors.White, Padding = new OxyThickness(8, 14, 16, 8), DefaultFont = "Arial" };
        m.Legends.Add(new Legend { LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.BottomCenter, LegendOrientation = LegendOrientation.Horizontal });
        return m;
    }

    /// <summary>Latency by percentile (HdrHistogram style): x = 1/(1 − q) on a log axis labelled as percentiles, y = ms (log).</summary>
    private static void PlotLatency(List<(string System, DeliveryResult D)> rows, string title, string path)
    {
        var m = Model(title);
        m.Axes.Add(new LogarithmicAxis
        {
            Position = AxisPosition.Bottom, Title = "percentile (deliveries that never arrived count as infinitely late)", Minimum = 1, Maximum = 10000,
            MajorGridlineStyle = LineStyle.Dot,
            LabelFormatter = x => x <= 1.0001 ? "0%" : $"{100 * (1 - 1 / x):0.##}%",
        });
        m.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = "latency ms", MajorGridlineStyle = LineStyle.Dot });
        foreach (var (system, d) in rows)
        {
            var h = Hist.FromSparse(d.Hist);
            var s = new LineSeries { Title = system, Color = Color(system), StrokeThickness = 1.6 };
            var total = Math.Max(1, d.MeasuredExpected);
            long seen = 0;
            for (var i = 0; i < Hist.Size; i++)
            {
                if (h.Counts[i] == 0) continue;
                var q0 = seen / (double)total;
                seen += h.Counts[i];
                var q1 = Math.Min(seen / (double)total, 0.9999);
                var ms = Math.Max(0.01, Hist.Mid(i) / 1000);
                s.Points.Add(new DataPoint(1 / (1 - Math.Min(q0, 0.9999)), ms));
                s.Points.Add(new DataPoint(1 / (1 - q1), ms));
            }
            m.Series.Add(s);
        }
        Save(m, path);
    }

    private static void PlotThroughput(List<(string System, DeliveryResult D)> rows, string title, string path)
    {
        var m = Model(title);
        m.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "seconds since sending started (warm-up 0–5 s, measured 5–15 s)", Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        m.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "deliveries/s", Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        foreach (var (system, d) in rows)
        {
            var s = new LineSeries { Title = system, Color = Color(system), StrokeThickness = 1.4 };
            for (var b = 0; b < d.Timeline.Length; b++) s.Points.Add(new DataPoint((b + 0.5) * Measure.Bucket, d.Timeline[b] / Measure.Bucket));
            m.Series.Add(s);
        }
        var offered = rows[0].D;
        var o = new LineSeries { Title = "offered", Color = OxyColors.Gray, LineStyle = LineStyle.Dash };
        o.Points.Add(new DataPoint(0, offered.OfferedPerSecond));
        o.Points.Add(new DataPoint(offered.WarmupSeconds + offered.MeasureSeconds, offered.OfferedPerSecond));
        m.Series.Add(o);
        Save(m, path);
    }

    private static void PlotStorm(List<SystemResult> rows, string path)
    {
        var m = Model("join storm: terminals connected and joined over time");
        m.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "seconds since the storm began", Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        m.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "terminals ready", Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        foreach (var r in rows)
        {
            var s = new LineSeries { Title = r.System, Color = Color(r.System), StrokeThickness = 1.6 };
            long sum = 0;
            s.Points.Add(new DataPoint(0, 0));
            for (var b = 0; b < r.JoinStorm!.Timeline.Length; b++)
            {
                sum += r.JoinStorm.Timeline[b];
                s.Points.Add(new DataPoint((b + 1) * Measure.Bucket, sum));
            }
            m.Series.Add(s);
        }
        Save(m, path);
    }

    private static void PlotLimit(List<SystemResult> rows, string path)
    {
        var m = Model("throughput limit: delivery p99 by offered rate (missing = off the top)");
        m.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Bottom, Title = "offered messages/s", MajorGridlineStyle = LineStyle.Dot });
        m.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = "p99 ms", MajorGridlineStyle = LineStyle.Dot, Maximum = 20000 });
        foreach (var r in rows)
        {
            foreach (var (variant, steps, style) in new[] { ("20 groups", r.Limit!.Many, LineStyle.Solid), ("1 group", r.Limit.One, LineStyle.Dash) })
            {
                var s = new LineSeries { Title = $"{r.System}, {variant}", Color = Color(r.System), LineStyle = style, MarkerType = MarkerType.Circle, MarkerSize = 3 };
                foreach (var d in steps) s.Points.Add(new DataPoint(d.Rate, double.IsFinite(d.P99) ? Math.Max(0.1, d.P99) : 20000));
                m.Series.Add(s);
            }
        }
        var limit = new LineSeries { Title = "100 ms", Color = OxyColors.Gray, LineStyle = LineStyle.Dot };
        limit.Points.Add(new DataPoint(rows.SelectMany(r => r.Limit!.Many.Concat(r.Limit.One)).Select(d => d.Rate).DefaultIfEmpty(100).Min(), 100));
        limit.Points.Add(new DataPoint(rows.SelectMany(r => r.Limit!.Many.Concat(r.Limit.One)).Select(d => d.Rate).DefaultIfEmpty(10000).Max(), 100));
        m.Series.Add(limit);
        Save(m, path);
    }

    private static void Save(PlotModel model, string path)
    {
        using var stream = File.Create(path);
        new SvgExporter { Width = 1000, Height = 440 }.Export(model, stream);
    }
}
