namespace Realtime.Server.WebPush;

/// <summary>A browser's PushSubscription (its toJSON() less expirationTime) with the optional requestId of SPEC §4.</summary>
public sealed record RegisterPushSubscriptionRequest(string? Endpoint, PushSubscriptionKeys? Keys, string? RequestId = null);

/// <summary>The subscription's keys: the browser's P-256 public key and its 16-byte auth secret, base64url.</summary>
public sealed record PushSubscriptionKeys(string? P256dh, string? Auth);

public sealed record UnregisterPushSubscriptionRequest(string? Endpoint, string? RequestId = null);

/// <summary>The endpoint concerned, whether the call changed anything, and how many subscriptions the caller has now.</summary>
public sealed record PushSubscriptionResult(string Endpoint, bool Changed, int Subscriptions);

/// <summary>The app's VAPID public key (absent: Web Push is not configured): a browser subscribes with it as applicationServerKey.</summary>
public sealed record WebPushKeyResult(string? PublicKey);
