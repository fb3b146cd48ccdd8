using Realtime.Server.Errors;

namespace Realtime.Server.History;

/// <summary>A member's window on a group's log: events with seq in (From, To] (To null while still a member).</summary>
public readonly record struct MemberWindow(long From, long? To);

/// <summary>The pure rules of GetMessages: its arguments and which seqs a caller may read.</summary>
public static class HistoryRules
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>limit 1–200 (default 50); before ≥ 1 when given (exclusive; absent = from the newest).</summary>
    public static (long Before, int Limit) Page(long? before, int? limit)
    {
        var l = limit ?? DefaultLimit;
        if (l is < 1 or > MaxLimit) throw RealtimeException.Invalid("limit", $"must be 1-{MaxLimit}");
        if (before is < 1) throw RealtimeException.Invalid("before", "must be at least 1");
        return (before ?? long.MaxValue, l);
    }

    /// <summary>
    /// The seq ranges (exclusive low, inclusive high) a reader may see below <paramref name="before"/>:
    /// inside one of their windows (the app admin: the whole log) and after what retention trimmed.
    /// Newest first; empty ranges dropped. The same visibility as Sync.
    /// </summary>
    public static IReadOnlyList<(long After, long Through)> VisibleRanges(IEnumerable<MemberWindow>? windows, long trimmedThrough, long before)
    {
        var high = before == long.MaxValue ? long.MaxValue : before - 1;
        var all = windows ?? [new MemberWindow(0, null)];
        return all
            .Select(w => (After: Math.Max(w.From, trimmedThrough), Through: Math.Min(w.To ?? long.MaxValue, high)))
            .Where(r => r.Through > r.After)
            .OrderByDescending(r => r.Through)
            .ToList();
    }
}
