using System.Globalization;
using System.Threading.RateLimiting;
using Realtime.Server.Apps;
using Realtime.Server.Errors;

namespace Realtime.Server.InviteLinks;

/// <summary>
/// Limits failed invite-link lookups per user (SPEC §9: codes cannot be probed). Each
/// InviteLinkInvalid answer spends a token of the user's bucket (RateLimits:InviteLinkFailures…);
/// with none left, every lookup of that user answers RateLimited before the code is looked at,
/// so a valid code and an invalid one cannot be told apart by the limit either. Per node, like the
/// other rate limits.
/// </summary>
public sealed class InviteLinkProbeLimiter(AppRegistry apps) : IDisposable
{
    private readonly PartitionedRateLimiter<(string App, string User)> _failures =
        PartitionedRateLimiter.Create<(string App, string User), (string, string)>(key =>
        {
            var settings = apps.Get(key.App).RateLimits;
            if (settings.InviteLinkFailuresPerSecond <= 0) return RateLimitPartition.GetNoLimiter(key);
            var period = TimeSpan.FromSeconds(Math.Max(0.1, 1 / settings.InviteLinkFailuresPerSecond));
            return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, settings.InviteLinkFailuresBurst),
                TokensPerPeriod = Math.Max(1, (int)Math.Round(settings.InviteLinkFailuresPerSecond * period.TotalSeconds)),
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });

    /// <summary>RateLimited when the user has no failure left to spend; spends nothing.</summary>
    public void ThrowIfExhausted(string appId, string userId)
    {
        // A whole failure must be left: the bucket refills in fractions of a token, and asking for zero
        // permits succeeds on any fraction (a limited user got one more lookup that way, intermittently).
        if (_failures.GetStatistics((appId, userId)) is not { CurrentAvailablePermits: < 1 }) return;
        var wait = Period(appId);
        throw new RealtimeException(ErrorCode.RateLimited, string.Create(CultureInfo.InvariantCulture,
            $"too many invalid invite links; retry after {Math.Ceiling(wait.TotalMilliseconds):0} ms")) { RetryAfter = wait };
    }

    /// <summary>A lookup failed: one token less.</summary>
    public void Failed(string appId, string userId)
    {
        using var _ = _failures.AttemptAcquire((appId, userId), 1);
    }

    private TimeSpan Period(string appId) =>
        TimeSpan.FromSeconds(Math.Max(0.1, 1 / Math.Max(1e-9, apps.Get(appId).RateLimits.InviteLinkFailuresPerSecond)));

    public void Dispose() => _failures.Dispose();
}
