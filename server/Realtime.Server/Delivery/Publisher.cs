using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Realtime.Backplane.Redis;
using Realtime.Server.Hubs;
using Realtime.Server.Operations;

namespace Realtime.Server.Delivery;

/// <summary>
/// Hands a command's effects to SignalR (and so to the backplane): membership before commit,
/// pushes after. Best effort: a lost push is found again by Sync, so failures are logged, never thrown.
/// </summary>
public sealed partial class Publisher(
    IHubContext<GroupHub, IGroupClient> hub, IUserGroupManager<GroupHub> userGroups, RealtimeMetrics metrics, ILogger<Publisher> logger)
{
    private const int Parallelism = 32;

    /// <summary>
    /// Sends a committed command's pushes: its group events in order, then its system messages
    /// concurrently across users (each user's own in seq order). Attaches and detaches are not
    /// here: they were applied before commit (ApplyBeforeCommitAsync).
    /// </summary>
    internal async Task PublishAsync(string appId, IReadOnlyList<Effect> effects)
    {
        // Started one after another, the group events are written to the backplane in seq order;
        // awaited together, a batch of them costs one round trip, not one each.
        await Task.WhenAll(effects.OfType<Effect.PushGroupEvent>().Select(e => SendAsync(appId, e)).ToList());
        await RunLanesAsync(appId, effects.OfType<Effect.PushSystemMessage>().ToList<Effect>());
    }

    /// <summary>
    /// Applies a command's attaches and detaches on every node while its transaction still holds
    /// the group's row lock, and answers them for <see cref="UndoAsync"/> should the commit not happen.
    /// A detach that a node got but did not confirm in time (the backplane throws
    /// <see cref="TimeoutException"/>) fails the command: that node may still hold the removed member
    /// in the group, and the group's next event would reach it. Everything applied is taken back
    /// (the failed detach too: the user stays a member when the command rolls back) and this throws,
    /// so the transaction rolls back rather than go on.
    /// </summary>
    internal async Task<IReadOnlyList<Effect>> ApplyBeforeCommitAsync(string appId, IReadOnlyList<Effect> effects)
    {
        var membership = effects.Where(e => e is Effect.Attach or Effect.Detach).ToList();
        var unconfirmed = new ConcurrentQueue<TimeoutException>();
        await RunLanesAsync(appId, membership, unconfirmed);
        if (!unconfirmed.IsEmpty)
        {
            await UndoAsync(appId, membership, attachesOnly: false);
            throw new AggregateException("A detach was not confirmed by every node; the command was rolled back.", unconfirmed);
        }

        return membership;
    }

    /// <summary>
    /// Reverts membership applied for a command that did not commit. When a commit failed its
    /// outcome is unknown, and callers revert attaches only: a member missing live pushes
    /// recovers with Sync, while a removed user put back would hear what they must not.
    /// </summary>
    internal Task UndoAsync(string appId, IReadOnlyList<Effect> applied, bool attachesOnly) =>
        RunLanesAsync(appId, applied
            .Where(e => e is Effect.Attach || !attachesOnly)
            .Select(e => e switch
            {
                Effect.Attach a => (Effect)new Effect.Detach(a.UserId, a.Gid),
                Effect.Detach d => new Effect.Attach(d.UserId, d.Gid),
                _ => e,
            }).ToList());

    private Task RunLanesAsync(string appId, IReadOnlyList<Effect> run, ConcurrentQueue<TimeoutException>? unconfirmedDetaches = null) =>
        Parallel.ForEachAsync(run.GroupBy(UserOf, StringComparer.Ordinal).Select(lane => lane.ToList()),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            async (lane, _) =>
            {
                foreach (var effect in lane) await SendAsync(appId, effect, unconfirmedDetaches);
            });

    private async Task SendAsync(string appId, Effect effect, ConcurrentQueue<TimeoutException>? unconfirmedDetaches = null)
    {
        try
        {
            await (effect switch
            {
                Effect.Attach a => userGroups.AddUserToGroupAsync(SignalRNames.User(appId, a.UserId), SignalRNames.Group(appId, a.Gid)),
                Effect.Detach d => userGroups.RemoveUserFromGroupAsync(SignalRNames.User(appId, d.UserId), SignalRNames.Group(appId, d.Gid)),
                Effect.PushGroupEvent e => hub.Clients.Group(SignalRNames.Group(appId, e.Gid)).GroupEvent(e.Event),
                Effect.PushSystemMessage m => hub.Clients.User(SignalRNames.User(appId, m.UserId)).SystemMessage(m.Message),
                _ => Task.CompletedTask,
            });
            if (effect is Effect.PushGroupEvent or Effect.PushSystemMessage)
                metrics.Deliveries.Add(1, new KeyValuePair<string, object?>("kind", effect is Effect.PushGroupEvent ? "group_event" : "system_message"));
        }
        catch (TimeoutException e) when (effect is Effect.Detach && unconfirmedDetaches is not null)
        {
            LogDetachUnconfirmed(e);
            unconfirmedDetaches.Enqueue(e);
        }
        catch (Exception e)
        {
            LogPushFailed(e, effect.GetType().Name);
        }
    }

    private static string UserOf(Effect effect) => effect switch
    {
        Effect.Attach a => a.UserId,
        Effect.Detach d => d.UserId,
        Effect.PushSystemMessage m => m.UserId,
        _ => "",
    };

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "A detach was not confirmed by every node in time; its command is rolled back")]
    private partial void LogDetachUnconfirmed(Exception e);

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Live push {Effect} failed; clients recover it with Sync")]
    private partial void LogPushFailed(Exception e, string effect);
}
