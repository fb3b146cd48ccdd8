using System.Text.Json;

namespace Realtime.Client;

/// <summary>What the tracker hands to the app, in order: system messages, group events, and the two stream conditions.</summary>
public interface IStreamItem;

/// <summary>
/// The cursors, gap detection and deduplication of SPEC §5, with no I/O, so it can be tested alone.
/// One stream per user (system messages) and per group; each stream's seqs are gapless. A live push
/// one above the cursor is delivered; one at or below it is a duplicate and dropped; one further
/// ahead is held and asks for a Sync, whose answer is authoritative: its items are delivered (across
/// legitimate holes such as the time between two memberships), then what was held. Not thread-safe:
/// the client calls it from its one delivery loop.
/// </summary>
public sealed class StreamTracker
{
    private sealed class Stream
    {
        public long Seq;
        public string? Epoch;
        public bool Removed;
        public readonly SortedDictionary<long, GroupEvent> Held = [];
    }

    private long _system;
    private readonly SortedDictionary<long, SystemMessage> _heldSystem = [];
    private readonly Dictionary<string, Stream> _groups = new(StringComparer.Ordinal);
    // Groups the next Sync round must ask about (beyond a full round, which asks about every one).
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);

    public StreamTracker(CursorSnapshot? snapshot = null)
    {
        snapshot ??= CursorSnapshot.Empty;
        _system = snapshot.SystemSeq;
        foreach (var (groupId, c) in snapshot.Groups) _groups[groupId] = new Stream { Seq = c.Seq, Epoch = c.Epoch, Removed = c.Removed };
    }

    public long SystemSeq => _system;

    /// <summary>Pushes and Sync items dropped because their seq was already delivered.</summary>
    public long DuplicatesDropped { get; private set; }

    /// <summary>Live pushes that came ahead of their stream's next seq (each held until a Sync filled what lay before).</summary>
    public long GapsDetected { get; private set; }

    public bool IsEmpty => _system == 0 && _groups.Count == 0;

    public GroupCursor? CursorOf(string groupId) =>
        _groups.TryGetValue(groupId, out var g) ? new GroupCursor(g.Seq, g.Epoch, g.Removed) : null;

    public CursorSnapshot Snapshot() =>
        new(_system, _groups.ToDictionary(kv => kv.Key, kv => new GroupCursor(kv.Value.Seq, kv.Value.Epoch, kv.Value.Removed), StringComparer.Ordinal));

    /// <summary>Starts following a group not followed yet at <paramref name="seq"/> (e.g. a joined group's lastSeq on a first start).</summary>
    public void Track(string groupId, long seq, string? epoch)
    {
        if (_groups.ContainsKey(groupId)) return;
        _groups[groupId] = new Stream { Seq = seq, Epoch = epoch };
        _pending.Add(groupId);
    }

    /// <summary>A live system message. Returns true when a Sync is needed (a gap, or a membership change to read up on).</summary>
    public bool OnPush(SystemMessage m, List<IStreamItem> output)
    {
        if (m.Seq <= _system) return Duplicate();
        if (m.Seq > _system + 1)
        {
            GapsDetected++;
            _heldSystem[m.Seq] = m;
            return true;
        }
        var sync = Deliver(m, output);
        return DrainSystem(output, all: false) | sync;
    }

    /// <summary>A live group event. Returns true when a Sync is needed: a gap, or a group not followed yet.</summary>
    public bool OnPush(GroupEvent e, List<IStreamItem> output)
    {
        if (!_groups.TryGetValue(e.GroupId, out var g))
        {
            // Its JoinedGroup travels on the other stream and may come second: follow it from the
            // start of what the user may see (Sync reads only inside their membership windows).
            _groups[e.GroupId] = g = new Stream();
        }
        if (g.Removed)
        {
            // A push after a removal: the user is a member again (its JoinedGroup may still be on its way).
            g.Removed = false;
            _pending.Add(e.GroupId);
        }
        if (e.Seq <= g.Seq) return Duplicate();
        if (e.Seq > g.Seq + 1)
        {
            GapsDetected++;
            g.Held[e.Seq] = e;
            _pending.Add(e.GroupId);
            return true;
        }
        Deliver(g, e, output);
        DrainGroup(g, output, all: false);
        return false;
    }

    /// <summary>The next Sync request: every followed group when <paramref name="full"/>, else only those with something to read.</summary>
    public SyncRequest NextSyncRequest(bool full, int limit)
    {
        var ids = full ? _groups.Where(kv => !kv.Value.Removed).Select(kv => kv.Key).ToList()
                       : _pending.Where(id => _groups.TryGetValue(id, out var g) && !g.Removed).ToList();
        _pending.Clear();
        var cursors = ids.ToDictionary(id => id, id => new SyncCursor(_groups[id].Seq, _groups[id].Epoch), StringComparer.Ordinal);
        return new SyncRequest(_system, cursors, limit);
    }

    /// <summary>Applies a Sync answer to the request last built. Returns true when another round is needed.</summary>
    public bool ApplySync(SyncResult r, List<IStreamItem> output)
    {
        var more = r.System.HasMore;
        if (r.System.TooOld) output.Add(new StreamTooOld(null));
        foreach (var m in r.System.Items)
            if (m.Seq > _system) more |= Deliver(m, output);
            else Duplicate();
        _system = Math.Max(_system, r.System.Next);
        more |= DrainSystem(output, all: !r.System.HasMore);

        foreach (var (groupId, gs) in r.Groups)
        {
            if (!_groups.TryGetValue(groupId, out var g)) continue;
            if (gs.Epoch is not null && g.Epoch is not null && gs.Epoch != g.Epoch)
            {
                // The id names another group now: its seqs start over. Read it from where the user's part begins.
                output.Add(new StreamTooOld(groupId));
                (g.Seq, g.Epoch, g.Removed) = (gs.Next, gs.Epoch, false);
                DropHeldUpTo(g);
                _pending.Add(groupId);
                more = true;
                continue;
            }
            g.Epoch ??= gs.Epoch;
            if (gs.TooOld) output.Add(new StreamTooOld(groupId));
            foreach (var e in gs.Items)
                if (e.Seq > g.Seq) Deliver(g, e, output);
                else Duplicate();
            g.Seq = Math.Max(g.Seq, gs.Next);
            if (gs.HasMore)
            {
                _pending.Add(groupId);
                more = true;
                DrainGroup(g, output, all: false);
                continue;
            }
            DrainGroup(g, output, all: true);
            if (gs.Removed && !g.Removed)
            {
                g.Removed = true;
                output.Add(new GroupRemoved(groupId));
            }
        }
        return more || _pending.Count > 0;
    }

    private static void Deliver(Stream g, GroupEvent e, List<IStreamItem> output)
    {
        g.Seq = e.Seq;
        output.Add(e);
    }

    /// <summary>Delivers a system message; true when it changes membership, which the next Sync reads up on.</summary>
    private bool Deliver(SystemMessage m, List<IStreamItem> output)
    {
        _system = m.Seq;
        output.Add(m);
        if (m.GroupId is not { } groupId) return false;
        switch (m.Kind)
        {
            case SystemMessageKind.GroupCreated or SystemMessageKind.JoinedGroup:
                var joinSeq = Long(m.Data, "joinSeq");
                var epoch = Str(m.Data, "epoch");
                if (!_groups.TryGetValue(groupId, out var g))
                    _groups[groupId] = g = new Stream { Seq = joinSeq, Epoch = epoch };
                else if (g.Epoch is not null && epoch is not null && g.Epoch != epoch)
                {
                    (g.Seq, g.Epoch) = (joinSeq, epoch);
                    DropHeldUpTo(g);
                }
                g.Epoch ??= epoch;
                g.Removed = false;
                _pending.Add(groupId);
                return true;
            case SystemMessageKind.Kicked or SystemMessageKind.QuitGroup or SystemMessageKind.GroupDissolved:
                if (!_groups.ContainsKey(groupId)) return false;
                _pending.Add(groupId);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Delivers held system messages that are next in line (or all of them after a complete Sync); true if a gap remains.</summary>
    private bool DrainSystem(List<IStreamItem> output, bool all)
    {
        var sync = false;
        while (_heldSystem.Count > 0)
        {
            var (seq, m) = _heldSystem.First();
            if (seq > _system + 1 && !all) return true;
            _heldSystem.Remove(seq);
            if (seq > _system) sync |= Deliver(m, output);
            else Duplicate();
        }
        return sync;
    }

    private void DrainGroup(Stream g, List<IStreamItem> output, bool all)
    {
        while (g.Held.Count > 0)
        {
            var (seq, e) = g.Held.First();
            if (seq > g.Seq + 1 && !all) return;
            g.Held.Remove(seq);
            if (seq > g.Seq) Deliver(g, e, output);
            else Duplicate();
        }
    }

    private bool Duplicate()
    {
        DuplicatesDropped++;
        return false;
    }

    private static void DropHeldUpTo(Stream g)
    {
        foreach (var seq in g.Held.Keys.Where(s => s <= g.Seq).ToList()) g.Held.Remove(seq);
    }

    private static long Long(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;

    private static string? Str(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
