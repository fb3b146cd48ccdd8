using System.Text.Json;
using Dapper;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Delivery;

namespace Realtime.Server.Callbacks;

/// <summary>
/// Who gets an offline push (SPEC §7): a system message's recipient with no terminal online,
/// and, for a group message, each member who was in the group at the message, wants
/// notifications, is not its sender and has no terminal online. Presence is read from the
/// cluster's terminals table, so a dead node's terminals count as offline.
/// </summary>
public static class OfflinePush
{
    /// <summary>The kinds of push rows, and of the bodies sent to the app's push gateway.</summary>
    public const string SystemMessageKind = "SystemMessage";
    public const string GroupMessageKind = "GroupMessage";

    /// <summary>
    /// A group message's push row, written with the message; its recipients are chosen when it
    /// is delivered (<see cref="GroupMessageRecipientsAsync"/>), so one row serves any group size.
    /// </summary>
    public static OutboxItem? ForGroupEvent(AppSettings app, long gid, GroupEventDto evt) =>
        evt.Type == GroupEventDto.MessageType && Wanted(app)
            ? OutboxItem.Push(new { Kind = GroupMessageKind, Gid = gid, Message = evt })
            : null;

    /// <summary>One push row for all the command's system messages whose recipients are offline now, or null.</summary>
    public static async Task<OutboxItem?> ForSystemMessagesAsync(
        NpgsqlConnection c, NpgsqlTransaction tx, string appId, AppSettings app, IReadOnlyList<(string User, SystemMessageDto Message)> messages, DateTime now)
    {
        if (!Wanted(app) || messages.Count == 0) return null;
        var recipients = messages.Select(m => m.User).Distinct(StringComparer.Ordinal).ToArray();
        var offline = (await c.QueryAsync<string>(new CommandDefinition($"""
            SELECT u FROM unnest(@recipients) AS u WHERE NOT {string.Format(Presence.OnlineCondition, "u")}
            """, new { AppId = appId, recipients, alive = Presence.AliveSince(now) }, tx))).ToHashSet(StringComparer.Ordinal);
        var pushed = messages.Where(m => offline.Contains(m.User)).Select(m => new { m.User, m.Message }).ToList();
        return pushed.Count == 0 ? null : OutboxItem.Push(new { Kind = SystemMessageKind, Items = pushed });
    }

    /// <summary>Whether the app takes offline pushes: through its gateway, or by Web Push (WebPush/).</summary>
    public static bool Wanted(AppSettings app) => !string.IsNullOrEmpty(app.PushUrl) || app.WebPush.Enabled;

    public static async Task<IReadOnlyList<string>> GroupMessageRecipientsAsync(
        NpgsqlConnection c, string appId, long gid, JsonElement message, DateTime now, CancellationToken ct) =>
        (await c.QueryAsync<string>(new CommandDefinition($"""
            SELECT m.user_id FROM group_members m
            WHERE m.gid = @gid AND m.join_seq < @seq AND m.msg_recv_option = 'ReceiveAndNotify' AND m.user_id <> @sender
              AND NOT {string.Format(Presence.OnlineCondition, "m.user_id")}
            ORDER BY m.user_id
            """, new
        {
            AppId = appId,
            gid,
            seq = message.GetProperty("seq").GetInt64(),
            sender = message.TryGetProperty("actor", out var a) ? a.GetString() ?? "" : "",
            alive = Presence.AliveSince(now),
        }, cancellationToken: ct))).ToList();
}
