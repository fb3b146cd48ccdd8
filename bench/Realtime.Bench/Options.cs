using Realtime.BenchTools;

namespace Realtime.Bench;

/// <summary>Command-line options. Every size is capped so a typo cannot run away.</summary>
public sealed record Options(
    string Scenario, Uri[] Urls, int Users, int Members, int Messages, int Duration, int Groups, int Events, int Rounds, string App, string Secret, string Protocol = "json")
{
    public const string Usage =
        "usage: Realtime.Bench <commands|fanout|sync|manygroups|syncload|search|history|probe|groupstate> [--urls http://127.0.0.1:5080,http://127.0.0.1:5081] " +
        "[--users N] [--members M] [--messages K] [--duration S] [--groups G] [--events E] [--rounds R] [--app demo] [--secret S] [--protocol json|messagepack]";

    // The secret of the Development-only `demo` app (README); useless against a production node.
    private const string DemoSecret = "realtime-demo-development-secret-0001";

    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) throw new ArgumentException("missing scenario");
        var scenario = args[0];
        var values = CommandLine.Pairs(args, skip: 1);
        string Get(string name, string fallback) => values.Remove(name, out var v) ? v : fallback;
        int Int(string name, int fallback, int max)
        {
            var text = Get(name, fallback.ToString());
            if (!int.TryParse(text, out var n) || n < 1 || n > max) throw new ArgumentException($"--{name} must be 1-{max}, not '{text}'");
            return n;
        }

        var urls = Get("urls", "http://127.0.0.1:5080,http://127.0.0.1:5081")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == "http" && uri.Host == "127.0.0.1"
                ? new Uri(uri, "/hubs/groups")
                : throw new ArgumentException($"--urls: '{u}' is not an http://127.0.0.1:PORT address (the bench talks to loopback only)"))
            .ToArray();
        if (urls.Length == 0) throw new ArgumentException("--urls is empty");

        var options = new Options(
            scenario, urls,
            Users: Int("users", scenario == "groupstate" ? 100 : 20, 1000),
            // groupstate fills the largest Public group (6000); fanout connects every member (5000 at most).
            Members: Int("members", scenario == "groupstate" ? 6000 : 1000, scenario == "groupstate" ? 6000 : 5000),
            Messages: Int("messages", scenario == "sync" ? 5000 : scenario == "groupstate" ? 100 : 200, 100_000),
            Duration: Int("duration", scenario == "groupstate" ? 10 : 20, 600),
            // A user may be in at most Realtime:JoinedGroupLimit (1000) counted groups.
            Groups: Int("groups", 1000, 1000),
            Events: Int("events", 2, 1000),
            Rounds: Int("rounds", 20, 1000),
            App: Get("app", "demo"),
            Secret: Get("secret", DemoSecret),
            Protocol: Get("protocol", "json"));
        if (options.Protocol is not ("json" or "messagepack")) throw new ArgumentException($"--protocol must be json or messagepack, not '{options.Protocol}'");
        if (values.Count > 0) throw new ArgumentException($"unknown option --{values.Keys.First()}");
        if ((long)options.Groups * options.Events > 100_000) throw new ArgumentException("--groups × --events must be at most 100000");
        return options;
    }
}
