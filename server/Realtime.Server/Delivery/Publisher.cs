using Microsoft.AspNetCore.SignalR;
using Realtime.Backplane.Redis;
using Realtime.Server.Hubs;
using Realtime.Server.Operations;

namespace Realtime.Server.Delivery;

/// <summary>
/// Hands committed effects to SignalR (and so to the backplane), in the command's order.
/// Best effort: a lost push is found again by Sync, so failures are logged, never thrown.
/// </summary>
public sealed partial class Publisher(
    IHubContext<GroupHub, IGroupClient> hub, IUserGroupManager<GroupHub> userGroups, RealtimeMetrics metrics, ILogger<Publisher> logger)
{
    internal async Task PublishAsync(string appId, IReadOnlyList<Effect> effects)
    {
        foreach (var effect in effects)
        {
            try
            {
                await (effect switch
                {
                    Effect.Attach a => userGroups.AddUserToGroupAsync(SignalRNames.User(appId, a.UserId), SignalRNames.Group(appId, a.GroupId)),
                    Effect.Detach d => userGroups.RemoveUserFromGroupAsync(SignalRNames.User(appId, d.UserId), SignalRNames.Group(appId, d.GroupId)),
                    Effect.PushGroupEvent e => hub.Clients.Group(SignalRNames.Group(appId, e.GroupId)).GroupEvent(e.Event),
                    Effect.PushSystemMessage m => hub.Clients.User(SignalRNames.User(appId, m.Message.UserId)).SystemMessage(m.Message.Written!),
                    _ => Task.CompletedTask,
                });
                if (effect is Effect.PushGroupEvent or Effect.PushSystemMessage)
                    metrics.Deliveries.Add(1, new KeyValuePair<string, object?>("kind", effect is Effect.PushGroupEvent ? "group_event" : "system_message"));
            }
            catch (Exception e)
            {
                LogPushFailed(e, effect.GetType().Name);
            }
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Live push {Effect} failed; clients recover it with Sync")]
    private partial void LogPushFailed(Exception e, string effect);
}
