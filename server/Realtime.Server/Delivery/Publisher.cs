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
    private const int Parallelism = 32;

    /// <summary>
    /// Runs of attach/detach effects, and runs of system messages, go out concurrently (a user's
    /// own messages still one after another, in seq order); a run completes before the next
    /// effect starts, so attach-before-event and detach-before-event still hold. Without this a
    /// dissolve of N members would wait for N acknowledged detaches in series.
    /// </summary>
    internal async Task PublishAsync(string appId, IReadOnlyList<Effect> effects)
    {
        // Attaches and detaches of joins and removals were applied before commit (ApplyBeforeCommitAsync).
        effects = effects.Where(e => e is not (Effect.Attach { BeforeCommit: true } or Effect.Detach { BeforeCommit: true })).ToList();
        for (var i = 0; i < effects.Count;)
        {
            var kind = KindOf(effects[i]);
            var end = i;
            while (end < effects.Count && KindOf(effects[end]) == kind) end++;
            var run = effects.Skip(i).Take(end - i).ToList();
            i = end;

            if (kind == RunKind.GroupEvent)
            {
                foreach (var effect in run) await SendAsync(appId, effect);
                continue;
            }
            // Per-user order inside a run: each user's effects form one sequential lane.
            await RunLanesAsync(appId, run);
        }
    }

    /// <summary>
    /// Applies a command's attaches and detaches on every node while its transaction still holds
    /// the group's row lock, and answers them for <see cref="UndoAsync"/> should the commit not happen.
    /// </summary>
    internal async Task<IReadOnlyList<Effect>> ApplyBeforeCommitAsync(string appId, IReadOnlyList<Effect> effects)
    {
        var membership = effects.Where(e => e is Effect.Attach { BeforeCommit: true } or Effect.Detach { BeforeCommit: true }).ToList();
        await RunLanesAsync(appId, membership);
        return membership;
    }

    /// <summary>
    /// Reverts membership applied for a command whose commit failed. With the outcome unknown,
    /// callers revert attaches only: a member missing live pushes recovers with Sync, while a
    /// removed user put back would hear what they must not.
    /// </summary>
    internal Task UndoAsync(string appId, IReadOnlyList<Effect> applied, bool attachesOnly) =>
        RunLanesAsync(appId, applied
            .Where(e => e is Effect.Attach || !attachesOnly)
            .Select(e => e switch
            {
                Effect.Attach a => (Effect)new Effect.Detach(a.UserId, a.Gid, BeforeCommit: false),
                Effect.Detach d => new Effect.Attach(d.UserId, d.Gid, BeforeCommit: false),
                _ => e,
            }).ToList());

    private Task RunLanesAsync(string appId, IReadOnlyList<Effect> run) =>
        Parallel.ForEachAsync(run.GroupBy(UserOf, StringComparer.Ordinal).Select(lane => lane.ToList()),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            async (lane, _) =>
            {
                foreach (var effect in lane) await SendAsync(appId, effect);
            });

    private async Task SendAsync(string appId, Effect effect)
    {
        try
        {
            await (effect switch
            {
                Effect.Attach a => userGroups.AddUserToGroupAsync(SignalRNames.User(appId, a.UserId), SignalRNames.Group(appId, a.Gid)),
                Effect.Detach d => userGroups.RemoveUserFromGroupAsync(SignalRNames.User(appId, d.UserId), SignalRNames.Group(appId, d.Gid)),
                Effect.PushGroupEvent e => hub.Clients.Group(SignalRNames.Group(appId, e.Gid)).GroupEvent(e.Event),
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

    private enum RunKind { Membership, SystemMessage, GroupEvent }

    private static RunKind KindOf(Effect effect) => effect switch
    {
        Effect.Attach or Effect.Detach => RunKind.Membership,
        Effect.PushSystemMessage => RunKind.SystemMessage,
        _ => RunKind.GroupEvent,
    };

    private static string UserOf(Effect effect) => effect switch
    {
        Effect.Attach a => a.UserId,
        Effect.Detach d => d.UserId,
        Effect.PushSystemMessage m => m.Message.UserId,
        _ => "",
    };

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Live push {Effect} failed; clients recover it with Sync")]
    private partial void LogPushFailed(Exception e, string effect);
}
