using Microsoft.AspNetCore.SignalR;

namespace Realtime.Client;

/// <summary>A hub method failed with one of SPEC §4's codes: <c>[GroupNotFound] group ... does not exist</c>.</summary>
public sealed class RealtimeHubException(string code, string message, Exception inner) : Exception(message, inner)
{
    /// <summary>The code's name, e.g. <c>GroupNotFound</c>, <c>MemberMuted</c>; <c>Unknown</c> when the message carries none.</summary>
    public string Code { get; } = code;

    internal static RealtimeHubException From(HubException e)
    {
        // SignalR prefixes "An unexpected error occurred invoking 'X' on the server. HubException: " when detailed errors are on.
        var message = e.Message;
        var start = message.IndexOf('[');
        var end = start < 0 ? -1 : message.IndexOf(']', start);
        return end > start + 1
            ? new RealtimeHubException(message[(start + 1)..end], message[start..], e)
            : new RealtimeHubException("Unknown", message, e);
    }
}
