using System.Net.Sockets;
using Npgsql;

namespace Realtime.Server.Errors;

/// <summary>The one place where exceptions become the errors clients see (hub and REST).</summary>
public static class ErrorMapping
{
    public static RealtimeException ToRealtime(Exception e) => e switch
    {
        RealtimeException r => r,
        // Kestrel's word on the request itself (a body over its limit, a malformed chunk): the caller's to fix.
        BadHttpRequestException b => new RealtimeException(ErrorCode.InvalidArgument, b.Message),
        _ when IsStorageUnavailable(e) => new RealtimeException(ErrorCode.Internal, "storage is unavailable; nothing was changed, retry later"),
        _ => new RealtimeException(ErrorCode.Internal, "internal error"),
    };

    /// <summary>The REST error body of SPEC §6.</summary>
    public static object RestBody(RealtimeException e) => new
    {
        error = e.Code.ToString(),
        code = (int)e.Code,
        error_description = e.Message,
        timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    };

    public static bool IsStorageUnavailable(Exception e) => e switch
    {
        NpgsqlException { IsTransient: true } => true,
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } => true,
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "08006" or "08001" or "08003" } => true,
        TimeoutException => true,
        _ => false,
    };
}
