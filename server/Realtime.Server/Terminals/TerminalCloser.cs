using Microsoft.AspNetCore.SignalR;
using Realtime.Backplane.Redis;
using Realtime.Server.Apps;
using Realtime.Server.Auth;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Hubs;

namespace Realtime.Server.Terminals;

/// <summary>
/// Closes terminals on whichever node they live (through the backplane): all of a user's when the
/// app revokes their tokens, and the oldest ones beyond the app's per-user terminal limit.
/// </summary>
public sealed partial class TerminalCloser(
    IUserGroupManager<GroupHub> terminals, Presence presence, CommandRunner runner, AppRegistry apps, ILogger<TerminalCloser> logger)
{
    /// <summary>The system message a terminal's user gets when it is closed for them (the device says which).</summary>
    public const string TerminalClosedType = "TerminalClosed";

    public Task CloseUserAsync(string appId, string userId, CancellationToken ct) =>
        terminals.CloseUserConnectionsAsync(SignalRNames.User(appId, userId), ct);

    /// <summary>
    /// After a terminal connected: beyond the app's TerminalsPerUser, the user's oldest terminals are
    /// closed, each announced first by a TerminalClosed system message (on all the user's terminals,
    /// so apps can tell that device not to reconnect by itself).
    /// </summary>
    public async Task EnforceLimitAsync(Caller caller, CancellationToken ct)
    {
        var limit = apps.Get(caller.AppId).RateLimits.TerminalsPerUser;
        if (limit <= 0) return;
        var open = await presence.TerminalsOfAsync(caller.AppId, caller.UserId, ct);
        foreach (var (connectionId, device, _) in open.Take(Math.Max(0, open.Count - limit)))
        {
            LogClosing(caller.AppId, caller.UserId, device, limit);
            await runner.RunAsync(Actor.AppAdmin(caller.AppId), "CloseTerminal", requestId: null, s =>
            {
                s.SystemMessage(caller.UserId, TerminalClosedType, groupId: null, new { device, reason = "TerminalLimit", limit });
                return Task.FromResult(true);
            }, ct);
            await terminals.CloseConnectionAsync(connectionId, ct);
        }
    }

    [LoggerMessage(EventId = 350, Level = LogLevel.Information, Message = "Closing terminal {Device} of {AppId}/{UserId}: over the limit of {Limit} terminals")]
    private partial void LogClosing(string appId, string userId, string device, int limit);
}
