using Realtime.Soak;
using Realtime.BenchTools;

// Realtime.Soak --minutes M [--urls u1,u2] [--users N] [--groups G] [--rate R] [--pidfiles name=path,...]
//   [--faults FILE] [--started FILE] [--plots PREFIX] [--csv FILE] [--frozen-node I] [--app demo] [--secret ...]
// Markdown report on stdout, progress on stderr, SVG plots at PREFIX-*.svg.
// Exit code: 0 = nothing lost, duplicated or leaked; 1 = a check failed or an error; 2 = bad arguments.
return await CommandLine.RunAsync(() => SoakRun.RunAsync(SoakOptions.Parse(args)), SoakOptions.Usage, "soak");
