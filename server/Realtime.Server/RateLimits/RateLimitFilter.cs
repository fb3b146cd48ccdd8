using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Auth;

namespace Realtime.Server.RateLimits;

/// <summary>Spends from the caller's bucket of the method's class before a hub method runs (inside HubErrorFilter).</summary>
public sealed class RateLimitFilter(RealtimeRateLimiter limiter) : IHubFilter
{
    /// <summary>Methods that only read; every hub method not named here or below is a write.</summary>
    private static readonly HashSet<string> Reads = new(StringComparer.OrdinalIgnoreCase)
    {
        "GetGroups", "SearchGroup", "GetJoinedGroups", "GetPendingItems", "GetMembers", "GetBlocklist", "GetAllowlist", "Sync", "WhoAmI",
        "GetGroupAttributes", "GetGroupCounters", "GetReadCount", "GetReadMembers", "GetOnlineMembers",
        "GetMessages", "GetInviteLinks", "SearchGroups", "SearchMembers", "GetWebPushKey",
    };

    public static RateClass ClassOf(string method) =>
        method.Equals("SendMessage", StringComparison.OrdinalIgnoreCase) ? RateClass.Messages
        : method.Equals("CreateGroup", StringComparison.OrdinalIgnoreCase) ? RateClass.Creates
        : Reads.Contains(method) ? RateClass.Reads
        : RateClass.Writes;

    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var caller = Caller.From(context.Context.User!);
        limiter.Spend(caller.AppId, caller.UserId, ClassOf(context.HubMethodName));
        return next(context);
    }
}
