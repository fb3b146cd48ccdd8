using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.GroupState;

/// <summary>
/// The SQL of read cursors (SPEC §9). Per member: last_read_seq, read_msgs (the group's Message
/// events at or before it) and sent_after_read (its own messages after it), so a member's unread
/// count is msg_count - read_msgs - sent_after_read: no count of the log when it is asked, for
/// one group or a thousand. A read count is an index range count on (gid, last_read_seq).
/// </summary>
internal static class ReadCursors
{
    public sealed record Cursor(long LastReadSeq, long Unread, bool Moved);

    /// <summary>
    /// Moves the user's cursor to <paramref name="seq"/> (≤ the group's last seq; the caller holds the
    /// group's lock) if that is forward. A transaction reads what its MarkReads need once per group
    /// (the message count, the acting members' cursors, the Message events past the lowest cursor
    /// asked for) and writes every moved cursor in one statement just before commit: a batch of
    /// MarkReads costs one round trip more than the lock, however many it holds. Each member row is
    /// written once, with absolute values computed when every event of the transaction is known.
    /// </summary>
    public static async Task<Cursor> MoveAsync(CommandScope s, GroupRow g, string user, long seq)
    {
        var batch = Batch.Of(s);
        var group = await batch.GroupAsync(s, g, user, seq);
        var current = group.Cursors[user];
        var moved = seq > current;
        if (moved)
        {
            group.Cursors[user] = seq;
            group.Moved.Add(user);
            batch.WriteBeforeCommit(s);
        }
        var at = group.Cursors[user];
        var buffered = Buffered(s, g.Gid);
        var read = group.MessagesUpTo(at) + buffered.Count(e => e.Seq <= at);
        var own = group.OwnAfter(user, at) + buffered.Count(e => e.Seq > at && e.Actor == user);
        return new Cursor(at, GroupStateRules.Unread(group.MsgCount + buffered.Count, read, own), moved);
    }

    private static List<BufferedEvent> Buffered(CommandScope s, long gid) =>
        s.Effects.Events.Where(e => e.Gid == gid && e.Type == GroupEventDto.MessageType).ToList();

    /// <summary>What one transaction's MarkReads know of one group.</summary>
    private sealed class GroupCursors
    {
        public long MsgCount { get; init; }
        /// <summary>The group's last seq in the database (this transaction's events are not written yet).</summary>
        public long DbLastSeq { get; init; }
        /// <summary>Message events in the database with seq > <see cref="LoadedAfter"/>, in seq order.</summary>
        public List<(long Seq, string? Actor)> Messages { get; set; } = [];
        public long LoadedAfter { get; set; }
        public Dictionary<string, long> Cursors { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Moved { get; } = new(StringComparer.Ordinal);

        /// <summary>Messages at or before seq: all of them but those after it (retention-trimmed ones count as read).</summary>
        public long MessagesUpTo(long seq) => MsgCount - Messages.Count(m => m.Seq > seq);

        public long OwnAfter(string user, long seq) => Messages.Count(m => m.Seq > seq && m.Actor == user);
    }

    private sealed class Batch
    {
        private static readonly ConditionalWeakTable<TransactionEffects, Batch> OfTransaction = new();
        private readonly Dictionary<long, GroupCursors> _groups = [];
        private bool _writeQueued;

        public static Batch Of(CommandScope s) => OfTransaction.GetValue(s.Effects, _ => new Batch());

        /// <summary>The group's cursors, with the user's and the messages after <paramref name="seq"/> loaded.</summary>
        public async Task<GroupCursors> GroupAsync(CommandScope s, GroupRow g, string user, long seq)
        {
            if (!_groups.TryGetValue(g.Gid, out var group))
            {
                await MemberRepository.FlushJoinsAsync(s);
                var actors = s.Effects.Actors.Append(user).Distinct(StringComparer.Ordinal).ToArray();
                await using var reader = await s.Connection.QueryMultipleAsync(new CommandDefinition("""
                    SELECT msg_count, last_seq FROM groups WHERE gid = @Gid;
                    SELECT user_id, last_read_seq FROM group_members WHERE gid = @Gid AND user_id = ANY(@actors);
                    SELECT seq, actor FROM group_events WHERE gid = @Gid AND seq > @seq AND type = 'Message' ORDER BY seq;
                    """, new { g.Gid, actors, seq }, s.Transaction));
                var (msgCount, lastSeq) = await reader.ReadSingleAsync<(long, long)>();
                group = new GroupCursors { MsgCount = msgCount, DbLastSeq = lastSeq, LoadedAfter = seq };
                foreach (var (u, cursor) in await reader.ReadAsync<(string, long)>()) group.Cursors[u] = cursor;
                group.Messages = (await reader.ReadAsync<(long, string?)>()).ToList();
                _groups[g.Gid] = group;
            }
            if (!group.Cursors.ContainsKey(user))
            {
                // Joined in this transaction after the first MarkRead of it.
                await MemberRepository.FlushJoinsAsync(s);
                group.Cursors[user] = await s.Connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT last_read_seq FROM group_members WHERE gid = @Gid AND user_id = @user", new { g.Gid, user }, s.Transaction));
            }
            // The answer counts from the cursor if it stays, so the events after the lower of the two are needed.
            seq = Math.Min(seq, group.Cursors[user]);
            if (seq < group.LoadedAfter && seq < group.DbLastSeq)
            {
                var earlier = await s.Connection.QueryAsync<(long, string?)>(new CommandDefinition("""
                    SELECT seq, actor FROM group_events WHERE gid = @Gid AND seq > @seq AND seq <= @until AND type = 'Message' ORDER BY seq
                    """, new { g.Gid, seq, until = group.LoadedAfter }, s.Transaction));
                group.Messages = earlier.Concat(group.Messages).ToList();
                group.LoadedAfter = seq;
            }
            return group;
        }

