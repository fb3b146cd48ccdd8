using System.Text.Json;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Groups;

namespace Realtime.Server.Delivery;

/// <summary>
/// One command's transaction and what it will announce. Group events are appended at once
/// (the group row is locked, so its seq is ours); system messages are queued and written in
/// one batch at the end, which locks all recipients' seq rows in one sorted statement.
/// Attaches and detaches are applied to live channels before commit, pushes after it
/// (see CommandRunner).
/// </summary>
public sealed class CommandScope(NpgsqlConnection connection, NpgsqlTransaction transaction, Actor actor, AppSettings app, DateTime now)
{
    private readonly List<Effect> _effects = [];
    private readonly List<PendingSystemMessage> _systemMessages = [];
    private readonly List<OutboxItem> _outbox = [];
    private readonly List<Func<Task>> _lastSteps = [];

    public NpgsqlConnection Connection { get; } = connection;
    public NpgsqlTransaction Transaction { get; } = transaction;
    public Actor Actor { get; } = actor;
    public string AppId => Actor.AppId;
    public AppSettings App { get; } = app;
    /// <summary>The command's clock, at Postgres precision (microseconds), so values read back compare equal.</summary>
    public DateTime Now { get; } = now;

    internal IReadOnlyList<Effect> Effects => _effects;
    internal IReadOnlyList<PendingSystemMessage> SystemMessages => _systemMessages;
    internal IReadOnlyList<OutboxItem> Outbox => _outbox;
    internal IReadOnlyList<Func<Task>> LastSteps => _lastSteps;

    /// <summary>
    /// Runs a step at the very end, just before commit (after live membership is applied): for
    /// a lock many commands queue on, such as an app's quota row, so it is held the shortest time.
    /// </summary>
    public void LastBeforeCommit(Func<Task> step) => _lastSteps.Add(step);

    /// <summary>When false (e.g. REST `silent`), group events are logged but not pushed live.</summary>
    public bool PushGroupEvents { get; set; } = true;

    public async Task<GroupEventDto> AppendGroupEventAsync(GroupRow group, string type, object data)
    {
        var evt = await NotificationLog.AppendGroupEventAsync(this, group, type, Actor.UserId, data);
        if (PushGroupEvents) _effects.Add(new Effect.PushGroupEvent(group.Gid, evt));
        if (type == GroupMessageType && !string.IsNullOrEmpty(App.PushUrl))
            _outbox.Add(OutboxItem.Push(new { Kind = Callbacks.OutboxWorker.GroupMessagePush, group.Gid, Message = evt }));
        return evt;
    }

    /// <summary>The group event type of chat messages: offline members are pushed these.</summary>
    public const string GroupMessageType = "Message";

    /// <summary>Queues an after-callback (SPEC §7), delivered after commit by the outbox worker.</summary>
    public void AfterCallback(string command, Dictionary<string, object?> payload)
    {
        if (string.IsNullOrEmpty(App.CallbackUrl)) return;
        var deliveryId = Guid.CreateVersion7();
        var body = Callbacks.BeforeCallbacks.Envelope(AppId, command, deliveryId, new DateTimeOffset(Now), payload);
        _outbox.Add(new OutboxItem(OutboxItem.CallbackKind, deliveryId, JsonSerializer.Serialize(body, Callbacks.BeforeCallbacks.Json)));
    }

    public void SystemMessage(string userId, string type, string? groupId, object data)
    {
        var pending = new PendingSystemMessage(userId, type, groupId, Actor.UserId, JsonSerializer.SerializeToElement(data, RealtimeJson.Options));
        _systemMessages.Add(pending);
        _effects.Add(new Effect.PushSystemMessage(pending));
    }

    /// <summary>
    /// Attaches all of a user's terminals, on every node, to the group's live channel. Applied
    /// before commit, while the command holds the group's row lock: no later event of the group
    /// can be published before every node has applied it.
    /// </summary>
    public void Attach(string userId, GroupRow group) => _effects.Add(new Effect.Attach(userId, group.Gid));

    /// <summary>Detaches a removed user before commit (see Attach): nothing after the removal reaches them live.</summary>
    public void Detach(string userId, GroupRow group) => _effects.Add(new Effect.Detach(userId, group.Gid));
}

/// <summary>A row for the outbox: an after-callback or an offline push, written with the command.</summary>
internal sealed record OutboxItem(string Kind, Guid DeliveryId, string Payload)
{
    public const string CallbackKind = "Callback";
    public const string PushKind = "Push";

    public static OutboxItem Push(object payload) => new(PushKind, Guid.CreateVersion7(), JsonSerializer.Serialize(payload, RealtimeJson.Options));
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

internal abstract record Effect
{
    /// <summary>Applied before commit (Publisher.ApplyBeforeCommitAsync), never with the pushes.</summary>
    public sealed record Attach(string UserId, long Gid) : Effect;
    public sealed record Detach(string UserId, long Gid) : Effect;
    public sealed record PushGroupEvent(long Gid, GroupEventDto Event) : Effect;
    public sealed record PushSystemMessage(PendingSystemMessage Message) : Effect;
}
