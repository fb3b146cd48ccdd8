using System.Globalization;
using Realtime.BenchTools;

namespace Realtime.Bench.Sbs;

/// <summary>Options of the run verb (one system).</summary>
public sealed class Options
{
    public static readonly string[] AllScenarios = ["joinstorm", "memory", "biggroup", "fanout", "limit"];

    public string System { get; private init; } = "";
    public string[] Urls { get; private init; } = [];
    public int[] NodePids { get; private init; } = [];
    public int[] ExtraPids { get; private init; } = [];
    public string[] ExtraNames { get; private init; } = [];
    public HashSet<string> Scenarios { get; private init; } = [];
    public int Connections { get; private init; } = 2000;
    public int Concurrency { get; private init; } = 64;
    public string Out { get; private init; } = "";
    public string App { get; private init; } = "demo";
    public string Secret { get; private init; } = "realtime-demo-development-secret-0001";
    public int[] LimitRates { get; private init; } = [250, 500, 1000, 2000, 3000, 4000, 6000, 8000];
    public double LimitStepSeconds { get; private init; } = 4;

    public const string Usage =
        "usage: Realtime.Bench.Sbs run --system realtime|stock-memory|stock-redis --urls http://127.0.0.1:P1[,…] --node-pids PID[,…]\n" +
        "         [--extra-pids PID,… --extra-names redis,…] [--scenarios joinstorm,memory,biggroup,fanout,limit] [--connections 2000]\n" +
        "         [--concurrency 64] [--limit-rates 250,500,…] [--limit-step 4] [--clk-tck 100] --out result.json\n" +
        "       Realtime.Bench.Sbs report --dir DIR --prefix bench/results/STAMP [--pgbench FILE]   (Markdown on stdout, SVGs beside the prefix)";

    public static Options Parse(IReadOnlyList<string> args)
    {
        var v = CommandLine.Pairs(args, 1);
        string Get(string k, string d = "") => v.TryGetValue(k, out var s) ? s : d;
        int[] Ints(string k) => [.. Get(k).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        var o = new Options
        {
            System = Get("system"),
            Urls = [.. Get("urls").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(u => u.TrimEnd('/'))],
            NodePids = Ints("node-pids"),
            ExtraPids = Ints("extra-pids"),
            ExtraNames = Get("extra-names").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Scenarios = [.. Get("scenarios", string.Join(',', AllScenarios)).Split(',', StringSplitOptions.RemoveEmptyEntries)],
            Connections = int.Parse(Get("connections", "2000"), CultureInfo.InvariantCulture),
            Concurrency = int.Parse(Get("concurrency", "64"), CultureInfo.InvariantCulture),
            Out = Get("out"),
            App = Get("app", "demo"),
            Secret = Get("secret", "realtime-demo-development-secret-0001"),
            LimitRates = v.ContainsKey("limit-rates") ? Ints("limit-rates") : [250, 500, 1000, 2000, 3000, 4000, 6000, 8000],
            LimitStepSeconds = double.Parse(Get("limit-step", "4"), CultureInfo.InvariantCulture),
        };
        Proc.ClockTicks = double.Parse(Get("clk-tck", "100"), CultureInfo.InvariantCulture);
        if (o.System is not ("realtime" or "stock-memory" or "stock-redis")) throw new ArgumentException("--system must be realtime, stock-memory or stock-redis");
        if (o.Urls.Length == 0 || o.Urls.Any(u => !u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))) throw new ArgumentException("--urls: http://127.0.0.1:PORT, comma-separated");
        if (o.NodePids.Length != o.Urls.Length) throw new ArgumentException("--node-pids: one pid per url");
        if (o.ExtraNames.Length != o.ExtraPids.Length) throw new ArgumentException("--extra-names: one name per --extra-pids pid");
        if (o.Scenarios.Count == 0 || o.Scenarios.Any(s => !AllScenarios.Contains(s))) throw new ArgumentException($"--scenarios: some of {string.Join(',', AllScenarios)}");
        if (o.Connections is < 220 or > 20000 || o.Connections % 20 != 0) throw new ArgumentException("--connections: 220-20000, a multiple of 20");
        if (o.Concurrency is < 1 or > 1000) throw new ArgumentException("--concurrency: 1-1000");
        if (o.Out.Length == 0) throw new ArgumentException("--out is required");
        return o;
    }
}
