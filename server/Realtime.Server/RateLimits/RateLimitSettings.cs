namespace Realtime.Server.RateLimits;

/// <summary>
/// An app's rate limits (section Realtime:Apps:{appId}:RateLimits). Each class is a token bucket per
/// user (REST: per app) on each node: <c>PerSecond</c> tokens flow in, up to <c>Burst</c> saved for a
/// quiet caller to spend at once. 0 per second means no limit.
/// </summary>
public sealed class RateLimitSettings
{
    /// <summary>SendMessage.</summary>
    public double MessagesPerSecond { get; set; } = 20;
    public int MessagesBurst { get; set; } = 50;

    /// <summary>CreateGroup: one user must not use up the app's daily quota for everyone.</summary>
    public double CreatesPerSecond { get; set; } = 0.5;
    public int CreatesBurst { get; set; } = 20;

    /// <summary>Every other command that changes something.</summary>
    public double WritesPerSecond { get; set; } = 20;
    public int WritesBurst { get; set; } = 50;

    /// <summary>Reads (Get…, Search…, Sync, WhoAmI).</summary>
    public double ReadsPerSecond { get; set; } = 50;
    public int ReadsBurst { get; set; } = 100;

    /// <summary>Terminals one user may hold at once (all nodes); a new one closes the oldest beyond it. 0: no limit.</summary>
    public int TerminalsPerUser { get; set; } = 10;

    /// <summary>Invite-link lookups that failed (InviteLinkInvalid), per user: beyond them JoinByInviteLink answers RateLimited.</summary>
    public double InviteLinkFailuresPerSecond { get; set; } = 0.2;
    public int InviteLinkFailuresBurst { get; set; } = 10;

    /// <summary>Admin REST calls of the whole app.</summary>
    public double RestPerSecond { get; set; } = 500;
    public int RestBurst { get; set; } = 1000;
}

/// <summary>What a call spends from: one bucket per class.</summary>
public enum RateClass { Messages, Creates, Writes, Reads, Rest }
