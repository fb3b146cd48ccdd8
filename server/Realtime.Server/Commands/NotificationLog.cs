using System.Text.Json;
using Dapper;
using Realtime.Server.Delivery;

namespace Realtime.Server.Commands;

/// <summary>Writes the log that Sync reads and pushes announce (DESIGN: the log is the truth).</summary>
internal static class NotificationLog
{
    /// <summary>
    /// Appends an event: its seq is taken now (the caller holds the group row's lock, so
    /// last_seq + 1 is gapless and ours), its row is written with the transaction's others by
    /// <see cref="FlushGroupEventsAsync"/>.
    /// </summary>
    public static GroupEventDto AppendGroupEvent(CommandScope scope, IGroupLog group, string type, string? actor, object data)
    {
        var json = JsonSerializer.SerializeToElement(data, RealtimeJson.Options);
        var seq = ++group.LastSeq;
        var id = Guid.CreateVersion7();
        scope.Effects.Events.Add(new BufferedEvent(group.Gid, seq, id, type, actor, json.GetRawText()));
        return new GroupEventDto(group.GroupId, seq, id, type, actor, scope.Now, json);
    }

    /// <summary>Replaces the data of an event this transaction appended (a MembersJoined that later joins extend).</summary>
    public static GroupEventDto RewriteGroupEvent(CommandScope scope, GroupEventDto evt, long gid, object data)
    {
        var json = JsonSerializer.SerializeToElement(data, RealtimeJson.Options);
        var events = scope.Effects.Events;
        var i = events.FindLastIndex(e => e.Gid == gid && e.Seq == evt.Seq);
        events[i] = events[i] with { Data = json.GetRawText() };
        return evt with { Data = json };
    }

    /// <summary>
    /// Writes the transaction's group events, each group's last_seq (and last_message_at when it
    /// got messages), and the senders' last_message_at: one round trip, however many commands.
    /// </summary>
    public static async Task FlushGroupEventsAsync(CommandScope scope)
    {
        var events = scope.Effects.Events;
        if (events.Count == 0) return;
        var groups = events.GroupBy(e => e.Gid).Select(g => (Gid: g.Key, LastSeq: g.Max(e => e.Seq),
            Messages: g.Count(e => e.Type == GroupEventDto.MessageType))).OrderBy(g => g.Gid).ToArray();
        var senders = scope.Effects.Senders.Distinct().ToArray();
        // Each sender's messages of this transaction (unread counts, GroupState/ReadCursors).
        var sent = events.Where(e => e.Type == GroupEventDto.MessageType && e.Actor is not null && senders.Contains((e.Gid, e.Actor))).ToArray();
        await scope.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO group_events (gid, seq, id, type, actor, at, data)
            SELECT g, s, i, t, a, @Now, d::jsonb FROM unnest(@gids, @seqs, @ids, @types, @actors, @datas) AS x(g, s, i, t, a, d);
            UPDATE groups SET last_seq = x.last_seq,
                last_message_at = CASE WHEN x.messages > 0 THEN @Now ELSE groups.last_message_at END,
                msg_count = groups.msg_count + x.messages
            FROM unnest(@groupGids, @lastSeqs, @messages) AS x(gid, last_seq, messages)
            WHERE groups.gid = x.gid;
            UPDATE group_members m SET last_message_at = @Now,
                sent_after_read = m.sent_after_read + (SELECT count(*) FROM unnest(@sentGids, @sentBy, @sentSeqs) AS y(gid, user_id, seq)
                                                       WHERE y.gid = m.gid AND y.user_id = m.user_id AND y.seq > m.last_read_seq),
                last_sent_seq = GREATEST(m.last_sent_seq, (SELECT max(y.seq) FROM unnest(@sentGids, @sentBy, @sentSeqs) AS y(gid, user_id, seq)
                                                           WHERE y.gid = m.gid AND y.user_id = m.user_id))
            FROM unnest(@senderGids, @senderIds) AS x(gid, user_id)
            WHERE m.gid = x.gid AND m.user_id = x.user_id;
            """, new
        {
            scope.Now,
            gids = events.Select(e => e.Gid).ToArray(),
            seqs = events.Select(e => e.Seq).ToArray(),
            ids = events.Select(e => e.Id).ToArray(),
            types = events.Select(e => e.Type).ToArray(),
            actors = events.Select(e => e.Actor).ToArray(),
            datas = events.Select(e => e.Data).ToArray(),
            groupGids = groups.Select(g => g.Gid).ToArray(),
            lastSeqs = groups.Select(g => g.LastSeq).ToArray(),
            messages = groups.Select(g => g.Messages).ToArray(),
            sentGids = sent.Select(e => e.Gid).ToArray(),
            sentBy = sent.Select(e => e.Actor).ToArray(),
            sentSeqs = sent.Select(e => e.Seq).ToArray(),
            senderGids = senders.Select(x => x.Gid).ToArray(),
            senderIds = senders.Select(x => x.UserId).ToArray(),
        }, scope.Transaction));
    }

    /// <summary>
    /// Writes the queued system messages. Every recipient's seq row is upserted and locked in
    /// one statement in user-id order: one lock order for all commands.
    /// </summary>
    public static async Task FlushSystemMessagesAsync(CommandScope scope)
    {
        var pending = scope.Effects.SystemMessages;
        if (pending.Count == 0) return;

        var counts = pending.GroupBy(m => m.UserId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (User: g.Key, Count: g.Count()))
            .ToArray();
        var lastSeqs = (await scope.Connection.QueryAsync<(string UserId, long LastSeq)>(new CommandDefinition("""
            INSERT INTO users (app_id, user_id, last_seq)
            SELECT @AppId, u.user_id, u.n FROM unnest(@users, @counts) AS u(user_id, n) ORDER BY u.user_id
            ON CONFLICT (app_id, user_id) DO UPDATE SET last_seq = users.last_seq + EXCLUDED.last_seq
            RETURNING user_id, last_seq
            """, new { scope.AppId, users = counts.Select(c => c.User).ToArray(), counts = counts.Select(c => c.Count).ToArray() },
            scope.Transaction))).ToDictionary(r => r.UserId, r => r.LastSeq, StringComparer.Ordinal);

        // Hand out each user's new seqs in the order the command queued the messages.
        var next = counts.ToDictionary(c => c.User, c => lastSeqs[c.User] - c.Count + 1, StringComparer.Ordinal);
        foreach (var m in pending)
        {
            var seq = next[m.UserId]++;
            m.Written = new SystemMessageDto(seq, m.Id, m.Type, m.GroupId, m.Actor, scope.Now, m.Data);
        }

        await scope.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO system_messages (app_id, user_id, seq, id, type, group_id, actor, at, data)
            SELECT @AppId, u, s, i, t, g, a, @Now, d::jsonb
            FROM unnest(@users, @seqs, @ids, @types, @groups, @actors, @datas) AS x(u, s, i, t, g, a, d)
            """, new
        {
            scope.AppId,
            scope.Now,
            users = pending.Select(m => m.UserId).ToArray(),
            seqs = pending.Select(m => m.Written!.Seq).ToArray(),
            ids = pending.Select(m => m.Id).ToArray(),
            types = pending.Select(m => m.Type).ToArray(),
            groups = pending.Select(m => m.GroupId).ToArray(),
            actors = pending.Select(m => m.Actor).ToArray(),
            datas = pending.Select(m => m.Data.GetRawText()).ToArray(),
        }, scope.Transaction));
    }
}
