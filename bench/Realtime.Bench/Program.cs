using Realtime.Bench;

// Realtime.Bench <commands|fanout|sync|manygroups> [--urls u1,u2] [--users N] [--members M] [--messages K] [--duration S]
//   [--groups G] [--events E] [--rounds R]
//   [--app demo] [--secret ...]. Prints a Markdown section on stdout, progress on stderr.
// Exit code: 0 = ok, 1 = lost / out-of-order events or failed commands, 2 = bad arguments.
try
{
    var options = Options.Parse(args);
    var bench = new Bench(options);
    var ok = options.Scenario switch
    {
        "commands" => await CommandsScenario.RunAsync(bench),
        "fanout" => await FanoutScenario.RunAsync(bench),
        "sync" => await SyncScenario.RunAsync(bench),
        "manygroups" => await ManyGroupsScenario.RunAsync(bench),
        _ => throw new ArgumentException($"unknown scenario '{options.Scenario}'"),
    };
    return ok ? 0 : 1;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"error: the scenario failed: {ex}");
    return 1;
}
