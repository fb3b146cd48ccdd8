using System.Text.Json;
using Dapper;
using Npgsql;
using Realtime.Server.Data;
using Realtime.Server.Errors;
using Realtime.Server.Operations;

namespace Realtime.Server.Delivery;

/// <summary>
/// Reads the log back for a terminal that missed pushes (SPEC §5.3). A user sees a group's
/// events only inside their membership windows, so nothing after a removal leaks (§5.4).
/// </summary>
public sealed class SyncService(Db db, RealtimeMetrics metrics)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int MaxGroups = 2000;
    public const int MaxItems = 5000;

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
            if (groupSince < 0) throw RealtimeException.Invalid("groups", $"the cursor of {groupId} must not be negative");
        }

        metrics.SyncRequests.Add(1);
        await using var c = await db.OpenAsync(ct);
        // One snapshot, so the system stream and the group streams agree with each other.
        await using var tx = await c.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var system = await SystemAsync(c, appId, userId, since, limit);
        // One answer carries at most MaxItems items in all: streams past the budget answer
        // hasMore with nothing, and the client asks again from where it is.
        var budget = MaxItems - system.Items.Count;
        var groups = new Dictionary<string, GroupSync>(StringComparer.Ordinal);
        foreach (var (groupId, groupSince) in cursors)
        {
            var group = budget > 0
                ? await GroupAsync(c, appId, userId, groupId, groupSince, Math.Min(limit, budget))
                : new GroupSync([], groupSince, HasMore: true, Removed: false, TooOld: false);
            budget -= group.Items.Count;
            groups[groupId] = group;
        }
        await tx.CommitAsync(ct);
        return new SyncResult(system, groups);
    }

    private static async Task<SystemSync> SystemAsync(NpgsqlConnection c, string appId, string userId, long since, int limit)
    {
        var trimmed = await c.ExecuteScalarAsync<long?>(
            "SELECT trimmed_through FROM users WHERE app_id = @appId AND user_id = @userId", new { appId, userId }) ?? 0;
        var rows = (await c.QueryAsync<LogRow>("""
            SELECT seq, id, type, group_id, actor, at, data::text AS data FROM system_messages
            WHERE app_id = @appId AND user_id = @userId AND seq > @since
            ORDER BY seq LIMIT @take
            """, new { appId, userId, since, take = limit + 1 })).ToList();
        var items = rows.Take(limit).Select(m => new SystemMessageDto(m.Seq, m.Id, m.Type, m.GroupId, m.Actor, m.At, Parse(m.Data))).ToList();
        return new SystemSync(items, items.Count > 0 ? items[^1].Seq : since, rows.Count > limit, since < trimmed);
    }

    private static async Task<GroupSync> GroupAsync(NpgsqlConnection c, string appId, string userId, string groupId, long since, int limit)
    {
        // The latest incarnation of this id in which the user ever had a window (a dissolved
        // group's id may be taken again by a new group).
        var windows = (await c.QueryAsync<WindowRow>("""
            SELECT w.gid, w.from_seq, w.to_seq, g.trimmed_through, g.last_seq, g.dissolved_at IS NOT NULL AS dissolved
            FROM member_windows w JOIN groups g ON g.gid = w.gid
            WHERE w.app_id = @appId AND w.user_id = @userId AND g.app_id = @appId AND g.group_id = @groupId
              AND w.gid = (SELECT max(w2.gid) FROM member_windows w2 JOIN groups g2 ON g2.gid = w2.gid
                           WHERE w2.app_id = @appId AND w2.user_id = @userId AND g2.group_id = @groupId)
            ORDER BY w.from_seq
            """, new { appId, userId, groupId })).ToList();
        if (windows.Count == 0) return new GroupSync([], since, false, Removed: true, TooOld: false);

        var gid = windows[0].Gid;
        var removed = windows.All(w => w.ToSeq is not null);
        var rows = (await c.QueryAsync<LogRow>("""
            SELECT e.seq, e.id, e.type, e.actor, e.at, e.data::text AS data FROM group_events e
            WHERE e.gid = @gid AND e.seq > @since
              AND EXISTS (SELECT 1 FROM member_windows w
                          WHERE w.gid = e.gid AND w.user_id = @userId AND e.seq > w.from_seq AND (w.to_seq IS NULL OR e.seq <= w.to_seq))
            ORDER BY e.seq LIMIT @take
            """, new { gid, userId, since, take = limit + 1 })).ToList();
        var items = rows.Take(limit).Select(e => new GroupEventDto(groupId, e.Seq, e.Id, e.Type, e.Actor, e.At, Parse(e.Data))).ToList();

        // Too old when the first event this user may see after the cursor was already trimmed.
        var firstVisible = windows.Where(w => w.ToSeq is null || w.ToSeq > since)
            .Select(w => Math.Max(since, w.FromSeq) + 1).DefaultIfEmpty(long.MaxValue).Min();
        // A cursor past the group's log belongs to an earlier group of the same id: reload too.
        var tooOld = firstVisible <= windows[0].TrimmedThrough || since > windows[0].LastSeq;
        return new GroupSync(items, items.Count > 0 ? items[^1].Seq : since, rows.Count > limit, removed, tooOld);
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

    private sealed class WindowRow
    {
        public long Gid { get; init; }
        public long FromSeq { get; init; }
        public long? ToSeq { get; init; }
        public long TrimmedThrough { get; init; }
        public long LastSeq { get; init; }
        public bool Dissolved { get; init; }
    }
}
