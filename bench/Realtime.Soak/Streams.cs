namespace Realtime.Soak;

/// <summary>
/// What one user's terminal holds of one stream (its system messages, or one group's events): which seqs arrived,
/// live and/or by Sync, and its cursor: the highest seq up to which it has everything it may see.
/// </summary>
public sealed class StreamState
{
    public const byte Live = 1, Synced = 2;

    private byte[] _flags = new byte[64];

    public long Cursor;      // everything visible ≤ Cursor has arrived (Sync's `since` for this stream)
    public long MaxSeen;
    public long GapSince;    // Stopwatch timestamp when a live event skipped past Cursor + 1; 0 = no gap
    public long LastLiveSeq; // on the current connection
    public int LiveBackwards, LiveTwice;

    public long Length => _flags.Length;

    public byte Get(long seq) => seq >= 0 && seq < _flags.Length ? _flags[seq] : (byte)0;

    /// <summary>Returns the flags the seq had before.</summary>
    public byte Mark(long seq, byte how)
    {
        if (seq >= _flags.Length) Array.Resize(ref _flags, (int)Math.Max(seq + 1, _flags.Length * 2L));
        var before = _flags[seq];
        _flags[seq] |= how;
        if (seq > MaxSeen) MaxSeen = seq;
        return before;
    }

    /// <summary>Moves the cursor over what has arrived; a gap that is closed is forgotten.</summary>
    public void Advance(long atLeast = 0)
    {
        if (atLeast > Cursor) Cursor = atLeast;
        while (Get(Cursor + 1) != 0) Cursor++;
        if (Cursor >= MaxSeen) GapSince = 0;
    }
}

/// <summary>One entry of a group's log as seen by anyone: the union of all terminals' views must be gapless.</summary>
public sealed record LogEntry(Guid Id, string Type, long AtUnixMs, string[]? Users, string? ClientMsgId);

/// <summary>A group's log assembled from every event any terminal got, live or by Sync; conflicting ids are counted.</summary>
public sealed class GroupLog(string groupId)
{
    public string GroupId => groupId;
    public readonly Dictionary<long, LogEntry> Entries = [];
    public int Conflicts;

    public void Add(long seq, LogEntry entry)
    {
        lock (Entries)
        {
            if (Entries.TryGetValue(seq, out var known))
            {
                if (known.Id != entry.Id) Conflicts++;
            }
            else
            {
                Entries[seq] = entry;
            }
        }
    }
}
