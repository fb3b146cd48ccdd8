namespace Realtime.Client;

/// <summary>Where one group stream stands: the last seq delivered, its incarnation, and whether the user was removed.</summary>
public sealed record GroupCursor(long Seq, string? Epoch = null, bool Removed = false);

/// <summary>Every cursor of one user's terminal: the system-message stream and one per group.</summary>
public sealed record CursorSnapshot(long SystemSeq, IReadOnlyDictionary<string, GroupCursor> Groups)
{
    public static CursorSnapshot Empty { get; } = new(0, new Dictionary<string, GroupCursor>());
}

/// <summary>
/// Keeps the cursors across restarts (a file, SQLite, the app's preferences...). One store per
/// user and device. The client saves after each batch it delivered: an app that stores what it
/// shows in the same place and saves both together sees every event exactly once across crashes too.
/// </summary>
public interface ICursorStore
{
    ValueTask<CursorSnapshot> LoadAsync(CancellationToken ct);

    ValueTask SaveAsync(CursorSnapshot snapshot, CancellationToken ct);
}

/// <summary>The default: cursors live as long as the process (a restart syncs from the start of what is retained).</summary>
public sealed class InMemoryCursorStore : ICursorStore
{
    private volatile CursorSnapshot _snapshot = CursorSnapshot.Empty;

    public ValueTask<CursorSnapshot> LoadAsync(CancellationToken ct) => ValueTask.FromResult(_snapshot);

    public ValueTask SaveAsync(CursorSnapshot snapshot, CancellationToken ct)
    {
        _snapshot = snapshot;
        return ValueTask.CompletedTask;
    }
}
