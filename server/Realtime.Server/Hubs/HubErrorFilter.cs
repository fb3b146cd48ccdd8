using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Errors;

namespace Realtime.Server.Hubs;

/// <summary>Turns every failure of a hub method into HubException("[Code] message").</summary>
public sealed partial class HubErrorFilter(ILogger<HubErrorFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(context);
        }
        catch (RealtimeException e)
        {
            throw new HubException(e.HubMessage);
        }
        catch (HubException)
        {
            throw;
        }
        catch (Exception e)
        {
            var mapped = ErrorMapping.ToRealtime(e);
            LogFailed(e, context.HubMethodName);
            throw new HubException(mapped.HubMessage);
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "Hub method {Method} failed")]
    private partial void LogFailed(Exception e, string method);
}
