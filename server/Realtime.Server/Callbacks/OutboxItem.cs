using System.Text.Json;
using Realtime.Server.Apps;

namespace Realtime.Server.Callbacks;

/// <summary>A row for the outbox: an after-callback or an offline push, written with the command.</summary>
public sealed record OutboxItem(string Kind, Guid DeliveryId, string Payload)
{
    public const string CallbackKind = "Callback";
    public const string PushKind = "Push";

    public static OutboxItem Push(object payload) => new(PushKind, Guid.CreateVersion7(), JsonSerializer.Serialize(payload, RealtimeJson.Options));

    /// <summary>An after-callback for the app's callback URL, or null when the app has none.</summary>
    public static OutboxItem? Callback(string appId, AppSettings app, string command, DateTimeOffset at, Dictionary<string, object?> payload)
    {
        if (string.IsNullOrEmpty(app.CallbackUrl)) return null;
        var deliveryId = Guid.CreateVersion7();
        var body = BeforeCallbacks.Envelope(appId, command, deliveryId, at, payload);
        return new OutboxItem(CallbackKind, deliveryId, JsonSerializer.Serialize(body, BeforeCallbacks.Json));
    }
}
