using System.Text.Json;
using Dapper;
using Npgsql;
using Microsoft.Extensions.Options;
using Realtime.Server.Apps;
using Realtime.Server.Data;
using Realtime.Server.Errors;
using Realtime.Server.Operations;

namespace Realtime.Server.Delivery;

/// <summary>
/// Reads the log back for a terminal that missed pushes (SPEC §5.3). A user sees a group's
/// events only inside their membership windows, so nothing after a removal leaks (§5.4).
/// Runs on the read replica when it has everything committed before the call (ReadRouter).
/// </summary>
public sealed class SyncService(ReadRouter reads, RealtimeMetrics metrics, IOptions<RealtimeOptions> options)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int MaxGroups = 2000;

    public async Task<SyncResult> SyncAsync(string appId, string userId, SyncRequest r, CancellationToken ct = default)
    {
        var since = r.SystemSince ?? 0;
        var limit = r.Limit ?? DefaultLimit;
        if (since < 0) throw RealtimeException.Invalid("systemSince", "must not be negative");
        if (limit is < 1 or > MaxLimit) throw RealtimeException.Invalid("limit", $"must be 1-{MaxLimit}");
        var cursors = r.Groups ?? [];
        if (cursors.Count > MaxGroups) throw RealtimeException.Invalid("groups", $"must list at most {MaxGroups} groups");
        foreach (var (groupId, groupSince) in cursors)
        {
            if (!Ids.IsValidGroupId(groupId)) throw RealtimeException.Invalid("groups", $"'{groupId}' is not a valid group id");
            if (groupSince.Since < 0) throw RealtimeException.Invalid("groups", $"the cursor of {groupId} must not be negative");
        }

        metrics.SyncRequests.Add(1);
        return await reads.ReadAsync(async (c, ct) =>
        {
            // One snapshot, so the system stream and the group streams agree with each other.
            await using var tx = await c.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            var system = await SystemAsync(c, appId, userId, since, limit, ct);
            var groups = await GroupsAsync(c, appId, userId, cursors, limit, options.Value.SyncMaxItems - system.Items.Count, ct);
            await tx.CommitAsync(ct);
            return new SyncResult(system, groups);
        }, ct);
    }

    private static async Task<SystemSync> SystemAsync(NpgsqlConnection c, string appId, string userId, long since, int limit, CancellationToken ct)
    {
        var trimmed = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT trimmed_through FROM users WHERE app_id = @appId AND user_id = @userId", new { appId, userId }, cancellationToken: ct)) ?? 0;
        var rows = (await c.QueryAsync<LogRow>(new CommandDefinition("""
            SELECT seq, id, type, group_id, actor, at, data::text AS data FROM system_messages
            WHERE app_id = @appId AND user_id = @userId AND seq > @since
            ORDER BY seq LIMIT @take
            """, new { appId, userId, since, take = limit + 1 }, cancellationToken: ct))).ToList();
        var items = rows.Take(limit).Select(m => new SystemMessageDto(m.Seq, m.Id, m.Type, m.GroupId, m.Actor, m.At, Parse(m.Data))).ToList();
        return new SystemSync(items, items.Count > 0 ? items[^1].Seq : since, rows.Count > limit, since < trimmed);
    }

    /// <summary>Visible to the user: inside one of their membership windows on the group.</summary>
    private const string Visible = """
        EXISTS (SELECT 1 FROM member_windows w
                WHERE w.gid = e.gid AND w.user_id = @userId AND e.seq > w.from_seq AND (w.to_seq IS NULL OR e.seq <= w.to_seq))
        """;

    /// <summary>
    /// All group streams in three queries whatever their number: the windows, how much each has
    /// (capped), then the events. One answer carries at most <paramref name="budget"/> items: streams
    /// past it answer hasMore with nothing, and the client asks again from where it is.
    /// </summary>
    private static async Task<Dictionary<string, GroupSync>> GroupsAsync(
        NpgsqlConnection c, string appId, string userId, Dictionary<string, SyncCursor> cursors, int limit, int budget, CancellationToken ct)
    {
        var result = new Dictionary<string, GroupSync>(StringComparer.Ordinal);
        if (cursors.Count == 0) return result;

        // The latest incarnation of each id in which the user ever had a window (a dissolved
        // group's id may be taken again by a new group), with all the user's windows on it.
        var windows = (await c.QueryAsync<WindowRow>(new CommandDefinition("""
            WITH latest AS (
                SELECT g.group_id, max(g.gid) AS gid
                FROM groups g JOIN member_windows w ON w.gid = g.gid AND w.user_id = @userId
                WHERE g.app_id = @appId AND g.group_id = ANY(@groupIds)
                GROUP BY g.group_id)
            SELECT l.group_id, w.gid, w.from_seq, w.to_seq, g.trimmed_through, g.last_seq, g.epoch
            FROM latest l JOIN groups g ON g.gid = l.gid JOIN member_windows w ON w.gid = l.gid AND w.user_id = @userId
            ORDER BY w.gid, w.from_seq
            """, new { appId, userId, groupIds = cursors.Keys.ToArray() }, cancellationToken: ct)))
            .GroupBy(w => w.GroupId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        // A cursor of another incarnation of the id (its epoch is not this one's) reads nothing here.
        var known = cursors.Where(kv => windows.TryGetValue(kv.Key, out var ws) && !SyncEpochs.IsOther(kv.Value, ws[0].Epoch))
            .Select(kv => (GroupId: kv.Key, kv.Value.Since, windows[kv.Key][0].Gid)).ToList();
        var available = (await c.QueryAsync<(long Gid, long N)>(new CommandDefinition($"""
            SELECT q.gid, (SELECT count(*) FROM (SELECT 1 FROM group_events e
                                                 WHERE e.gid = q.gid AND e.seq > q.since AND {Visible} LIMIT @cap) x)
            FROM unnest(@gids, @sinces) AS q(gid, since)
            """, new { userId, gids = known.Select(k => k.Gid).ToArray(), sinces = known.Select(k => k.Since).ToArray(), cap = limit + 1 }, cancellationToken: ct)))
            .ToDictionary(r => r.Gid, r => (int)r.N);

        // Hand out the budget in the order the client listed its groups.
        var take = new Dictionary<long, int>();
        foreach (var k in known)
        {
            take[k.Gid] = Math.Max(0, Math.Min(Math.Min(limit, available[k.Gid]), budget));
            budget -= take[k.Gid];
        }
        var wanted = known.Where(k => take[k.Gid] > 0).ToList();
        var events = (await c.QueryAsync<GroupLogRow>(new CommandDefinition($"""
            SELECT q.gid, e.seq, e.id, e.type, e.actor, e.at, e.data::text AS data
            FROM unnest(@gids, @sinces, @takes) AS q(gid, since, take)
            CROSS JOIN LATERAL (SELECT * FROM group_events e
                                WHERE e.gid = q.gid AND e.seq > q.since AND {Visible}
                                ORDER BY e.seq LIMIT q.take) e
            ORDER BY q.gid, e.seq
            """, new
        {
            userId,
            gids = wanted.Select(k => k.Gid).ToArray(),
            sinces = wanted.Select(k => k.Since).ToArray(),
            takes = wanted.Select(k => take[k.Gid]).ToArray(),
        }, cancellationToken: ct))).ToLookup(e => e.Gid);

        foreach (var (groupId, cursor) in cursors)
        {
            var since = cursor.Since;
            if (!windows.TryGetValue(groupId, out var ws))
            {
                result[groupId] = new GroupSync([], since, false, Removed: true, TooOld: false);
                continue;
            }
            var gid = ws[0].Gid;
            if (SyncEpochs.IsOther(cursor, ws[0].Epoch))
            {
                result[groupId] = SyncEpochs.Answer(ws.Select(w => (w.FromSeq, w.ToSeq)).ToList(), ws[0].TrimmedThrough, ws[0].Epoch);
                continue;
            }
            var items = events[gid].Select(e => new GroupEventDto(groupId, e.Seq, e.Id, e.Type, e.Actor, e.At, Parse(e.Data))).ToList();
            // Too old when the first event this user may see after the cursor was already trimmed,
            // or when the cursor is past the group's log (it belongs to an earlier group of the id).
            var firstVisible = ws.Where(w => w.ToSeq is null || w.ToSeq > since)
                .Select(w => Math.Max(since, w.FromSeq) + 1).DefaultIfEmpty(long.MaxValue).Min();
            var tooOld = firstVisible <= ws[0].TrimmedThrough || since > ws[0].LastSeq;
            result[groupId] = new GroupSync(items, items.Count > 0 ? items[^1].Seq : since,
                HasMore: available[gid] > items.Count, Removed: ws.All(w => w.ToSeq is not null), tooOld, ws[0].Epoch);
        }
        return result;
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private sealed class LogRow
    {
        public long Seq { get; init; }
        public Guid Id { get; init; }
        public string Type { get; init; } = "";
        public string? GroupId { get; init; }
        public string? Actor { get; init; }
        public DateTime At { get; init; }
        public string Data { get; init; } = "{}";
    }

    private sealed class GroupLogRow
    {
        public long Gid { get; init; }
        public long Seq { get; init; }
        public Guid Id { get; init; }
        public string Type { get; init; } = "";
        public string? Actor { get; init; }
        public DateTime At { get; init; }
        public string Data { get; init; } = "{}";
    }

    private sealed class WindowRow
    {
        public string GroupId { get; init; } = "";
        public long Gid { get; init; }
        public long FromSeq { get; init; }
        public long? ToSeq { get; init; }
        public long TrimmedThrough { get; init; }
        public long LastSeq { get; init; }
        public string Epoch { get; init; } = "";
    }
}
