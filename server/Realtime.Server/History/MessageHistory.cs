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

            // Each window newest first, at most limit + 1 from each (the index on Message events
            // walks only those), then the newest limit + 1 of them all: one more says hasMore.
            var rows = (await c.QueryAsync<EventRow>(new CommandDefinition("""
                /* GetMessages */
                SELECT e.seq, e.id, e.type, e.actor, e.at, e.data
                FROM unnest(@afters, @throughs) AS r(after_seq, through_seq)
                CROSS JOIN LATERAL (
                    SELECT e.seq, e.id, e.type, e.actor, e.at, e.data::text AS data FROM group_events e
                    WHERE e.gid = @gid AND e.type = 'Message' AND e.seq > r.after_seq AND e.seq <= r.through_seq
                    ORDER BY e.seq DESC LIMIT @take) e
                ORDER BY e.seq DESC LIMIT @take
                """, new
            {
                gid = g.Gid,
                afters = ranges.Select(x => x.After).ToArray(),
                throughs = ranges.Select(x => x.Through).ToArray(),
                take = limit + 1,
            }, tx, cancellationToken: ct))).ToList();
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
