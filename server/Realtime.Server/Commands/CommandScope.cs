using System.Text.Json;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Delivery;

namespace Realtime.Server.Commands;

/// <summary>A group as the log sees it: where its events go, and its last seq, kept current by each append.</summary>
public interface IGroupLog
{
    long Gid { get; }
    string GroupId { get; }
    long LastSeq { get; set; }
}

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

    internal IReadOnlyList<PendingSystemMessage> SystemMessages => _systemMessages;
    internal IReadOnlyList<OutboxItem> Outbox => _outbox;
    internal IReadOnlyList<Func<Task>> LastSteps => _lastSteps;

    /// <summary>Attaches and detaches, in the order the command made them: applied before commit.</summary>
    internal IReadOnlyList<Effect> MembershipEffects => _effects.Where(e => e is Effect.Attach or Effect.Detach).ToList();

    /// <summary>What to push after commit: the group events, then each written system message.</summary>
    internal IReadOnlyList<Effect> Pushes => _effects.OfType<Effect.PushGroupEvent>()
        .Concat<Effect>(_systemMessages.Select(m => new Effect.PushSystemMessage(m.UserId, m.Written!)))
        .ToList();

    /// <summary>
    /// Runs a step at the very end, just before commit (after live membership is applied): for
    /// a lock many commands queue on, such as an app's quota row, so it is held the shortest time.
    /// </summary>
    public void LastBeforeCommit(Func<Task> step) => _lastSteps.Add(step);

    /// <param name="push">False (e.g. REST `silent`): the event is logged, and found by Sync, but not pushed live.</param>
    public async Task<GroupEventDto> AppendGroupEventAsync(IGroupLog group, string type, object data, bool push = true)
    {
        var evt = await NotificationLog.AppendGroupEventAsync(this, group, type, Actor.UserId, data);
        if (push) _effects.Add(new Effect.PushGroupEvent(group.Gid, evt));
        if (OfflinePush.ForGroupEvent(App, group.Gid, evt) is { } offline) _outbox.Add(offline);
        return evt;
    }

    /// <summary>Queues an after-callback (SPEC §7), delivered after commit by the outbox worker.</summary>
    public void AfterCallback(string command, Dictionary<string, object?> payload)
    {
        if (OutboxItem.Callback(AppId, App, command, new DateTimeOffset(Now), payload) is { } item) _outbox.Add(item);
    }

    public void SystemMessage(string userId, string type, string? groupId, object data) =>
        _systemMessages.Add(new PendingSystemMessage(userId, type, groupId, Actor.UserId, JsonSerializer.SerializeToElement(data, RealtimeJson.Options)));

    /// <summary>
    /// Attaches all of a user's terminals, on every node, to the group's live channel. Applied
    /// before commit, while the command holds the group's row lock: no later event of the group
    /// can be published before every node has applied it.
    /// </summary>
    public void Attach(string userId, IGroupLog group) => _effects.Add(new Effect.Attach(userId, group.Gid));

    /// <summary>Detaches a removed user before commit (see Attach): nothing after the removal reaches them live.</summary>
    public void Detach(string userId, IGroupLog group) => _effects.Add(new Effect.Detach(userId, group.Gid));
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
