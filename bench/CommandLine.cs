namespace Realtime.BenchTools;

/// <summary>The load generators' `--name value` / `--name=value` options (Realtime.Bench and Realtime.Soak link this file).</summary>
internal static class CommandLine
{
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
