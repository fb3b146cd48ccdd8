using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Realtime.Server.WebPush;

namespace Realtime.Server.Hubs;

public sealed partial class GroupHub
{
    /// <summary>Registers the caller's browser for Web Push (SPEC §7): `{ endpoint, keys: { p256dh, auth }, requestId? }`.</summary>
    public Task<PushSubscriptionResult> RegisterPushSubscription(JsonElement request, [FromServices] PushSubscriptions push) =>
        push.RegisterAsync(Actor, RealtimeJson.Bind<RegisterPushSubscriptionRequest>(request), Context.ConnectionAborted);

    /// <summary>Removes one of the caller's subscriptions: `{ endpoint, requestId? }`.</summary>
    public Task<PushSubscriptionResult> UnregisterPushSubscription(JsonElement request, [FromServices] PushSubscriptions push) =>
        push.UnregisterAsync(Actor, RealtimeJson.Bind<UnregisterPushSubscriptionRequest>(request), Context.ConnectionAborted);

    /// <summary>The app's VAPID public key, which a browser subscribes with (applicationServerKey); null when Web Push is off.</summary>
    public WebPushKeyResult GetWebPushKey([FromServices] Apps.AppRegistry apps) => new(
        apps.Get(Caller.AppId).WebPush is { Enabled: true } settings ? settings.PublicKey : null);
}
