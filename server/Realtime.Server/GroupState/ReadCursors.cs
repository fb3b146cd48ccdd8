using Dapper;
using Npgsql;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

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
    /// Moves the user's cursor to <paramref name="seq"/> (≤ the group's last seq, the caller holds
    /// the group's lock) if that is forward: one statement, one member row written. The messages
    /// at or before the new cursor are counted from the group's total minus those after it, which
    /// is only the events past the cursor (none when it moves to the end, the usual case). This
    /// transaction's own events are not written yet (NotificationLog buffers them): they are added
    /// from memory, and the sender's own ones are counted when they are written.
    /// </summary>
    public static async Task<Cursor> MoveAsync(CommandScope s, GroupRow g, string user, long seq)
    {
        var buffered = s.Effects.Events.Where(e => e.Gid == g.Gid && e.Type == GroupEventDto.MessageType).ToList();
        var bufferedUpTo = buffered.Count(e => e.Seq <= seq);
        var row = await s.Connection.QuerySingleAsync<(long LastReadSeq, long ReadMsgs, long SentAfterRead, long MsgCount, bool Moved)>(new CommandDefinition("""
            WITH g AS (SELECT msg_count FROM groups WHERE gid = @Gid),
            later AS (
                SELECT count(*) AS n, count(*) FILTER (WHERE actor = @user) AS own
                FROM group_events WHERE gid = @Gid AND seq > @seq AND type = 'Message'),
            moved AS (
                UPDATE group_members m SET last_read_seq = @seq,
                    read_msgs = (SELECT msg_count FROM g) - (SELECT n FROM later) + @bufferedUpTo,
                    sent_after_read = CASE WHEN m.last_sent_seq <= @seq THEN 0 ELSE (SELECT own FROM later) END
                WHERE m.gid = @Gid AND m.user_id = @user AND m.last_read_seq < @seq
                RETURNING m.last_read_seq, m.read_msgs, m.sent_after_read)
            SELECT last_read_seq, read_msgs, sent_after_read, (SELECT msg_count FROM g), true FROM moved
            UNION ALL
            SELECT last_read_seq, read_msgs, sent_after_read, (SELECT msg_count FROM g), false FROM group_members
            WHERE gid = @Gid AND user_id = @user AND NOT EXISTS (SELECT 1 FROM moved)
            """, new { g.Gid, user, seq, bufferedUpTo }, s.Transaction));
        // Buffered messages: all count toward the total; the user's own after the cursor are not unread.
        var ownBufferedAfter = buffered.Count(e => e.Actor == user && e.Seq > row.LastReadSeq);
        var unread = GroupStateRules.Unread(row.MsgCount + buffered.Count, row.ReadMsgs, row.SentAfterRead + ownBufferedAfter);
        return new Cursor(row.LastReadSeq, unread, row.Moved);
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
