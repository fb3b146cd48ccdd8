using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Bench.Sbs;
using Realtime.BenchTools;

// Realtime.Bench.Sbs run …    one system's scenarios → JSON (progress on stderr)
// Realtime.Bench.Sbs report … the systems side by side → Markdown on stdout, SVG plots beside --prefix
// Exit code: 0 ok; 1 a scenario could not run (a missed target is not a failure); 2 bad arguments.
return await CommandLine.RunAsync(async () =>
{
    if (args.Length > 0 && args[0] == "report") return Report.Run(args) == 0;
    if (args.Length == 0 || args[0] != "run") throw new ArgumentException("run or report?");
    var o = Options.Parse(args);
    ThreadPool.SetMinThreads(Math.Max(16, Environment.ProcessorCount * 4), 16);
    ISystem sys = o.System == "realtime" ? new RealtimeSystem(o) : new StockSystem(o);
    var result = await new Runner(o, sys).RunAsync();
    await File.WriteAllTextAsync(o.Out, JsonSerializer.Serialize(result, Json.Options));
    foreach (var e in result.Errors) Console.Error.WriteLine($"error: {e}");
    return result.Errors.Count == 0;
}, Options.Usage, "run");

namespace Realtime.Bench.Sbs
{
    public static class Json
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
        {
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            WriteIndented = false,
        };
    }
}
