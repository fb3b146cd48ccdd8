namespace Realtime.Server.Errors;

/// <summary>A rule said no: carries the spec's code; mapped once to hub and REST errors.</summary>
public sealed class RealtimeException(ErrorCode code, string message) : Exception(message)
{
    public ErrorCode Code { get; } = code;

    /// <summary>For RateLimited: when a retry may succeed (REST sends it as Retry-After).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The hub form of SPEC §4: "[Code] message".</summary>
    public string HubMessage => $"[{Code}] {Message}";

    public static RealtimeException Invalid(string field, string problem) =>
        new(ErrorCode.InvalidArgument, $"{field}: {problem}");
}
