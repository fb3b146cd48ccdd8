using System.Text.Json;
using Dapper;
using Realtime.Server.Delivery;

namespace Realtime.Server.Commands;

/// <summary>Writes the log that Sync reads and pushes announce (DESIGN: the log is the truth).</summary>
internal static class NotificationLog
{
    public static async Task<GroupEventDto> AppendGroupEventAsync(CommandScope scope, IGroupLog group, string type, string? actor, object data)
    {
        var json = JsonSerializer.SerializeToElement(data, RealtimeJson.Options);
        var id = Guid.CreateVersion7();
        // The caller holds the group row's lock, so last_seq + 1 is gapless and ours. One round
        // trip: a message's seq and row; `Message` events also stamp the group's last_message_at.
        var seq = await scope.Connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            WITH next AS (
                UPDATE groups SET last_seq = last_seq + 1,
                    last_message_at = CASE WHEN @isMessage THEN @at ELSE last_message_at END
                WHERE gid = @Gid RETURNING last_seq)
            INSERT INTO group_events (gid, seq, id, type, actor, at, data)
            SELECT @Gid, next.last_seq, @id, @type, @actor, @at, @data::jsonb FROM next
            RETURNING seq
            """, new { group.Gid, id, type, actor, at = scope.Now, data = json.GetRawText(), isMessage = type == GroupEventDto.MessageType },
            scope.Transaction));
        group.LastSeq = seq;
        return new GroupEventDto(group.GroupId, seq, id, type, actor, scope.Now, json);
    }

    /// <summary>Replaces the data of an event this transaction wrote (a MembersJoined that later joins extend).</summary>
    public static async Task<GroupEventDto> RewriteGroupEventAsync(CommandScope scope, IGroupLog group, GroupEventDto evt, object data)
    {
        var json = JsonSerializer.SerializeToElement(data, RealtimeJson.Options);
        await scope.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE group_events SET data = @data::jsonb WHERE gid = @Gid AND seq = @Seq
            """, new { group.Gid, evt.Seq, data = json.GetRawText() }, scope.Transaction));
        return evt with { Data = json };
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
