using System.Collections.Concurrent;
using System.Diagnostics;

namespace Realtime.Soak;

/// <summary>The run's clock: seconds since the load started (negative during setup), and wall-clock times.</summary>
public static class Clock
{
    private static long _start = Stopwatch.GetTimestamp();

    public static long StartUnixMs { get; private set; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static void Start()
    {
        _start = Stopwatch.GetTimestamp();
        StartUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    public static double Seconds => (Stopwatch.GetTimestamp() - _start) / (double)Stopwatch.Frequency;

    public static double SecondsOfUnixMs(long unixMs) => (unixMs - StartUnixMs) / 1000.0;

    public static double Ms(long fromTimestamp, long toTimestamp) => (toTimestamp - fromTimestamp) * 1000.0 / Stopwatch.Frequency;

    public static void Log(string message) => Console.Error.WriteLine($"[soak {DateTime.Now:HH:mm:ss} {Seconds,6:0}s] {message}");
}

/// <summary>A thread-safe list of values with nearest-rank percentiles.</summary>
public sealed class Values
{
    private readonly List<float> _values = [];

    public void Add(double v) { lock (_values) _values.Add((float)v); }

    public int Count { get { lock (_values) return _values.Count; } }

    public double Percentile(double p)
    {
        float[] sorted;
        lock (_values) sorted = [.. _values];
        if (sorted.Length == 0) return double.NaN;
        Array.Sort(sorted);
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public static Values Of(IEnumerable<Values> parts)
    {
        var all = new Values();
        foreach (var part in parts) lock (part._values) all._values.AddRange(part._values);
        return all;
    }
}

/// <summary>Time series of the load (per second since the load started) and per-method counts.</summary>
public sealed class Recorder(int seconds)
{
    public const int LatencyWindow = 10; // seconds per latency bucket

    public readonly long[] CommandsOk = new long[seconds];
    public readonly long[] CommandsFailed = new long[seconds];
    public readonly long[] LiveDeliveries = new long[seconds];
    public readonly Values[] Latency = Enumerable.Range(0, seconds / LatencyWindow + 1).Select(_ => new Values()).ToArray();
    public readonly ConcurrentDictionary<string, Values> MethodLatency = new();
    public readonly ConcurrentDictionary<string, int> Errors = new(); // "method: code" → count
    public readonly ConcurrentDictionary<string, int> Retries = new(); // "method: outcome" → count

    public int Seconds => CommandsOk.Length;

    public int Slot(double t) => Math.Clamp((int)Math.Floor(t), 0, CommandsOk.Length - 1);

    public void Command(string method, double ms, string? error)
    {
        var t = Clock.Seconds;
        if (t < 0) return; // setup, not load
        if (error is null)
        {
            Interlocked.Increment(ref CommandsOk[Slot(t)]);
            MethodLatency.GetOrAdd(method, _ => new Values()).Add(ms);
        }
        else
        {
            Interlocked.Increment(ref CommandsFailed[Slot(t)]);
            Errors.AddOrUpdate($"{method}: {error}", 1, (_, n) => n + 1);
        }
    }

    public void Delivery(double latencyMs)
    {
        var t = Clock.Seconds;
        if (t < 0) return;
        Interlocked.Increment(ref LiveDeliveries[Slot(t)]);
        if (!double.IsNaN(latencyMs)) Latency[Math.Min(Latency.Length - 1, Slot(t) / LatencyWindow)].Add(latencyMs);
    }
}
