using Realtime.Soak;

// Realtime.Soak --minutes M [--urls u1,u2] [--users N] [--groups G] [--rate R] [--pidfiles name=path,...]
//   [--faults FILE] [--started FILE] [--plots PREFIX] [--csv FILE] [--frozen-node I] [--app demo] [--secret ...]
// Markdown report on stdout, progress on stderr, SVG plots at PREFIX-*.svg.
// Exit code: 0 = nothing lost, duplicated or leaked; 1 = a check failed or an error; 2 = bad arguments.
try
{
    var options = SoakOptions.Parse(args);
    return await SoakRun.RunAsync(options) ? 0 : 1;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(SoakOptions.Usage);
    return 2;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"error: the soak failed: {ex}");
    return 1;
}
