using System.Globalization;
using System.Threading.RateLimiting;
using Realtime.Server.Apps;
using Realtime.Server.Errors;

namespace Realtime.Server.RateLimits;

/// <summary>
/// Token buckets per (app, caller, class), from System.Threading.RateLimiting's partitioned limiter,
/// which also drops buckets that have been full (idle) for a while. Per node: a user spread over n
/// nodes may spend up to n times the rate, which bounds each node's cost, the point of the limit.
/// </summary>
public sealed class RealtimeRateLimiter(AppRegistry apps) : IDisposable
{
    private readonly PartitionedRateLimiter<(string App, string Caller, RateClass Class)> _buckets =
        PartitionedRateLimiter.Create<(string App, string Caller, RateClass Class), (string, string, RateClass)>(key =>
        {
            var (perSecond, burst) = Rate(apps.Get(key.App).RateLimits, key.Class);
            if (perSecond <= 0) return RateLimitPartition.GetNoLimiter(key);
            // Refill every 100 ms (or as slowly as one token needs), so a burst drains and refills smoothly.
            var period = TimeSpan.FromSeconds(Math.Max(0.1, 1 / perSecond));
            return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, burst),
                TokensPerPeriod = Math.Max(1, (int)Math.Round(perSecond * period.TotalSeconds)),
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });

    /// <summary>Spends one token of the caller's bucket, or throws RateLimited with how long to wait.</summary>
    public void Spend(string appId, string caller, RateClass rateClass)
    {
        using var lease = _buckets.AttemptAcquire((appId, caller, rateClass));
        if (lease.IsAcquired) return;
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        throw new RealtimeException(ErrorCode.RateLimited, string.Create(CultureInfo.InvariantCulture,
            $"too many {Describe(rateClass)}; retry after {Math.Ceiling(wait.TotalMilliseconds):0} ms")) { RetryAfter = wait };
    }

    private static (double PerSecond, int Burst) Rate(RateLimitSettings s, RateClass c) => c switch
    {
        RateClass.Messages => (s.MessagesPerSecond, s.MessagesBurst),
        RateClass.Creates => (s.CreatesPerSecond, s.CreatesBurst),
        RateClass.Writes => (s.WritesPerSecond, s.WritesBurst),
        RateClass.Reads => (s.ReadsPerSecond, s.ReadsBurst),
        _ => (s.RestPerSecond, s.RestBurst),
    };

    private static string Describe(RateClass c) => c switch
    {
        RateClass.Messages => "messages",
        RateClass.Creates => "groups created",
        RateClass.Writes => "commands",
        RateClass.Reads => "reads",
        _ => "admin API calls for this app",
    };

    public void Dispose() => _buckets.Dispose();
}
