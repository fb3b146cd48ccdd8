using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Realtime.Server.Callbacks;
using Realtime.Server.Data;

namespace Realtime.Server.WebPush;

/// <summary>
/// Turns one offline push (an outbox row of kind Push, whose recipients are known when it is delivered) into one
/// outbox row of kind WebPush per subscription of those recipients, in one statement. Each row's delivery id is
/// derived from the push's and the subscription's, so a push delivered twice (a retry of its gateway POST, a
/// crash after this step) queues each web push once. Each then has its own retries (<see cref="WebPushSender"/>).
/// </summary>
public sealed class WebPushFanOut(Db db, OutboxSignal signal, TimeProvider clock)
{
    public const string Kind = "WebPush";

    /// <summary>Queues the web pushes of a gateway body; answers how many rows were new.</summary>
    public async Task<int> QueueAsync(string appId, Apps.AppSettings app, Guid pushDeliveryId, IReadOnlyDictionary<string, object?> gatewayBody, CancellationToken ct)
    {
        var node = JsonSerializer.SerializeToNode(gatewayBody, RealtimeJson.Options)!.AsObject();
        var kind = node["kind"]!.GetValue<string>();
        string[] users = node["users"] is JsonArray list
            ? [.. list.Select(u => u!.GetValue<string>())]
            : [.. (node["items"] as JsonArray ?? []).Select(i => i!["user"]!.GetValue<string>()).Distinct(StringComparer.Ordinal)];
        if (users.Length == 0) return 0;

        await using var c = await db.OpenAsync(ct);
        var subscribed = (await c.QueryAsync<string>(new CommandDefinition(
            "SELECT DISTINCT user_id FROM push_subscriptions WHERE app_id = @appId AND user_id = ANY(@users)",
            new { appId, users }, cancellationToken: ct))).ToArray();
        if (subscribed.Length == 0) return 0;

        var bodies = subscribed.Select(u => WebPushPayload.For(node, u)).ToArray();
        var now = clock.GetUtcNow().UtcDateTime;
        var queued = await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO outbox (app_id, kind, delivery_id, payload, next_attempt_at, created_at)
            SELECT @appId, @Kind, md5(@pushDeliveryId::text || ':' || s.id)::uuid,
                   jsonb_build_object('sub', s.id, 'user', s.user_id, 'urgency', @urgency, 'ttl', @ttl, 'at', @now, 'body', b.body),
                   @now, @now
            FROM unnest(@subscribed, @bodies) AS b(user_id, body)
            JOIN push_subscriptions s ON s.app_id = @appId AND s.user_id = b.user_id
            ON CONFLICT (delivery_id) DO NOTHING
            """, new
        {
            appId,
            Kind,
            pushDeliveryId,
            urgency = WebPushPayload.UrgencyOf(kind).ToString(),
            ttl = (int)app.WebPush.Ttl.TotalSeconds,
            now,
            subscribed,
            bodies,
        }, cancellationToken: ct));
        if (queued > 0) signal.Notify();
        return queued;
    }
}
