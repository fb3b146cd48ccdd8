namespace Realtime.Soak;

/// <summary>Counts over a set of streams: what each terminal had to have and how it got it.</summary>
public sealed class StreamCounts
{
    public long Streams, Expected, Live, SyncOnly, RemovalBySync, Lost, Unexpected;

    /// <summary>Outside the windows, by kind: the event at the seq a join started from (committed just before the join,
    /// pushed after the joiner was attached), after a removal, anything else; and how many of all these came by Sync.</summary>
    public long PreJoin, AfterRemoval, OtherOutside, OutsideBySync;
}

/// <summary>The end-of-run check.</summary>
public sealed class Verdict
{
    public readonly StreamCounts Group = new(), System = new(), Frozen = new();
    public long[] LogMissing = [], LogBeyond = [], Messages = [];
    public long Conflicts, SystemConflicts, DuplicateMessages, Acked, AckMismatch, LiveTwice, LiveBackwards, SyncOrder, TooOld;
    public int FinalSyncFailed, GaveUp;
    public long[] RecoveredAt = [];  // events recovered by Sync, by the second (since the load started) they were logged
    public readonly List<string> Examples = [];

    public readonly List<(double At, string Text)> Leaks = []; // events pushed live after the user's removal

    public long Lost => Group.Lost + System.Lost + Frozen.Lost;
    public long Unexpected => Group.Unexpected + System.Unexpected + Frozen.Unexpected;
    public long Duplicated => Conflicts + SystemConflicts + DuplicateMessages + LiveTwice;

    /// <summary>
    /// The soak's verdict: nothing lost or duplicated after Sync, every acknowledged message logged once, the logs
    /// gapless, Sync consistent (in order, never outside a window, never tooOld), everyone synced at the end. Live
    /// pushes outside the windows are reported as findings (SPEC §5.4), not counted here.
    /// </summary>
    public bool Ok => Lost == 0 && Duplicated == 0 && AckMismatch == 0 && SyncOrder == 0 && TooOld == 0
                      && Group.OutsideBySync + System.OutsideBySync + Frozen.OutsideBySync == 0
                      && LogMissing.Sum() == 0 && LogBeyond.Sum() == 0 && FinalSyncFailed == 0 && GaveUp == 0;
}

/// <summary>
/// After the final Sync: each group's log (the union of what every terminal got) must be exactly 1..lastSeq with
/// one id per seq; each user's membership windows follow from that log (MembersJoined at s opens (s-1, …], the
/// MembersKicked/MemberQuit that removes them at r closes it at r; the owner's runs from 0), and each user must
/// hold exactly the events inside its windows (nothing missing, nothing from outside: SPEC §5.3, §5.4) and its
/// system messages 1..last. Every acknowledged SendMessage must be in the log at its seq, and no clientMsgId twice.
/// </summary>
public static class Verifier
{
    /// <summary>An event outside the windows logged at most this long before the user's next join counts as "before a join".</summary>
    public const double PreJoinSeconds = 5;

