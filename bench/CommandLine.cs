namespace Realtime.BenchTools;

/// <summary>The load generators' command lines (Realtime.Bench, Realtime.Soak and Realtime.Bench.Sbs link this file).</summary>
internal static class CommandLine
{
    /// <summary>
    /// Runs a generator's main and maps its outcome to the exit code: 0 ok, 1 a failed check or an error
    /// (<paramref name="what"/> names the run in the message), 2 bad arguments (with the usage).
    /// </summary>
    public static async Task<int> RunAsync(Func<Task<bool>> run, string usage, string what)
    {
        try
        {
            return await run() ? 0 : 1;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Console.Error.WriteLine(usage);
            return 2;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"error: the {what} failed: {ex}");
            return 1;
        }
    }

    /// <summary>`--name value` / `--name=value` pairs.</summary>
    public static Dictionary<string, string> Pairs(IReadOnlyList<string> args, int skip = 0)
    {
        var values = new Dictionary<string, string>();
        for (var i = skip; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            var eq = arg.IndexOf('=');
            if (eq > 0) values[arg[2..eq]] = arg[(eq + 1)..];
            else if (i + 1 < args.Count) values[arg[2..]] = args[++i];
            else throw new ArgumentException($"{arg} needs a value");
        }
        return values;
    }
}
