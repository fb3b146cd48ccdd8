using Realtime.Bench;
using Realtime.BenchTools;

// Realtime.Bench <commands|fanout|sync|manygroups> [--urls u1,u2] [--users N] [--members M] [--messages K] [--duration S]
//   [--groups G] [--events E] [--rounds R]
//   [--app demo] [--secret ...]. Prints a Markdown section on stdout, progress on stderr.
// Exit code: 0 = ok, 1 = lost / out-of-order events or failed commands, 2 = bad arguments.
return await CommandLine.RunAsync(async () =>
{
    var options = Options.Parse(args);
    var bench = new Bench(options);
    return options.Scenario switch
    {
        "commands" => await CommandsScenario.RunAsync(bench),
        "fanout" => await FanoutScenario.RunAsync(bench),
        "sync" => await SyncScenario.RunAsync(bench),
        "manygroups" => await ManyGroupsScenario.RunAsync(bench),
        "syncload" => await SyncLoadScenario.RunAsync(bench),
        "groupstate" => await GroupStateScenario.RunAsync(bench),
        "search" => await SearchScenario.RunAsync(bench),
        "history" => await HistoryScenario.RunAsync(bench),
        "probe" => await ProbeScenario.RunAsync(bench),
        _ => throw new ArgumentException($"unknown scenario '{options.Scenario}'"),
    };
}, Options.Usage, "scenario");