    public static Verdict Check(SoakContext ctx, SoakUser[] users, string[] groupIds, string[] ownerIds, long[] lastSeqs, bool[] finalOk)
    {
        var v = new Verdict
        {
            LogMissing = new long[groupIds.Length], LogBeyond = new long[groupIds.Length], Messages = new long[groupIds.Length],
            RecoveredAt = new long[ctx.Recorder.Seconds],
            FinalSyncFailed = finalOk.Count(ok => !ok),
            GaveUp = users.Count(u => u.GaveUp),
        };
        var frozen = users[^1];

        for (var g = 0; g < groupIds.Length; g++)
        {
            var log = ctx.Log(groupIds[g]);
            var last = lastSeqs[g];
            Dictionary<long, LogEntry> entries;
            lock (log.Entries) entries = new(log.Entries);
            v.Conflicts += log.Conflicts;
            for (var s = 1; s <= last; s++) if (!entries.ContainsKey(s)) v.LogMissing[g]++;
            v.LogBeyond[g] = entries.Keys.Count(s => s > last || s < 1);
            var messages = entries.Values.Where(e => e.Type == "Message").ToList();
            v.Messages[g] = messages.Count;
            v.DuplicateMessages += messages.Count(m => m.ClientMsgId is not null) - messages.Where(m => m.ClientMsgId is not null).Select(m => m.ClientMsgId).Distinct().Count();

            // Windows from the log. The owner created the group: its window starts at 0 (it is in no MembersJoined).
            var windows = new Dictionary<string, List<(long From, long To)>>(StringComparer.Ordinal);
            for (var s = 1L; s <= last; s++)
            {
                if (!entries.TryGetValue(s, out var e) || e.Users is null) continue;
                foreach (var who in e.Users)
                {
                    var list = windows.TryGetValue(who, out var l) ? l : windows[who] = [];
                    if (e.Type == "MembersJoined") list.Add((s - 1, long.MaxValue));
                    else if (list.Count > 0 && list[^1].To == long.MaxValue) list[^1] = (list[^1].From, s);
                }
            }
            windows[ownerIds[g]] = [(0, long.MaxValue)];

            foreach (var u in users)
            {
                var counts = ReferenceEquals(u, frozen) ? v.Frozen : v.Group;
                var st = u.Groups.GetValueOrDefault(groupIds[g]);
                var ws = windows.GetValueOrDefault(u.Id) ?? [];
                if (ws.Count == 0 && (st is null || st.MaxSeen == 0)) continue;
                counts.Streams++;
                var removals = ws.Where(w => w.To != long.MaxValue).Select(w => w.To).ToHashSet();
                for (var s = 1L; s <= Math.Max(last, st?.Length - 1 ?? 0); s++)
                {
                    var expected = s <= last && ws.Any(w => s > w.From && s <= w.To);
                    var f = st?.Get(s) ?? 0;
                    if (expected)
                    {
                        counts.Expected++;
                        if (f == 0)
                        {
                            counts.Lost++;
                            if (v.Examples.Count < 20) v.Examples.Add($"{u.Id} lacks {groupIds[g]}#{s} ({(entries.TryGetValue(s, out var m) ? m.Type : "?")})");
                        }
                        else if ((f & StreamState.Live) != 0) counts.Live++;
                        else if (removals.Contains(s)) counts.RemovalBySync++;
                        else
                        {
                            counts.SyncOnly++;
                            if (!ReferenceEquals(u, frozen) && entries.TryGetValue(s, out var m))
                                v.RecoveredAt[ctx.Recorder.Slot(Clock.SecondsOfUnixMs(m.AtUnixMs))]++;
                        }
                    }
                    else if (f != 0)
                    {
                        counts.Unexpected++;
                        if ((f & StreamState.Synced) != 0) counts.OutsideBySync++;
                        var e = entries.GetValueOrDefault(s);
                        var how = (f & StreamState.Live) != 0 ? (f & StreamState.Synced) != 0 ? "live and by Sync" : "live" : "by Sync";
                        var at = Clock.SecondsOfUnixMs(e?.AtUnixMs ?? 0);
                        var removedAt = ws.Where(w => w.To < s).Select(w => w.To).DefaultIfEmpty(-1).Max();
                        var joinedAt = ws.Where(w => w.From >= s).Select(w => w.From + 1).DefaultIfEmpty(-1).Min(); // its next MembersJoined
                        var join = joinedAt > 0 ? entries.GetValueOrDefault(joinedAt) : null;
                        var beforeJoin = join is not null && e is not null ? (join.AtUnixMs - e.AtUnixMs) / 1000.0 : double.NaN;
                        if (beforeJoin <= PreJoinSeconds) counts.PreJoin++;
                        else if (removedAt > 0)
                        {
                            counts.AfterRemoval++;
                            var removal = entries.GetValueOrDefault(removedAt);
                            v.Leaks.Add((at, $"{u.Id} got {groupIds[g]}#{s} ({e?.Type}, logged at {at:0.0} s) {how}: {s - removedAt} seqs after its removal by " +
                                             $"#{removedAt} ({removal?.Type}, logged at {Clock.SecondsOfUnixMs(removal?.AtUnixMs ?? 0):0.0} s); " +
                                             (join is null ? "it did not join again" : $"its next join is #{joinedAt}, logged {beforeJoin:0.0} s later")));
                        }
                        else
                        {
                            counts.OtherOutside++;
                            if (v.Examples.Count < 20) v.Examples.Add($"{u.Id} got {groupIds[g]}#{s} ({e?.Type}, logged at {at:0.0} s) {how}, before any window of it");
                        }
                    }
                }
                v.LiveTwice += st?.LiveTwice ?? 0;
                v.LiveBackwards += st?.LiveBackwards ?? 0;
            }
        }

        foreach (var u in users)
        {
            var counts = ReferenceEquals(u, frozen) ? v.Frozen : v.System;
            var st = u.System;
            counts.Streams++;
            var last = Math.Max(st.Cursor, st.MaxSeen);
            for (var s = 1L; s <= last; s++)
            {
                var f = st.Get(s);
                counts.Expected++;
                if (f == 0)
                {
                    counts.Lost++;
                    if (v.Examples.Count < 20) v.Examples.Add($"{u.Id} lacks system message #{s}");
                }
                else if ((f & StreamState.Live) != 0) counts.Live++;
                else counts.SyncOnly++;
            }
            v.LiveTwice += st.LiveTwice;
            v.LiveBackwards += st.LiveBackwards;
            v.SystemConflicts += u.SystemConflicts;
            v.SyncOrder += u.SyncOrderViolations;
            v.TooOld += u.TooOld;
        }

        foreach (var (groupId, seq, clientMsgId) in ctx.Acked)
        {
            v.Acked++;
            var log = ctx.Log(groupId);
            LogEntry? e;
            lock (log.Entries) log.Entries.TryGetValue(seq, out e);
            if (e is null || e.Type != "Message" || e.ClientMsgId != clientMsgId)
            {
                v.AckMismatch++;
                if (v.Examples.Count < 20) v.Examples.Add($"acknowledged {clientMsgId} at {groupId}#{seq} is not in the log there");
            }
        }
        return v;
    }
}
