using Microsoft.AspNetCore.Diagnostics;

namespace Realtime.Server.Errors;

/// <summary>
/// Every HTTP error this node answers has the SPEC §6 error body — also those the framework makes
/// (no route 404, wrong method 405, a body or request line or headers too large, a refused hub
/// upgrade) — and no exception page is ever served, whatever the environment: an unhandled
/// exception is a logged 500 with the Internal body.
/// </summary>
public static partial class HttpErrors
{
    /// <summary>Kestrel's own limits sit above these, so that the request reaches us and is answered with a body.</summary>
    public const int MaxRequestTargetBytes = 8 * 1024;
    public const int MaxRequestHeadersBytes = 32 * 1024;
    public const int KestrelRequestLineBytes = 64 * 1024;
    public const int KestrelRequestHeadersBytes = 64 * 1024;
    /// <summary>No route takes more; the admin API reads at most AdminHttp's own, smaller limit.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    public static void ConfigureKestrel(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
    {
        kestrel.Limits.MaxRequestLineSize = KestrelRequestLineBytes;
        kestrel.Limits.MaxRequestHeadersTotalSize = KestrelRequestHeadersBytes;
        kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
    }

    /// <summary>First in the pipeline.</summary>
    public static void UseSpecErrors(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpErrors).FullName!);
        app.Use(async (context, next) =>
        {
            try
            {
                if (TooLarge(context.Request) is { } refusal)
                {
                    await WriteAsync(context, refusal.Status, refusal.Error);
                    return;
                }
                await next(context);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                await WriteAsync(context, e.StatusCode, new RealtimeException(ErrorCode.InvalidArgument, e.Message));
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                LogUnhandled(logger, e, context.Request.Method, context.Request.Path);
                await WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorMapping.ToRealtime(e));
            }
        });
        app.UseStatusCodePages(async status =>
        {
            var context = status.HttpContext;
            var code = context.Response.StatusCode switch
            {
                401 => ErrorCode.Unauthorized,
                403 => ErrorCode.PermissionDenied,
                429 => ErrorCode.RateLimited,
                >= 500 => ErrorCode.Internal,
                _ => ErrorCode.InvalidArgument,
            };
            var text = context.Response.StatusCode switch
            {
                401 => "a valid token is required",
                404 => $"no such route: {context.Request.Method} {context.Request.Path}",
                405 => $"{context.Request.Method} is not allowed on {context.Request.Path}",
                413 => "the request body is too large",
                415 => "the body must be application/json",
                _ => $"the request failed with HTTP {context.Response.StatusCode}",
            };
            await WriteAsync(context, context.Response.StatusCode, new RealtimeException(code, text));
        });
    }

    private static (int Status, RealtimeException Error)? TooLarge(HttpRequest request)
    {
        var target = (request.PathBase + request.Path).Value?.Length + request.QueryString.Value?.Length ?? 0;
        if (target > MaxRequestTargetBytes)
            return (StatusCodes.Status414UriTooLong, RealtimeException.Invalid("request", $"the request target must be at most {MaxRequestTargetBytes} bytes"));
        long headers = 0;
        foreach (var (name, values) in request.Headers)
            foreach (var value in values) headers += name.Length + (value?.Length ?? 0) + 4;
        if (headers > MaxRequestHeadersBytes)
            return (StatusCodes.Status431RequestHeaderFieldsTooLarge, RealtimeException.Invalid("request", $"the headers must be at most {MaxRequestHeadersBytes} bytes"));
        return null;
    }

    private static Task WriteAsync(HttpContext context, int status, RealtimeException error)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(ErrorMapping.RestBody(error));
    }

    [LoggerMessage(EventId = 610, Level = LogLevel.Error, Message = "Unhandled exception in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception e, string method, string? path);
}
