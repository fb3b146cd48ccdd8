using System.Text.Json;
using Dapper;
using Realtime.Server.Delivery;

namespace Realtime.Server.Callbacks;

/// <summary>Writes a command's after-callbacks and offline pushes in its own transaction.</summary>
internal static class Outbox
{
    /// <summary>Answers how many rows were queued, so the runner can wake the worker after commit.</summary>
    public static async Task<int> WriteAsync(CommandScope s)
    {
        var items = s.Outbox.ToList();
        if (!string.IsNullOrEmpty(s.App.PushUrl) && s.SystemMessages.Count > 0)
        {
            // One push row per command for all recipients with no terminal online: O(1) rows.
            var recipients = s.SystemMessages.Select(m => m.UserId).Distinct(StringComparer.Ordinal).ToArray();
            var offline = (await s.Connection.QueryAsync<string>(new CommandDefinition($"""
                SELECT u FROM unnest(@recipients) AS u WHERE NOT {string.Format(Presence.OnlineCondition, "u")}
                """, new { s.AppId, recipients, alive = Presence.AliveSince(s.Now) }, s.Transaction))).ToHashSet(StringComparer.Ordinal);
            var pushed = s.SystemMessages.Where(m => offline.Contains(m.UserId))
                .Select(m => new { User = m.UserId, Message = m.Written }).ToList();
            if (pushed.Count > 0) items.Add(OutboxItem.Push(new { Kind = OutboxWorker.SystemMessagePush, Items = pushed }));
        }
        if (items.Count == 0) return 0;

        await s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO outbox (app_id, kind, delivery_id, payload, next_attempt_at, created_at)
            SELECT @AppId, k, d, p::jsonb, @Now, @Now FROM unnest(@kinds, @ids, @payloads) AS x(k, d, p)
            """, new
        {
            s.AppId,
            s.Now,
            kinds = items.Select(i => i.Kind).ToArray(),
            ids = items.Select(i => i.DeliveryId).ToArray(),
            payloads = items.Select(i => i.Payload).ToArray(),
        }, s.Transaction));
        return items.Count;
    }
}
