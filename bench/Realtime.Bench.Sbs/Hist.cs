using System.Numerics;

namespace Realtime.Bench.Sbs;

/// <summary>
/// A preallocated log-linear latency histogram in microseconds (HdrHistogram-like: exact below 128 µs, then 64
/// sub-buckets per power of two, so any value is within 1.6 % of its bucket). Recording is one Interlocked
/// increment; it never allocates.
/// </summary>
public sealed class Hist
{
    public const int Size = 128 + 40 * 64;

    public long[] Counts { get; init; } = new long[Size];

    public static int Index(long us)
    {
        if (us < 128) return us < 0 ? 0 : (int)us;
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)us) - 6;
        return Math.Min(Size - 1, 128 + (shift - 1) * 64 + (int)((us >> shift) - 64));
    }

    /// <summary>The middle of bucket i, in microseconds.</summary>
    public static double Mid(int i)
    {
        if (i < 128) return i + 0.5;
        var shift = (i - 128) / 64 + 1;
        var low = (long)((i - 128) % 64 + 64) << shift;
        return low + (1L << shift) / 2.0;
    }

    public void Record(long us) => Interlocked.Increment(ref Counts[Index(us)]);

    public long Count => Counts.Sum();

    /// <summary>
    /// Nearest-rank percentile in ms over <paramref name="total"/> values (default: those recorded); values that never
    /// arrived (total − recorded) count as infinitely late, so a percentile that falls among them is +∞.
    /// </summary>
    public double Percentile(double p, long total = -1)
    {
        var n = Count;
        if (total < 0) total = n;
        if (total == 0) return double.NaN;
        var rank = Math.Max(1, (long)Math.Ceiling(p / 100 * total));
        if (rank > n) return double.PositiveInfinity;
        long seen = 0;
        for (var i = 0; i < Size; i++)
        {
            seen += Counts[i];
            if (seen >= rank) return Mid(i) / 1000;
        }
        return double.PositiveInfinity;
    }

    public double MaxMs()
    {
        for (var i = Size - 1; i >= 0; i--) if (Counts[i] > 0) return Mid(i) / 1000;
        return double.NaN;
    }

    /// <summary>Non-empty buckets as [index, count, index, count, …] (for the JSON result).</summary>
    public long[] Sparse() => [.. Enumerable.Range(0, Size).Where(i => Counts[i] > 0).SelectMany(i => new[] { (long)i, Counts[i] })];

    public static Hist FromSparse(long[]? sparse)
    {
        var h = new Hist();
        for (var j = 0; sparse is not null && j + 1 < sparse.Length; j += 2) h.Counts[sparse[j]] = sparse[j + 1];
        return h;
    }
}