        public void WriteBeforeCommit(CommandScope s)
        {
            if (_writeQueued) return;
            _writeQueued = true;
            s.LastBeforeCommit(() => WriteAsync(s));
        }

        /// <summary>
        /// Every moved cursor, one statement. Runs after the transaction's events were written (their
        /// senders' counts with them), so its values are absolute and take every event into account.
        /// </summary>
        private async Task WriteAsync(CommandScope s)
        {
            var rows = new List<(long Gid, string User, long Seq, long Read, long Own)>();
            foreach (var (gid, group) in _groups.OrderBy(x => x.Key))
            {
                var buffered = Buffered(s, gid);
                foreach (var user in group.Moved.Order(StringComparer.Ordinal))
                {
                    var at = group.Cursors[user];
                    rows.Add((gid, user, at, group.MessagesUpTo(at) + buffered.Count(e => e.Seq <= at),
                        group.OwnAfter(user, at) + buffered.Count(e => e.Seq > at && e.Actor == user)));
                }
            }
            if (rows.Count == 0) return;
            await s.Connection.ExecuteAsync(new CommandDefinition("""
                UPDATE group_members m SET last_read_seq = x.seq, read_msgs = x.read, sent_after_read = x.own
                FROM unnest(@gids, @users, @seqs, @reads, @owns) AS x(gid, user_id, seq, read, own)
                WHERE m.gid = x.gid AND m.user_id = x.user_id AND m.last_read_seq < x.seq
                """, new
            {
                gids = rows.Select(r => r.Gid).ToArray(),
                users = rows.Select(r => r.User).ToArray(),
                seqs = rows.Select(r => r.Seq).ToArray(),
                reads = rows.Select(r => r.Read).ToArray(),
                owns = rows.Select(r => r.Own).ToArray(),
            }, s.Transaction));
        }
    }

    /// <summary>The sender of the group's Message event at seq (null when the app's back end sent it); InvalidArgument when there is none.</summary>
    public static async Task<string?> MessageSenderAsync(NpgsqlConnection c, GroupRow g, long seq, CancellationToken ct)
    {
        var found = await c.QuerySingleOrDefaultAsync<(string Type, string? Actor)?>(new CommandDefinition(
            "SELECT type, actor FROM group_events WHERE gid = @Gid AND seq = @seq", new { g.Gid, seq }, cancellationToken: ct));
        if (found is not { Type: GroupEventDto.MessageType } message)
            throw RealtimeException.Invalid("seq", $"is not a message of group {g.GroupId} (or it is past retention)");
        return message.Actor;
    }

    /// <summary>
    /// Current members who have read the message at seq (its sender counts as read) and who have
    /// not: an index range count of the cursors at or past it, the rest from the group's member count.
    /// </summary>
    public static async Task<ReadCountResult> CountAsync(NpgsqlConnection c, long gid, long seq, string? sender, CancellationToken ct)
    {
        var (read, members) = await c.QuerySingleAsync<(int, int)>(new CommandDefinition("""
            SELECT (SELECT count(*) FROM group_members WHERE gid = @gid AND last_read_seq >= @seq)::int
                 + (SELECT count(*) FROM group_members WHERE gid = @gid AND user_id = @sender AND last_read_seq < @seq)::int,
                   (SELECT member_count FROM groups WHERE gid = @gid)
            """, new { gid, seq, sender = sender ?? "" }, cancellationToken: ct));
        return new ReadCountResult(read, members - read);
    }

    public static async Task<ReadMembersResult> MembersAsync(
        NpgsqlConnection c, long gid, long seq, string? sender, bool read, int offset, int limit, CancellationToken ct)
    {
        var side = read
            ? "gid = @gid AND (last_read_seq >= @seq OR user_id = @sender)"
            : "gid = @gid AND last_read_seq < @seq AND user_id <> @sender";
        var args = new { gid, seq, sender = sender ?? "", offset, limit };
        await using var reader = await c.QueryMultipleAsync(new CommandDefinition($"""
            SELECT count(*)::int FROM group_members WHERE {side};
            SELECT user_id FROM group_members WHERE {side} ORDER BY user_id OFFSET @offset LIMIT @limit;
            """, args, cancellationToken: ct));
        var total = await reader.ReadSingleAsync<int>();
        return new ReadMembersResult(total, (await reader.ReadAsync<string>()).ToList());
    }
}
