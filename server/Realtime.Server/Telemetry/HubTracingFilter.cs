using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Auth;
using Realtime.Server.Errors;

namespace Realtime.Server.Telemetry;

/// <summary>
/// One span per hub invocation, named like GroupHub/SendMessage, tagged with the app, the method and on failure
/// the error code; never arguments, results or tokens (they carry users' content).
/// </summary>
public sealed class HubTracingFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(
        HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (!RealtimeTracing.Source.HasListeners()) return await next(context);

        // The connection's request span lasts as long as the connection: each command starts a trace of its own
        // (StartActivity would take Activity.Current as parent), linked to the connection's.
        var connection = context.Context.GetHttpContext()?.Features.Get<IHttpActivityFeature>()?.Activity;
        Activity.Current = null;
        var hub = context.Hub.GetType().Name;
        using var activity = RealtimeTracing.Source.StartActivity(
            $"{hub}/{context.HubMethodName}", ActivityKind.Server, parentContext: default,
            links: connection is null ? null : [new ActivityLink(connection.Context)]);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "signalr");
            activity.SetTag("rpc.service", hub);
            activity.SetTag("rpc.method", context.HubMethodName);
            activity.SetTag("realtime.app", context.Context.User?.FindFirst(TokenService.AppClaim)?.Value);
        }
        try
        {
            return await next(context);
        }
        catch (Exception e)
        {
            if (activity is not null)
            {
                var code = ErrorMapping.ToRealtime(e).Code.ToString();
                activity.SetTag("error.type", code);
                activity.SetStatus(ActivityStatusCode.Error, code);
            }
            throw;
        }
    }
}
