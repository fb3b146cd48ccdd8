using Realtime.BenchTools;

namespace Realtime.Soak;

/// <summary>Command-line options; every size is capped so a typo cannot run away.</summary>
public sealed record SoakOptions(
    Uri[] Urls, int Minutes, int Users, int Groups, int Rate, (string Name, string Path)[] Pidfiles,
    string? FaultsFile, string? StartedFile, string? PlotPrefix, string? CsvFile, int FrozenNode, string App, string Secret)
{
    public const string Usage =
        "usage: Realtime.Soak --minutes M [--urls http://127.0.0.1:5190,http://127.0.0.1:5191] [--users 40] [--groups 5] " +
        "[--rate 150] [--pidfiles node-1=PATH,node-2=PATH] [--faults FILE] [--started FILE] [--plots PREFIX] [--csv FILE] " +
        "[--frozen-node 0] [--app demo] [--secret S]";

    // The secret of the Development-only `demo` app (README); useless against a production node.
    private const string DemoSecret = "realtime-demo-development-secret-0001";

    public TimeSpan Duration => TimeSpan.FromMinutes(Minutes);

    /// <summary>Samples before this are warm-up: the "start" RSS is taken here.</summary>
    public TimeSpan Warmup => TimeSpan.FromSeconds(Math.Min(60, Minutes * 6));

    public static SoakOptions Parse(string[] args)
    {
        var values = CommandLine.Pairs(args);
        string? Get(string name) => values.Remove(name, out var v) ? v : null;
        int Int(string name, int fallback, int min, int max)
        {
            var text = Get(name) ?? fallback.ToString();
            if (!int.TryParse(text, out var n) || n < min || n > max) throw new ArgumentException($"--{name} must be {min}-{max}, not '{text}'");
            return n;
        }

        var urls = (Get("urls") ?? "http://127.0.0.1:5190,http://127.0.0.1:5191")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == "http" && uri.Host == "127.0.0.1"
                ? new Uri(uri, "/hubs/groups")
                : throw new ArgumentException($"--urls: '{u}' is not an http://127.0.0.1:PORT address (the soak talks to loopback only)"))
            .ToArray();
        if (urls.Length == 0) throw new ArgumentException("--urls is empty");

        var pidfiles = (Get("pidfiles") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.IndexOf('=') is var eq and > 0 ? (p[..eq], p[(eq + 1)..]) : throw new ArgumentException($"--pidfiles: '{p}' is not name=path"))
            .ToArray();

        var options = new SoakOptions(
            urls,
            Minutes: Int("minutes", 15, 1, 60),
            Users: Int("users", 40, 12, 200),
            Groups: Int("groups", 5, 2, 20),
            Rate: Int("rate", 150, 1, 1000),
            pidfiles,
            FaultsFile: Get("faults"),
            StartedFile: Get("started"),
            PlotPrefix: Get("plots"),
            CsvFile: Get("csv"),
            FrozenNode: Int("frozen-node", 0, 0, 9),
            App: Get("app") ?? "demo",
            Secret: Get("secret") ?? DemoSecret);
        if (values.Count > 0) throw new ArgumentException($"unknown option --{values.Keys.First()}");
        if (options.FrozenNode >= urls.Length) throw new ArgumentException("--frozen-node must name one of --urls (0-based)");
        if (options.Users < options.Groups * 6) throw new ArgumentException("--users must be at least 6 per group");
        return options;
    }
}
