using System.Globalization;

namespace Realtime.Soak;

/// <summary>One sample: s since the load started, each watched process's RSS in MB (NaN when down) and pid, the 1-min load average.</summary>
public sealed record Sample(double T, double[] RssMb, int[] Pids, double Load1);

/// <summary>
/// Every few seconds: VmRSS of each process named by a pidfile (read again each time, so a restarted node is
/// followed), of this load generator, and the machine's load average.
/// </summary>
public sealed class Sampler((string Name, string Path)[] pidfiles, string? csvFile)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    public const string Generator = "load generator";

    public readonly List<Sample> Samples = [];
    public string[] Names { get; } = [.. pidfiles.Select(p => p.Name), Generator];

    public async Task RunAsync(CancellationToken stop)
    {
        using var csv = csvFile is null ? null : new StreamWriter(csvFile);
        csv?.WriteLine("t," + string.Join(",", Names.Select(n => $"{n} rss MB,{n} pid")) + ",load1");
        using var timer = new PeriodicTimer(Interval);
        do
        {
            var pids = pidfiles.Select(p => ReadPid(p.Path)).Append(Environment.ProcessId).ToArray();
            var rss = pids.Select(RssMb).ToArray();
            var load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
            var sample = new Sample(Clock.Seconds, rss, pids, load);
            lock (Samples) Samples.Add(sample);
            csv?.WriteLine(FormattableString.Invariant($"{sample.T:0.0},{string.Join(",", rss.Zip(pids, (r, p) => FormattableString.Invariant($"{r:0.0},{p}")))},{load:0.00}"));
        }
        while (await timer.WaitForNextTickAsync(stop).AsTask().ContinueWith(t => t is { IsCompletedSuccessfully: true, Result: true }, TaskScheduler.Default));
    }

    public Sample? Latest { get { lock (Samples) return Samples.Count > 0 ? Samples[^1] : null; } }

    private static int ReadPid(string path)
    {
        try { return int.TryParse(File.ReadAllText(path).Trim(), out var pid) ? pid : 0; }
        catch (IOException) { return 0; }
    }

    private static double RssMb(int pid)
    {
        if (pid <= 0) return double.NaN;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // the process is gone (killed, restarting)
        }
        return double.NaN;
    }
}
