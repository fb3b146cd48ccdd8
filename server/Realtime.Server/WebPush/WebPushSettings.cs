namespace Realtime.Server.WebPush;

/// <summary>One app's Web Push settings (section Realtime:Apps:{appId}:WebPush); `vapid-keys` prints a new pair.</summary>
public sealed class WebPushAppSettings
{
    /// <summary>The VAPID public key: an uncompressed P-256 point (65 bytes), base64url. Browsers subscribe with it.</summary>
    public string? PublicKey { get; set; }

    /// <summary>The VAPID private key: the P-256 scalar (32 bytes), base64url.</summary>
    public string? PrivateKey { get; set; }

    /// <summary>Who push services may contact about this sender (the JWT's `sub`): a mailto: or https: URL.</summary>
    public string? Subject { get; set; }

    /// <summary>How long a push service keeps an undelivered push (the `TTL` header); retries send what is left of it.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(24);

    public bool Enabled => !string.IsNullOrEmpty(PublicKey) && !string.IsNullOrEmpty(PrivateKey);
}

/// <summary>Server-wide Web Push settings (section Realtime:WebPush).</summary>
public sealed class WebPushOptions
{
    /// <summary>
    /// Lets subscriptions name plain-http endpoints on a loopback address (127.0.0.0/8, [::1]), and lets pushes
    /// connect to loopback: for tests and local development only. Off, an endpoint must be https and every
    /// address it resolves to must be public (no loopback, private, link-local or otherwise reserved range).
    /// </summary>
    public bool AllowLoopbackHttp { get; set; }

    /// <summary>When not empty, endpoint hosts must end with one of these (e.g. ".googleapis.com", ".push.apple.com").</summary>
    public List<string> AllowedHostSuffixes { get; set; } = [];

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
