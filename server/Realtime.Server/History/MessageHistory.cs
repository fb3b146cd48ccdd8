using System.Data;
using System.Text.Json;
using Dapper;
using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Delivery;
using Realtime.Server.Groups;

namespace Realtime.Server.History;

/// <summary>
/// GetMessages (SPEC §9): pages backwards through a group's Message events, with Sync's visibility
/// (only inside the caller's membership windows, after what retention trimmed). Members only (the
/// app admin reads the whole log); a plain snapshot that decides nothing, so the replica may answer it.
/// </summary>
public sealed class MessageHistory(ReadRouter reads)
{
    public async Task<MessagesPage> GetAsync(Actor actor, GetMessagesRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        var (before, limit) = HistoryRules.Page(r.Before, r.Limit);
        return await reads.ReadAsync(async (c, ct) =>
        {
            // One snapshot: the membership checked, the windows and the events agree.
            await using var tx = await c.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var (g, _) = await Access.ReadAsync(c, actor, groupId, ct);
            await using var reader = await c.QueryMultipleAsync(new CommandDefinition("""
                SELECT trimmed_through FROM groups WHERE gid = @Gid;
                SELECT from_seq AS "From", to_seq AS "To" FROM member_windows WHERE gid = @Gid AND user_id = @userId;
                """, new { g.Gid, userId = actor.UserId ?? "" }, tx, cancellationToken: ct));
            var trimmed = await reader.ReadSingleAsync<long>();
            var windows = (await reader.ReadAsync<(long From, long? To)>()).Select(w => new MemberWindow(w.From, w.To)).ToList();
            var ranges = HistoryRules.VisibleRanges(actor.IsAppAdmin ? null : windows, trimmed, before);
            if (ranges.Count == 0) return new MessagesPage([], false);

            // Window by window, newest first, until the page (and one more, which says hasMore) is
            // full: each a backward walk of the Message index, merged across the log's partitions.
            // Planned for its own numbers: a generic plan cannot tell a window of 10,000 messages from
            // one of 10, and sorting a whole window to take 51 of it costs O(window) per page.
            await c.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = force_custom_plan", transaction: tx, cancellationToken: ct));
            var rows = new List<EventRow>();
            foreach (var (after, through) in ranges)
            {
                var need = limit + 1 - rows.Count;
                if (need <= 0) break;
                rows.AddRange(await c.QueryAsync<EventRow>(new CommandDefinition("""
                    /* GetMessages */
                    SELECT seq, id, type, actor, at, data::text AS data FROM group_events
                    WHERE gid = @gid AND type = 'Message' AND seq > @after AND seq <= @through
                    ORDER BY seq DESC LIMIT @need
                    """, new { gid = g.Gid, after, through, need }, tx, cancellationToken: ct)));
            }
            await tx.CommitAsync(ct);
            var items = rows.Take(limit)
                .Select(e => new GroupEventDto(g.GroupId, e.Seq, e.Id, e.Type, e.Actor, e.At, JsonDocument.Parse(e.Data).RootElement.Clone()))
                .ToList();
            return new MessagesPage(items, rows.Count > limit);
        }, ct);
    }

    private sealed class EventRow
    {
        public long Seq { get; init; }
        public Guid Id { get; init; }
        public string Type { get; init; } = "";
        public string? Actor { get; init; }
        public DateTime At { get; init; }
        public string Data { get; init; } = "{}";
    }
}
