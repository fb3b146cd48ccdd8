using System.Diagnostics;
using Microsoft.AspNetCore.Authentication;
using Realtime.Server.Apps;
using Realtime.Server.Auth;
using Realtime.Server.Errors;
using Realtime.Server.Operations;
using Realtime.Server.RateLimits;

namespace Realtime.Server.Admin;

/// <summary>
/// Runs around every admin route: checks the token against `{appId}`, turns failures into the
/// REST error body and successes into the envelope of SPEC §6.
/// </summary>
public sealed partial class AdminFilter(
    AppRegistry apps, RealtimeRateLimiter limiter, RealtimeMetrics metrics, TimeProvider clock, ILogger<AdminFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var started = clock.GetTimestamp();
        var appId = http.Request.RouteValues["appId"] as string ?? "";
        var outcome = "ok";
        try
        {
            await AuthorizeAsync(http, appId);
            // After the token check, so a caller without one cannot spend the app's budget.
            limiter.Spend(appId, "", RateClass.Rest);
            var result = await next(context);
            if (result is not AdminReply reply) return result;
            var envelope = new AdminEnvelope(
                http.Request.Method.ToLowerInvariant(),
                appId,
                $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}",
                PathAfterApp(http.Request.Path, appId),
                [],
                reply.Data,
                clock.GetUtcNow().ToUnixTimeMilliseconds(),
                (long)clock.GetElapsedTime(started).TotalMilliseconds,
                reply.Count,
                reply.Cursor);
            return Results.Json(envelope, AdminHttp.Json);
        }
        catch (RealtimeException e)
        {
            outcome = e.Code.ToString();
            if (e.RetryAfter is { } wait) http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error(AdminApi.InRestTerms(e));
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            var mapped = ErrorMapping.ToRealtime(e);
            if (mapped.Code == ErrorCode.Internal) LogFailed(e, http.Request.Method, http.Request.Path);
            outcome = mapped.Code.ToString();
            return Error(mapped);
        }
        finally
        {
            // REST commands count beside the hub's, named by operation ("rest:CreateChatGroup").
            var method = new KeyValuePair<string, object?>("method",
                "rest:" + (http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "unknown"));
            metrics.Commands.Add(1, method, new("outcome", outcome));
            metrics.CommandDuration.Record(clock.GetElapsedTime(started).TotalSeconds, method);
        }
    }

    /// <summary>
    /// Order matters for what a caller can learn: without a valid token nothing is told (401);
    /// a user token learns nothing about other apps (403 whatever the id); only a valid admin
    /// token is told that an app id is unknown (404), which the spec requires.
    /// </summary>
    private async Task AuthorizeAsync(HttpContext http, string appId)
    {
        var auth = await http.AuthenticateAsync(RealtimeAuthenticationHandler.SchemeName);
        if (!auth.Succeeded)
            throw new RealtimeException(ErrorCode.Unauthorized, auth.Failure is null
                ? "an admin token is required (Authorization: Bearer <token>)"
                : "the token is invalid or expired");
        var caller = Caller.From(auth.Principal);
        if (!caller.IsAdmin)
            throw new RealtimeException(ErrorCode.PermissionDenied, "this route needs an admin token (role: admin)");
        if (!apps.TryGet(appId, out _))
            throw new RealtimeException(ErrorCode.GroupNotFound, $"app {appId} does not exist");
        if (!string.Equals(caller.AppId, appId, StringComparison.Ordinal))
            throw new RealtimeException(ErrorCode.PermissionDenied, $"the token does not grant access to app {appId}");
    }

    private static IResult Error(RealtimeException e) =>
        Results.Json(ErrorMapping.RestBody(e), AdminHttp.Json, statusCode: e.Code.HttpStatus());

    private static string PathAfterApp(PathString path, string appId)
    {
        var prefix = $"{AdminApi.Prefix}/{appId}";
        var value = path.Value ?? "";
        return value.StartsWith(prefix, StringComparison.Ordinal) ? value[prefix.Length..] : value;
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Error, Message = "Admin request {Method} {Path} failed")]
    private partial void LogFailed(Exception e, string method, string? path);
}
