using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Errors;
using Realtime.Server.Operations;

namespace Realtime.Server.Hubs;

/// <summary>Counts every hub command by method and outcome, and times it.</summary>
public sealed class HubMetricsFilter(RealtimeMetrics metrics) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "ok";
        try
        {
            return await next(context);
        }
        catch (Exception e)
        {
            outcome = ErrorMapping.ToRealtime(e).Code.ToString();
            throw;
        }
        finally
        {
            var method = new KeyValuePair<string, object?>("method", context.HubMethodName);
            metrics.Commands.Add(1, method, new("outcome", outcome));
            metrics.CommandDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, method);
        }
    }
}
