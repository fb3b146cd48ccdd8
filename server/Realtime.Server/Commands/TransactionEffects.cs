using Realtime.Server.Callbacks;
using Realtime.Server.Delivery;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.Commands;

/// <summary>
/// What the commands of one transaction will announce, in their order, and the group rows they
/// have locked. A command that fails inside a batch is taken back to its <see cref="Mark"/>
/// (with its savepoint), so its neighbours' effects stay exactly as if it had never run.
/// </summary>
internal sealed class TransactionEffects(IReadOnlyList<string> actors)
{
    private readonly Dictionary<string, GroupRow> _locked = new(StringComparer.Ordinal);
    private readonly Dictionary<(long Gid, string UserId), MemberRow?> _members = [];
    private readonly Dictionary<(UserList List, long Gid, string UserId), bool> _listed = [];
    private readonly Dictionary<string, int> _joinedCounts = new(StringComparer.Ordinal);

    /// <summary>The users acting in this transaction: their member rows are read with a group's lock, in the same round trip.</summary>
    public IReadOnlyList<string> Actors { get; } = actors;

    /// <summary>Group events, written in one statement just before commit (the group rows' locks keep their seqs ours).</summary>
    public List<BufferedEvent> Events { get; } = [];

    /// <summary>
    /// Members who joined, written in one statement before anything reads the membership tables
    /// by SQL, before a savepoint, and before commit (MemberRepository.FlushJoinsAsync).
    /// </summary>
    public List<JoinWrite> Joins { get; } = [];

    /// <summary>Responses to store under the commands' requestIds, written in one statement just before commit.</summary>
    public List<StoredResponse> Responses { get; } = [];

    /// <summary>Attaches, detaches and group-event pushes, in the order the commands made them.</summary>
    public List<Effect> Changes { get; } = [];
    public List<PendingSystemMessage> SystemMessages { get; } = [];
    public List<OutboxItem> Outbox { get; } = [];
    public List<Func<Task>> LastSteps { get; } = [];
    /// <summary>Members who sent messages: their last_message_at is written once per transaction.</summary>
    public List<(long Gid, string UserId)> Senders { get; } = [];
    public OpenJoin? OpenJoin { get; private set; }

    /// <summary>Attaches and detaches, in order: applied before commit.</summary>
    public IReadOnlyList<Effect> MembershipEffects => Changes.Where(e => e is Effect.Attach or Effect.Detach).ToList();

    /// <summary>What to push after commit: the group events, then each written system message.</summary>
    public IReadOnlyList<Effect> Pushes => Changes.OfType<Effect.PushGroupEvent>()
        .Concat<Effect>(SystemMessages.Select(m => new Effect.PushSystemMessage(m.UserId, m.Written!)))
        .ToList();

    /// <summary>A group row this transaction locked already (its lock lasts to commit), kept current by the commands.</summary>
    public GroupRow? Locked(string groupId) => _locked.GetValueOrDefault(groupId);

    public GroupRow? LockedByGid(long gid) => _locked.Values.FirstOrDefault(g => g.Gid == gid);

    public GroupRow? RememberLocked(GroupRow? g)
    {
        if (g is not null) _locked[g.GroupId] = g;
        return g;
    }

    /// <summary>A dissolved group is no longer the live row of its id.</summary>
    public void Forget(GroupRow g) => _locked.Remove(g.GroupId);

    public void OpenJoinAt(OpenJoin open) => OpenJoin = open;

    public void ExtendOpenJoin(List<string> userIds, GroupEventDto evt)
    {
        var open = OpenJoin!;
        if (open.PushIndex >= 0) Changes[open.PushIndex] = new Effect.PushGroupEvent(open.Gid, evt);
        OpenJoin = open with { UserIds = userIds, Event = evt };
    }

    /// <summary>The seq of the last event buffered for the group, or 0.</summary>
    public long BufferedLastSeq(long gid)
    {
        for (var i = Events.Count - 1; i >= 0; i--)
            if (Events[i].Gid == gid) return Events[i].Seq;
        return 0;
    }

    /// <summary>A member row read in this transaction (null: known not to be a member).</summary>
    public bool TryMember(long gid, string userId, out MemberRow? member) => _members.TryGetValue((gid, userId), out member);

    public void RememberMembers(long gid, IEnumerable<string> userIds, IEnumerable<MemberRow> rows)
    {
        foreach (var u in userIds) _members[(gid, u)] = null;
        foreach (var m in rows) _members[(gid, m.UserId)] = m;
    }

