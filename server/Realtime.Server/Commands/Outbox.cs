using Dapper;
using Realtime.Server.Callbacks;

namespace Realtime.Server.Commands;

/// <summary>Writes the after-callbacks and offline pushes of a transaction's commands in that transaction.</summary>
internal static class Outbox
{
    /// <summary>Answers how many rows were queued, so the runner can wake the worker after commit.</summary>
    public static async Task<int> WriteAsync(CommandScope s)
    {
        var items = s.Effects.Outbox.ToList();
        // One push row per command for all recipients with no terminal online: O(1) rows.
        var written = s.Effects.SystemMessages.Select(m => (m.UserId, m.Written!)).ToList();
        if (await OfflinePush.ForSystemMessagesAsync(s.Connection, s.Transaction, s.AppId, s.App, written, s.Now) is { } push)
            items.Add(push);
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
