using System.Globalization;
using Realtime.BenchTools;

namespace Realtime.Bench.Backplane;

public sealed record BenchOptions(
    string Standalone,
    string[] Cluster,
    string[] Configs,
    int Nodes,
    int Connections,
    int Groups,
    int Members,
    int Rate,
    int FixedSeconds,
    int MaxSeconds,
    int InFlight,
    int Backlog,
    bool Routing,
    int GoneWaitSeconds,
    int Rounds,
    string? Plots)
{
    public static readonly string[] AllConfigs = ["ours-standalone", "ours-cluster", "official-standalone", "official-cluster"];

    public const string Usage = """
        usage: Realtime.Bench.Backplane --standalone HOST:PORT --cluster HOST:PORT,... [options]
          --configs LIST        of ours-standalone,ours-cluster,official-standalone,official-cluster (default: all)
          --nodes N             in-process nodes (default 4, 2-8)
          --connections M       connections over all nodes (default 2000)
          --groups G            groups (default 2000); group g lives on node g mod N, odd groups also on the next node
          --members K           members per group (default 4, 1-50)
          --rate R              open-loop publishes/s of the fixed-rate phase (default 2000)
          --fixed-seconds S     fixed-rate phase (default 10)
          --max-seconds S       as-fast-as-possible phase (default 15)
          --inflight W          publishes in flight in the max phase (default 256)
          --backlog D           deliveries outstanding before the max phase's publishers wait (default 20000)
          --routing true|false  the routing check and the gone-connection check on the standalone Redis (default true)
          --gone-wait S         bound of the wait for a group change of a gone connection (default 45)
          --rounds R            run the configurations R times, interleaved (default 1); memory is sampled in round 1
          --plots PREFIX        write PREFIX-throughput.svg, PREFIX-latency.svg, PREFIX-redis-cpu.svg
        """;

    public static BenchOptions Parse(string[] args)
    {
        var pairs = CommandLine.Pairs(args);
        string Get(string key, string fallback) => pairs.Remove(key, out var v) ? v : fallback;
        int Int(string key, int fallback, int min, int max)
        {
            var text = Get(key, fallback.ToString(CultureInfo.InvariantCulture));
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                throw new ArgumentException($"--{key} must be {min}-{max}, not '{text}'");
            return v;
        }

        var options = new BenchOptions(
            Get("standalone", ""),
            Get("cluster", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Get("configs", string.Join(",", AllConfigs)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Int("nodes", 4, 2, 8),
            Int("connections", 2000, 8, 50000),
            Int("groups", 2000, 4, 100000),
            Int("members", 4, 1, 50),
            Int("rate", 2000, 1, 200000),
            Int("fixed-seconds", 10, 1, 300),
            Int("max-seconds", 15, 1, 300),
            Int("inflight", 256, 1, 10000),
            Int("backlog", 20000, 100, 10_000_000),
            Get("routing", "true") == "true",
            Int("gone-wait", 45, 1, 120),
            Int("rounds", 1, 1, 10),
            pairs.Remove("plots", out var plots) ? plots : null);
        if (pairs.Count > 0) throw new ArgumentException($"unknown option --{pairs.Keys.First()}");
        foreach (var config in options.Configs)
        {
            if (!AllConfigs.Contains(config)) throw new ArgumentException($"unknown configuration '{config}'");
            if (config.EndsWith("-standalone", StringComparison.Ordinal) && options.Standalone.Length == 0) throw new ArgumentException($"{config} needs --standalone");
            if (config.EndsWith("-cluster", StringComparison.Ordinal) && options.Cluster.Length == 0) throw new ArgumentException($"{config} needs --cluster");
        }

        if (options.Routing && options.Standalone.Length == 0) throw new ArgumentException("--routing needs --standalone");
        if (options.Connections / options.Nodes < options.Members) throw new ArgumentException("fewer connections per node than members per group");
        return options;
    }
}
