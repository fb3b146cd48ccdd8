using Realtime.Bench.Backplane;
using Realtime.BenchTools;

// Realtime.Bench.Backplane --standalone HOST:PORT --cluster HOST:PORT,... [options] (see BenchOptions.Usage)
// Markdown on stdout, progress on stderr, SVG plots at PREFIX-*.svg.
// Exit code: 0 = every configuration ran; 1 = an error; 2 = bad arguments.
return await CommandLine.RunAsync(() => BenchRun.RunAsync(BenchOptions.Parse(args)), BenchOptions.Usage, "backplane benchmark");
