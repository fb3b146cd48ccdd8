using System.Text.Json;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Delivery;
using Realtime.Server.Groups;

namespace Realtime.Server.Commands;

/// <summary>A group as the log sees it: where its events go, and its last seq, kept current by each append.</summary>
public interface IGroupLog
{
    long Gid { get; }
    string GroupId { get; }
    long LastSeq { get; set; }
}

/// <summary>
/// One command inside a transaction, and what it will announce. Group events are appended at
/// once (the group row is locked, so its seq is ours); system messages are queued and written
/// in one batch at the end, which locks all recipients' seq rows in one sorted statement.
/// Attaches and detaches are applied to live channels before commit, pushes after it (see
/// CommandRunner). Commands batched into one transaction (GroupCommit) each have a scope of
/// their own over the transaction's shared <see cref="TransactionEffects"/>.
/// </summary>
public sealed class CommandScope
{
    internal CommandScope(NpgsqlConnection connection, NpgsqlTransaction transaction, Actor actor, AppSettings app, DateTime now,
        TransactionEffects effects)
    {
        Connection = connection;
        Transaction = transaction;
        Actor = actor;
        App = app;
        Now = now;
        Effects = effects;
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }
    public Actor Actor { get; }
    public string AppId => Actor.AppId;
    public AppSettings App { get; }
    /// <summary>The command's clock, at Postgres precision (microseconds), so values read back compare equal.</summary>
    public DateTime Now { get; }
    internal TransactionEffects Effects { get; }

    /// <summary>
    /// Runs a step at the very end, just before commit (after live membership is applied): for
    /// a lock many commands queue on, such as an app's quota row, so it is held the shortest time.
    /// </summary>
    public void LastBeforeCommit(Func<Task> step) => Effects.LastSteps.Add(step);

    /// <param name="push">False (e.g. REST `silent`): the event is logged, and found by Sync, but not pushed live.</param>
    public GroupEventDto AppendGroupEvent(IGroupLog group, string type, object data, bool push = true)
    {
        var evt = NotificationLog.AppendGroupEvent(this, group, type, Actor.UserId, data);
        if (push) Effects.Changes.Add(new Effect.PushGroupEvent(group.Gid, evt));
        if (type == GroupEventDto.MessageType && Actor.UserId is { } sender) Effects.Senders.Add((group.Gid, sender));
        if (OfflinePush.ForGroupEvent(App, group.Gid, evt) is { } offline) Effects.Outbox.Add(offline);
        return evt;
    }

    /// <summary>
    /// The seq a user who joins now starts reading after: the seq before the MembersJoined that
    /// <see cref="AnnounceJoined"/> will write or extend.
    /// </summary>
    public long JoinSeq(GroupRow g, string? inviter, bool push) =>
        Effects.OpenJoin is { } open && open.Continues(g, inviter, push) ? open.Event.Seq - 1 : g.LastSeq;

    /// <summary>
    /// Announces new members whose windows start at <paramref name="joinSeq"/> (from <see cref="JoinSeq"/>).
    /// Joins batched into one transaction one after another (a burst of applications) extend one
    /// MembersJoined event rather than each writing its own (SPEC §4).
    /// </summary>
    public void AnnounceJoined(GroupRow g, IReadOnlyList<string> joined, string? inviter, bool push, long joinSeq)
    {
        if (Effects.OpenJoin is { } open && open.Continues(g, inviter, push) && joinSeq == open.Event.Seq - 1)
        {
            var userIds = open.UserIds.Concat(joined).ToList();
            Effects.ExtendOpenJoin(userIds, NotificationLog.RewriteGroupEvent(this, open.Event, g.Gid, new { userIds, inviter }));
            return;
        }
        if (joinSeq != g.LastSeq) throw new InvalidOperationException($"an event was appended between the join at {joinSeq} and its announcement");
        var first = AppendGroupEvent(g, "MembersJoined", new { userIds = joined, inviter }, push);
        Effects.OpenJoinAt(new OpenJoin(g.Gid, inviter, push, joined.ToList(), first, push ? Effects.Changes.Count - 1 : -1));
    }

    /// <summary>Queues an after-callback (SPEC §7), delivered after commit by the outbox worker.</summary>
    public void AfterCallback(string command, Dictionary<string, object?> payload)
    {
        if (OutboxItem.Callback(AppId, App, command, new DateTimeOffset(Now), payload) is { } item) Effects.Outbox.Add(item);
    }

    public void SystemMessage(string userId, string type, string? groupId, object data) =>
        Effects.SystemMessages.Add(new PendingSystemMessage(userId, type, groupId, Actor.UserId, JsonSerializer.SerializeToElement(data, RealtimeJson.Options)));

    /// <summary>
    /// Attaches all of a user's terminals, on every node, to the group's live channel. Applied
    /// before commit, while the command holds the group's row lock: no later event of the group
    /// can be published before every node has applied it.
    /// </summary>
    public void Attach(string userId, IGroupLog group) => Effects.Changes.Add(new Effect.Attach(userId, group.Gid));

    /// <summary>Detaches a removed user before commit (see Attach): nothing after the removal reaches them live.</summary>
    public void Detach(string userId, IGroupLog group) => Effects.Changes.Add(new Effect.Detach(userId, group.Gid));
}

internal sealed class PendingSystemMessage(string userId, string type, string? groupId, string? actor, JsonElement data)
{
    public string UserId { get; } = userId;
    public string Type { get; } = type;
    public string? GroupId { get; } = groupId;
    public string? Actor { get; } = actor;
    public JsonElement Data { get; } = data;
    public Guid Id { get; } = Guid.CreateVersion7();
    /// <summary>Set when the batch is written.</summary>
    public SystemMessageDto? Written { get; set; }
}
