namespace Realtime.Server.Apps;

/// <summary>One tenant's configuration (section Realtime:Apps:{appId}).</summary>
public sealed class AppSettings
{
    public string Secret { get; set; } = "";
    public string? CallbackUrl { get; set; }
    public string? PushUrl { get; set; }
    /// <summary>Before-callback timeout; on timeout or error the command goes on unless CallbackFailClosed.</summary>
    public TimeSpan CallbackTimeout { get; set; } = TimeSpan.FromSeconds(2);
    public bool CallbackFailClosed { get; set; }
    /// <summary>Groups created minus groups dissolved per UTC day.</summary>
    public int DailyGroupQuota { get; set; } = 10_000;
    public long TotalGroupQuota { get; set; } = 100_000;
    public RateLimits.RateLimitSettings RateLimits { get; set; } = new();
    /// <summary>Web Push straight to browsers (SPEC §7): the app's VAPID key pair; off while unset.</summary>
    public WebPush.WebPushAppSettings WebPush { get; set; } = new();
}

/// <summary>Server-wide settings (section Realtime).</summary>
public sealed class RealtimeOptions
{
    /// <summary>Unique per running node (presence rows are keyed by it).</summary>
    public string NodeId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";
    public Dictionary<string, AppSettings> Apps { get; set; } = new(StringComparer.Ordinal);
    public TimeSpan RetentionAge { get; set; } = TimeSpan.FromDays(7);
    public int RetentionEventsPerGroup { get; set; } = 10_000;
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// Daily log partitions kept created ahead of today (at start-up and by every retention round,
    /// every RetentionInterval). Few: a read by (group, seq) looks into every partition, empty or not.
    /// </summary>
    public int LogPartitionsAhead { get; set; } = 2;
    public int JoinedGroupLimit { get; set; } = 1000;
    /// <summary>
    /// A node's lease (SPEC §9 online members): renewed every third of it; a node that stops
    /// renewing (crash included) has its terminals counted offline once it runs out.
    /// </summary>
    public TimeSpan NodeLease { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>At most this many items in one Sync answer, across all its streams.</summary>
    public int SyncMaxItems { get; set; } = 5000;
}