    /// <summary>Any write to group_members makes the rows read before it stale.</summary>
    public void ForgetMembers() => _members.Clear();

    /// <summary>Whether a user is on a group's list, as read in this transaction.</summary>
    public bool TryListed(UserList list, long gid, string userId, out bool listed) => _listed.TryGetValue((list, gid, userId), out listed);

    public void RememberListed(long gid, IEnumerable<string> userIds, IEnumerable<(UserList List, string UserId)> rows)
    {
        foreach (var u in userIds)
        {
            _listed[(UserList.Blocklist, gid, u)] = false;
            _listed[(UserList.Allowlist, gid, u)] = false;
        }
        foreach (var (list, u) in rows) _listed[(list, gid, u)] = true;
    }

    public void ForgetLists() => _listed.Clear();

    /// <summary>A users row this transaction has locked, with its joined-group count kept current.</summary>
    public bool TryJoinedCount(string userId, out int count) => _joinedCounts.TryGetValue(userId, out count);

    public void RememberJoinedCount(string userId, int count) => _joinedCounts[userId] = count;

    public void AdjustJoinedCounts(IEnumerable<string> userIds, int delta)
    {
        foreach (var u in userIds)
            if (_joinedCounts.TryGetValue(u, out var c)) _joinedCounts[u] = c + delta;
    }

    public EffectsMark Mark() => new(Changes.Count, SystemMessages.Count, Outbox.Count, LastSteps.Count, Senders.Count,
        Events.Count, Responses.Count, Joins.Count, OpenJoin);

    /// <summary>
    /// Forgets what a refused command added. After a savepoint was rolled back, rows read or
    /// locked since may be stale (the lock itself may be gone): they are read again. A command
    /// refused without a savepoint had written nothing (Command.ChecksBeforeWrites), so what was
    /// read stays true.
    /// </summary>
    public void RollbackTo(EffectsMark mark, bool savepoint)
    {
        Changes.RemoveRange(mark.Changes, Changes.Count - mark.Changes);
        SystemMessages.RemoveRange(mark.SystemMessages, SystemMessages.Count - mark.SystemMessages);
        Outbox.RemoveRange(mark.Outbox, Outbox.Count - mark.Outbox);
        LastSteps.RemoveRange(mark.LastSteps, LastSteps.Count - mark.LastSteps);
        Senders.RemoveRange(mark.Senders, Senders.Count - mark.Senders);
        Events.RemoveRange(mark.Events, Events.Count - mark.Events);
        Responses.RemoveRange(mark.Responses, Responses.Count - mark.Responses);
        Joins.RemoveRange(mark.Joins, Joins.Count - mark.Joins);
        if (mark.OpenJoin is { PushIndex: >= 0 } open && open.PushIndex < Changes.Count)
            Changes[open.PushIndex] = new Effect.PushGroupEvent(open.Gid, open.Event);
        OpenJoin = mark.OpenJoin;
        if (!savepoint) return;
        _locked.Clear();
        _members.Clear();
        _listed.Clear();
        _joinedCounts.Clear();
    }
}

internal sealed record EffectsMark(int Changes, int SystemMessages, int Outbox, int LastSteps, int Senders, int Events, int Responses, int Joins, OpenJoin? OpenJoin);

/// <summary>A member to insert: the group (its member count is written from it), the user, where their window starts.</summary>
internal sealed record JoinWrite(GroupRow Group, string UserId, long JoinSeq);

/// <summary>A group_events row to write.</summary>
internal sealed record BufferedEvent(long Gid, long Seq, Guid Id, string Type, string? Actor, string Data);

/// <summary>An idempotency key's response to write (its row was inserted when the command began).</summary>
internal sealed record StoredResponse(string Owner, string RequestId, string Method, System.Text.Json.JsonElement Response);

/// <summary>The MembersJoined event that the next join in the same transaction may extend.</summary>
internal sealed record OpenJoin(long Gid, string? Inviter, bool Push, List<string> UserIds, GroupEventDto Event, int PushIndex)
{
    /// <summary>Only while it is still the group's last event, for the same inviter and visibility.</summary>
    public bool Continues(GroupRow g, string? inviter, bool push) =>
        Gid == g.Gid && Event.Seq == g.LastSeq && Inviter == inviter && Push == push;
}
