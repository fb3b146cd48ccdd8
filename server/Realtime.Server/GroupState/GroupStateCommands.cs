using Dapper;
using Npgsql;
using Realtime.Server.Callbacks;
using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.GroupState;

/// <summary>
/// Group state (SPEC §9): attributes, counters, read cursors, online members. Writes run on the
/// group's queue (GroupCommit) like SendMessage, so those that arrive together share one
/// transaction; every refusal comes before the command's first write. Reads are plain snapshots.
/// </summary>
public sealed class GroupStateCommands(GroupCommit commit, ReadRouter reads, Db db)
{
    public Task<AttributesResult> SetAttributesAsync(Actor actor, SetGroupAttributesRequest r, CancellationToken ct = default, string? lane = null)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return commit.RunAsync(actor, groupId, "SetGroupAttributes", r.RequestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            Access.RequireAllowed(GroupStateRules.AttributeWriters(g.Type), me, actor, $"change the attributes of a {g.Type} group");
            var state = TransactionGroupState.Of(s);
            var loaded = await state.LoadAsync(s, g);
            var (next, changes) = GroupStateRules.ApplyAttributes(loaded.Attributes, r.Set, r.Remove, r.ExpectedVersions);
            if (changes.Count == 0) return new AttributesResult(next, g.LastSeq);
            loaded.Attributes = next;
            state.MarkDirty(s, loaded);
            var evt = s.AppendGroupEvent(g, GroupStateEvents.AttributesChanged, new { changes });
            s.AfterCallback(CallbackCommand.AfterGroupAttributesChanged, new()
            {
                ["GroupId"] = g.GroupId, ["Type"] = g.Type.ToString(), ["Operator_Account"] = actor.IdempotencyOwner,
                ["Seq"] = evt.Seq,
                // As the AttributesChanged event has them ({ key: { value, version } | null }), whatever the callback's own naming.
                ["Changes"] = changes.ToDictionary(x => x.Key, x => x.Value is { } v ? (object?)new { value = v.Value, version = v.Version } : null),
            });
            return new AttributesResult(next, evt.Seq);
        }, ct, lane: lane, checksBeforeWrites: true);
    }

    public async Task<AttributesResult> GetAttributesAsync(Actor actor, GetGroupAttributesRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return await reads.ReadAsync(async (c, token) =>
        {
            var (g, _) = await Access.ReadAsync(c, actor, groupId, token);
            var keys = GroupStateRules.Keys(r.Keys, GroupStateRules.MaxAttributes);
            var (seq, json) = await SnapshotAsync(c, g.Gid, "attributes", token);
            var all = GroupStateJson.Attributes(json);
            return new AttributesResult(keys is null ? all : Filter(all, keys), seq);
        }, ct);
    }

    public Task<CountersResult> ChangeCountersAsync(Actor actor, ChangeGroupCountersRequest r, CancellationToken ct = default, string? lane = null)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return commit.RunAsync(actor, groupId, "ChangeGroupCounters", r.RequestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            if (r.Set is { Count: > 0 }) Access.RequireAllowed(GroupStateRules.CounterSetters, me, actor, "set counters");
            if (r.Increment is { Count: > 0 } && !actor.IsAppAdmin) await RequireMaySendAsync(s, g, me!, actor);
            var state = TransactionGroupState.Of(s);
            var loaded = await state.LoadAsync(s, g);
            var (next, changed) = GroupStateRules.ApplyCounters(loaded.Counters, r.Increment, r.Set);
            loaded.Counters = next;
            state.MarkDirty(s, loaded);
            var evt = TransactionGroupState.AnnounceCounters(s, g, loaded, changed);
            return new CountersResult(new SortedDictionary<string, long>(next, StringComparer.Ordinal), evt.Seq);
        }, ct, lane: lane, checksBeforeWrites: true);
    }

    /// <summary>Increments follow the send rule (SPEC §2 send row): BChatRoom staff only, not while muted.</summary>
    private static async Task RequireMaySendAsync(CommandScope s, GroupRow g, MemberRow me, Actor actor)
    {
        if (g.Rules.OnlyOwnerAndAdminsSend) Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, $"change counters of a {g.Type} group");
        var allowlisted = g.MuteAll && me.Role == MemberRole.Member && await UserListRepository.ContainsAsync(s, UserList.Allowlist, g.Gid, me.UserId);
        if (MemberRules.IsMuted(me, g.MuteAll, allowlisted, s.Now))
            throw new RealtimeException(ErrorCode.MemberMuted, me.MutedUntil > s.Now
                ? $"you are muted in group {g.GroupId} until {me.MutedUntil:O}"
                : $"group {g.GroupId} is muted for members");
    }

    public async Task<CountersResult> GetCountersAsync(Actor actor, GetGroupCountersRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return await reads.ReadAsync(async (c, token) =>
        {
            var (g, _) = await Access.ReadAsync(c, actor, groupId, token);
            var keys = GroupStateRules.Keys(r.Keys, GroupStateRules.MaxCounters);
            var (seq, json) = await SnapshotAsync(c, g.Gid, "counters", token);
            var all = GroupStateJson.Counters(json);
            return new CountersResult(keys is null ? all : Filter(all, keys), seq);
        }, ct);
    }

    /// <summary>The group's last seq and one state column in one statement: the snapshot and its seq agree.</summary>
    private static async Task<(long Seq, string? Json)> SnapshotAsync(NpgsqlConnection c, long gid, string column, CancellationToken ct) =>
        await c.QuerySingleAsync<(long, string?)>(new CommandDefinition($"""
            SELECT g.last_seq, s.{column}::text FROM groups g LEFT JOIN group_state s ON s.gid = g.gid WHERE g.gid = @gid
            """, new { gid }, cancellationToken: ct));

    private static SortedDictionary<string, T> Filter<T>(SortedDictionary<string, T> all, IEnumerable<string> keys)
    {
        var picked = new SortedDictionary<string, T>(StringComparer.Ordinal);
        foreach (var k in keys)
            if (all.TryGetValue(k, out var v)) picked[k] = v;
        return picked;
    }

    /// <summary>
    /// Moves the caller's read cursor forward (never past the group's lastSeq): one member row
    /// written, and ReadCursorMoved to the member's terminals. A seq at or behind the cursor changes nothing.
    /// </summary>
    public Task<MarkReadResult> MarkReadAsync(Actor actor, MarkReadRequest r, CancellationToken ct = default, string? lane = null)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        var user = actor.RequireUser();
        return commit.RunAsync(actor, groupId, "MarkRead", r.RequestId, async s =>
        {
            var (g, _) = await Access.LockAsync(s, groupId);
            var seq = Math.Min(GroupStateRules.Seq(r.Seq), g.LastSeq);
            var cursor = await ReadCursors.MoveAsync(s, g, user, seq);
            if (cursor.Moved) s.SystemMessage(user, GroupStateEvents.ReadCursorMoved, g.GroupId, new { groupId = g.GroupId, seq = cursor.LastReadSeq });
            return new MarkReadResult(cursor.LastReadSeq, cursor.Unread);
        }, ct, lane: lane, checksBeforeWrites: true);
    }

    public async Task<ReadCountResult> GetReadCountAsync(Actor actor, GetReadCountRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return await reads.ReadAsync(async (c, token) =>
        {
            var (g, _) = await Access.ReadAsync(c, actor, groupId, token);
            var seq = GroupStateRules.Seq(r.Seq);
            var sender = await ReadCursors.MessageSenderAsync(c, g, seq, token);
            return await ReadCursors.CountAsync(c, g.Gid, seq, sender, token);
        }, ct);
    }

    public async Task<ReadMembersResult> GetReadMembersAsync(Actor actor, GetReadMembersRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        return await reads.ReadAsync(async (c, token) =>
        {
            var (g, _) = await Access.ReadAsync(c, actor, groupId, token);
            var seq = GroupStateRules.Seq(r.Seq);
            var read = r.Read ?? throw RealtimeException.Invalid("read", "is required");
            var (offset, limit) = GroupStateRules.Page(r.Offset, r.Limit);
            var sender = await ReadCursors.MessageSenderAsync(c, g, seq, token);
            return await ReadCursors.MembersAsync(c, g.Gid, seq, sender, read, offset, limit, token);
        }, ct);
    }

    /// <summary>Members with a terminal on a node whose lease is current (primary: presence is written there).</summary>
    public async Task<OnlineMembersResult> GetOnlineMembersAsync(Actor actor, GetOnlineMembersRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        await using var c = await db.OpenAsync(ct);
        var (g, _) = await Access.ReadAsync(c, actor, groupId, ct);
        var (offset, limit) = GroupStateRules.Page(r.Offset, r.Limit);
        return await OnlineMembers.PageAsync(c, actor.AppId, g.Gid, offset, limit, ct);
    }
}
