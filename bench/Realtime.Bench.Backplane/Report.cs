using System.Globalization;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace Realtime.Bench.Backplane;

/// <summary>The Markdown tables (stdout) and the SVG plots.</summary>
public static class Report
{
    public static void Write(TextWriter o, BenchOptions options, List<ConfigResult> results, List<RoutingResult> routing, long warnings)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(ci, $"- layout: {options.Nodes} in-process nodes (one process), {options.Connections} connections ({options.Connections / options.Nodes} per node, one user each), " +
                                      $"{options.Groups} groups of {options.Members} members; even groups on one node, odd groups on two ({(options.Members + 1) / 2}+{options.Members / 2}); " +
                                      $"each publish is `SendGroupAsync` from a random node to a random group (JSON protocol, one timestamp argument)"));
        o.WriteLine(string.Create(ci, $"- phases per configuration: warm-up 2 s; **fixed**: open loop at {options.Rate} publishes/s for {options.FixedSeconds} s (the dispatcher wakes every ~1 ms and sends what is due; how late it was against the schedule is the \"schedule lag\" column); " +
                                      $"**max**: {options.InFlight} publishers in a closed loop for {options.MaxSeconds} s, pausing while more than {options.Backlog} deliveries are outstanding"));
        o.WriteLine("- a delivery = one message written into one connection's pipe and parsed by its reader; latency = `SendGroupAsync` called → parsed by the receiving connection, one process, one clock");
        o.WriteLine(string.Create(ci, $"- warnings logged by the nodes over the whole run: {warnings}"));
        o.WriteLine();

        o.WriteLine("## Throughput and latency");
        o.WriteLine();
        o.WriteLine(string.Create(ci, $"`#r` is the round: the {options.Configs.Length} configurations ran {options.Rounds} time(s), interleaved, each with fresh nodes and groups."));
        o.WriteLine();
        o.WriteLine("| configuration | phase | publishes/s | deliveries/s | delivered / expected | p50 ms | p99 ms | max ms | schedule lag p50 / p99 ms | bench process CPU (cores) | Redis CPU, all processes (% of a core) | load before → after |");
        o.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            foreach (var p in new[] { r.Fixed, r.Max })
            {
                var redis = Enumerable.Range(0, p.RedisBefore.Length).Sum(p.RedisCpuPercent);
                var skipped = p.Skipped > 0 ? $" ({p.Skipped} skipped)" : "";
                var failed = p.Failed > 0 ? $" ({p.Failed} failed)" : "";
                o.WriteLine(string.Create(ci, $"| {r.Label} | {p.Name} | {p.PublishesPerSecond:F0}{failed}{skipped} | {p.DeliveriesPerSecond:F0} | {p.DeliveredAfterDrain}/{p.Expected} | {BenchRun.Ms(p.P50Ms)} | {BenchRun.Ms(p.P99Ms)} | {BenchRun.Ms(p.MaxMs)} | {(p == r.Fixed ? $"{BenchRun.Ms(p.LagP50Ms)} / {BenchRun.Ms(p.LagP99Ms)}" : "–")} | {p.BenchCpuCores:F2} | {redis:F0} | {p.LoadBefore} → {p.LoadAfter} |"));
            }
        }

        o.WriteLine();
        o.WriteLine("## Redis CPU per process");
        o.WriteLine();
        o.WriteLine("INFO cpu (used_cpu_sys + used_cpu_user) over each window, in % of one core. On the cluster, \"bus publish sent\" is the");
        o.WriteLine("delta of CLUSTER INFO `cluster_stats_messages_publish_sent` (classic PUBLISH forwarded to every other node) and");
        o.WriteLine("`..._publishshard_sent` (SPUBLISH forwarded to the shard's replica) in the max window.");
        o.WriteLine();
        o.WriteLine("| configuration | process | role | fixed: CPU % | max: CPU % | max: CPU per 1000 publishes (ms) | max: bus publish / publishshard sent |");
        o.WriteLine("|---|---|---|---:|---:|---:|---|");
        foreach (var r in results)
        {
            for (var i = 0; i < r.Max.RedisBefore.Length; i++)
            {
                var s = r.Max.RedisAfter[i];
                var b = r.Max.RedisBefore[i];
                var role = s.Role == "replica" ? $"replica of :{s.MasterPort}" : s.Role;
                var perThousand = r.Max.Completed > 0 ? (s.CpuSeconds - b.CpuSeconds) * 1000 / (r.Max.Completed / 1000.0) : 0;
                var bus = r.Name.EndsWith("cluster", StringComparison.Ordinal) ? $"{s.BusPublishSent - b.BusPublishSent} / {s.BusShardPublishSent - b.BusShardPublishSent}" : "–";
                o.WriteLine(string.Create(ci, $"| {r.Label} | {s.EndPoint} | {role} | {r.Fixed.RedisCpuPercent(i):F1} | {r.Max.RedisCpuPercent(i):F1} | {perThousand:F1} | {bus} |"));
            }
        }

        o.WriteLine();
        o.WriteLine("## Memory per subscribed group");
        o.WriteLine();
        o.WriteLine("INFO memory `used_memory` of each Redis process after the connections are up and again after every group is attached");
        o.WriteLine("(each once used_memory settled: sampled every second until the total moved by less than 16 KiB, at most 12 s), the delta divided by the number of groups; \"noise\" is what the baseline still moved in its last second with nothing happening; \"subscriptions\" are the node-level");
        o.WriteLine("group subscriptions (a group with members on two nodes counts two). Managed: GC.GetTotalMemory(true) of the");
        o.WriteLine("whole process (all nodes) over the same attach, per group.");
        o.WriteLine();
        o.WriteLine("| configuration | process | role | channels before → after (classic / sharded) | noise | used_memory delta | bytes per group | bytes per subscription |");
        o.WriteLine("|---|---|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            if (r.Memory is not { } m)
            {
                continue;
            }

            long total = 0;
            var noise = Enumerable.Range(0, m.Before.Length).Sum(i => m.Before[i].UsedMemory - m.Drift[i].UsedMemory);
            for (var i = 0; i < m.Before.Length; i++)
            {
                var (b, a) = (m.Before[i], m.After[i]);
                var delta = a.UsedMemory - b.UsedMemory;
                total += delta;
                o.WriteLine(string.Create(ci, $"| {r.Name} | {a.EndPoint} | {a.Role} | {b.PubSubChannels} / {b.ShardChannels} → {a.PubSubChannels} / {a.ShardChannels} | {b.UsedMemory - m.Drift[i].UsedMemory} | {delta} | {(double)delta / options.Groups:F0} | {(double)delta / m.NodeSubscriptions:F0} |"));
            }

            o.WriteLine(string.Create(ci, $"| {r.Name} | **all** | | {m.NodeSubscriptions} subscriptions | {noise} | {total} | **{(double)total / options.Groups:F0}** | {(double)total / m.NodeSubscriptions:F0} |"));
            o.WriteLine(string.Create(ci, $"| {r.Name} | managed (nodes) | | attach took {m.AttachSeconds:F1} s (connect {m.ConnectSeconds:F1} s) | | {m.ManagedAfter - m.ManagedBefore} | {(double)(m.ManagedAfter - m.ManagedBefore) / options.Groups:F0} | {(double)(m.ManagedAfter - m.ManagedBefore) / m.NodeSubscriptions:F0} |"));
        }

        if (routing.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("## Routing: who receives what (standalone Redis, counted on the wire)");
            o.WriteLine();
            o.WriteLine("4 nodes, each through its own counting TCP proxy to the standalone Redis (pub/sub message frames Redis pushed to");
            o.WriteLine("the node); 100 connections per node; 200 groups of 2 members, group g on node (g mod 4) + 1.");
            o.WriteLine("**messages**: node 1 sends 5 messages to every group (1000 publishes; each node holds 50 groups).");
            o.WriteLine("**commands**: node 1 adds 150 connections of nodes 2-4 (50 each) to a group of their own, one at a time, then removes them (300 commands).");
            o.WriteLine();
            o.WriteLine("| backplane | step | node 1 | node 2 | node 3 | node 4 | per command p50 / max ms (add; remove) |");
            o.WriteLine("|---|---|---:|---:|---:|---:|---|");
            foreach (var r in routing)
            {
                o.WriteLine($"| {r.Backplane} | messages | {string.Join(" | ", r.MessagesStep)} | |");
                o.WriteLine(string.Create(ci, $"| {r.Backplane} | commands | {string.Join(" | ", r.CommandsStep)} | {Pct(r.AddMs, 50):F2} / {r.AddMs.Max():F1}; {Pct(r.RemoveMs, 50):F2} / {r.RemoveMs.Max():F1} |"));
            }
        }

        var gone = routing.Select(r => (Name: $"{r.Backplane} (standalone)", r.Gone))
            .Concat(results.Where(r => r.Gone.Count > 0).Select(r => (r.Name, r.Gone)))
            .ToList();
        if (gone.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("## Group change for a connection that lives on no node");
            o.WriteLine();
            o.WriteLine(string.Create(ci, $"From node 1, for 3 random connection ids at once: `AddToGroupAsync(id, \"g0\")` and `RemoveFromGroupAsync(id, \"g0\")`, each waited for at most {options.GoneWaitSeconds} s."));
            o.WriteLine();
            o.WriteLine("| backplane | operation | seconds (each) | outcome |");
            o.WriteLine("|---|---|---|---|");
            foreach (var (name, list) in gone)
            {
                foreach (var op in list.GroupBy(g => g.Operation))
                {
                    o.WriteLine(string.Create(ci, $"| {name} | {op.Key} | {string.Join(", ", op.Select(g => g.Seconds.ToString(g.Seconds < 1 ? "F4" : "F1", ci)))} | {string.Join("; ", op.Select(g => g.Outcome).Distinct())} |"));
                }
            }
        }
    }

    private static double Pct(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * p / 100) - 1, 0, sorted.Length - 1)];
    }

    public static void Plots(string prefix, List<ConfigResult> results)
    {
        var throughput = Bars("Group sends through the backplane (max phase)", "per second", results.Select(r => r.Label).ToList(),
            [("publishes/s", OxyColors.SteelBlue, results.Select(r => r.Max.PublishesPerSecond).ToList()),
             ("deliveries/s", OxyColors.DarkOrange, results.Select(r => r.Max.DeliveriesPerSecond).ToList())]);
        Save(throughput, prefix + "-throughput.svg", 300);

        var latency = Bars("Publish → delivery latency (fixed-rate phase)", "ms", results.Select(r => r.Label).ToList(),
            [("p50", OxyColors.SteelBlue, results.Select(r => r.Fixed.P50Ms).ToList()),
             ("p99", OxyColors.Firebrick, results.Select(r => r.Fixed.P99Ms).ToList())]);
        Save(latency, prefix + "-latency.svg", 300);

        var labels = new List<string>();
        var fixedCpu = new List<double>();
        var maxCpu = new List<double>();
        foreach (var r in results)
        {
            for (var i = 0; i < r.Max.RedisBefore.Length; i++)
            {
                var s = r.Max.RedisAfter[i];
                labels.Add($"{r.Label} {s.EndPoint.Split(':').Last()} {(s.Role == "replica" ? "replica" : s.Role)}");
                fixedCpu.Add(r.Fixed.RedisCpuPercent(i));
                maxCpu.Add(r.Max.RedisCpuPercent(i));
            }
        }

        var cpu = Bars("Redis CPU per process", "% of one core", labels,
            [("fixed-rate phase", OxyColors.SteelBlue, fixedCpu), ("max phase", OxyColors.DarkOrange, maxCpu)]);
        Save(cpu, prefix + "-redis-cpu.svg", 120 + 34 * labels.Count);
    }

    private static PlotModel Bars(string title, string valueTitle, List<string> categories, List<(string Title, OxyColor Color, List<double> Values)> series)
    {
        var m = new PlotModel { Title = title, TitleFontSize = 13, Background = OxyColors.White, Padding = new OxyThickness(8, 14, 16, 8), DefaultFont = "Arial" };
        var axis = new CategoryAxis { Position = AxisPosition.Left, Key = "c", StartPosition = 1, EndPosition = 0 };
        axis.Labels.AddRange(categories);
        m.Axes.Add(axis);
        m.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = valueTitle, Minimum = 0, MaximumPadding = 0.12, MajorGridlineStyle = LineStyle.Dot });
        m.Legends.Add(new Legend { LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.BottomCenter, LegendOrientation = LegendOrientation.Horizontal });
        foreach (var (name, color, values) in series)
        {
            var s = new BarSeries { Title = name, FillColor = color, YAxisKey = "c", LabelPlacement = LabelPlacement.Outside, LabelFormatString = values.Max() >= 100 ? "{0:0}" : "{0:0.#}", FontSize = 10 };
            foreach (var v in values) s.Items.Add(new BarItem(double.IsNaN(v) ? 0 : v));
            m.Series.Add(s);
        }

        return m;
    }

    private static void Save(PlotModel model, string path, int height)
    {
        using var stream = File.Create(path);
        new SvgExporter { Width = 1000, Height = Math.Max(260, height) }.Export(model, stream);
    }
}
