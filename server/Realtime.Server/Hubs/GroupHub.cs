using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Auth;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;
using Realtime.Server.Messaging;
using Realtime.Server.Terminals;

namespace Realtime.Server.Hubs;

/// <summary>
/// The client-facing hub at /hubs/groups. An adapter only: it knows the caller, builds a command,
/// calls the feature and returns its DTO. Feature methods live in partial files beside this one.
/// </summary>
[Authorize(AuthenticationSchemes = RealtimeAuthenticationHandler.SchemeName)]
public sealed partial class GroupHub(
    GroupCommands groups, JoinCommands joins, MemberCommands members, UserListCommands lists, MessageCommands messages,
    SyncService sync, TerminalAttacher attacher, LocalTerminals terminals, Presence presence, TerminalCloser closer,
    GroupState.GroupStateCommands state, ILogger<GroupHub> logger) : Hub<IGroupClient>
{
    public const string Path = "/hubs/groups";

    private GroupCommands GroupCommands { get; } = groups;

    private JoinCommands Joins { get; } = joins;

    private MemberCommands Members { get; } = members;

    private UserListCommands Lists { get; } = lists;

    private MessageCommands Messages { get; } = messages;

    private SyncService SyncReader { get; } = sync;

    /// <summary>The app and user of this connection, from its token.</summary>
    private Caller Caller => Caller.From(Context.User!);

    private Actor Actor => Actor.User(Caller);

    /// <summary>The terminal of this connection (the `device` query parameter, checked before the upgrade).</summary>
    public string Device => terminals.DeviceOf(Context.ConnectionId) ?? DeviceOf(Context);

    private static string DeviceOf(HubCallerContext context) =>
        context.GetHttpContext()?.Request.Query["device"].ToString() is { Length: > 0 } device ? device : "default";

    public override async Task OnConnectedAsync()
    {
        var (caller, device) = (Caller, DeviceOf(Context));
        terminals.Add(Context, caller, device);
        try
        {
            // Presence (read by offline push and the terminal limit only) and the attach are
            // independent: one wait instead of two. The limit counts this terminal, so it comes after.
            var online = presence.OnlineAsync(caller.AppId, caller.UserId, device, Context.ConnectionId, Context.ConnectionAborted);
            var attached = attacher.AttachAsync(caller, Context.ConnectionId, Context.ConnectionAborted);
            await Task.WhenAll(online, attached);
            await closer.EnforceLimitAsync(caller, Context.ConnectionAborted);
        }
        catch (Exception e)
        {
            // SignalR calls no OnDisconnectedAsync for a connection that failed to connect.
            terminals.Remove(Context.ConnectionId);
            await presence.OfflineAsync(Context.ConnectionId);
            var refusal = ErrorMapping.ToRealtime(e);
            // SignalR logs only the HubException below; the cause of an unexpected one is ours to log
            // (a client that left while it was being attached is no error).
            if (refusal.Code == ErrorCode.Internal && !Context.ConnectionAborted.IsCancellationRequested) LogConnectFailed(e);
            // The close message carries this text to the client (detailed errors): ours, never the exception's.
            throw new HubException(refusal.HubMessage);
        }
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        terminals.Remove(Context.ConnectionId);
        await presence.OfflineAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Connecting a terminal failed")]
    private partial void LogConnectFailed(Exception e);

    /// <summary>Answers the caller's identity: lets a client check its session.</summary>
    public WhoAmIResult WhoAmI() => new(Caller.AppId, Caller.UserId, Device);
}

public sealed record WhoAmIResult(string AppId, string UserId, string Device);
