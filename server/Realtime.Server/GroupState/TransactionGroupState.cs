using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Realtime.Server.Commands;
using Realtime.Server.Delivery;
using Realtime.Server.Groups;

namespace Realtime.Server.GroupState;

/// <summary>
/// A group's attributes and counters as one transaction sees them (read once under the group's
/// lock, changed in memory by each command, written once just before commit), and the
/// CountersChanged event that later counter changes of the same transaction extend, so
/// increments committed together are announced once (SPEC §9).
/// </summary>
internal sealed class TransactionGroupState
{
    private static readonly ConditionalWeakTable<TransactionEffects, TransactionGroupState> OfTransaction = new();

    private readonly Dictionary<long, Loaded> _groups = [];
    private bool _writeQueued;

    public static TransactionGroupState Of(CommandScope s) => OfTransaction.GetValue(s.Effects, _ => new TransactionGroupState());

    public sealed class Loaded
    {
        public required SortedDictionary<string, AttributeValue> Attributes { get; set; }
        public required SortedDictionary<string, long> Counters { get; set; }
        public bool Dirty { get; set; }
        /// <summary>This transaction's CountersChanged event of the group and what it announces so far.</summary>
        public GroupEventDto? CountersEvent { get; set; }
        public int CountersPushIndex { get; set; } = -1;
        public SortedDictionary<string, long> Announced { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The group's state (the caller holds the group's row lock).</summary>
    public async Task<Loaded> LoadAsync(CommandScope s, GroupRow g)
    {
        if (_groups.TryGetValue(g.Gid, out var loaded)) return loaded;
        var row = await s.Connection.QuerySingleOrDefaultAsync<(string Attributes, string Counters)?>(new CommandDefinition(
            "SELECT attributes::text, counters::text FROM group_state WHERE gid = @Gid", new { g.Gid }, s.Transaction));
        loaded = new Loaded
        {
            Attributes = GroupStateJson.Attributes(row?.Attributes),
            Counters = GroupStateJson.Counters(row?.Counters),
        };
        _groups[g.Gid] = loaded;
        return loaded;
    }

    /// <summary>The state changed: it is written once, as the transaction's last step.</summary>
    public void MarkDirty(CommandScope s, Loaded loaded)
    {
        loaded.Dirty = true;
        if (_writeQueued) return;
        _writeQueued = true;
        s.LastBeforeCommit(() => WriteAsync(s));
    }

    private async Task WriteAsync(CommandScope s)
    {
        var dirty = _groups.Where(x => x.Value.Dirty).OrderBy(x => x.Key).ToArray();
        if (dirty.Length == 0) return;
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO group_state (gid, attributes, counters)
            SELECT g, a::jsonb, c::jsonb FROM unnest(@gids, @attributes, @counters) AS x(g, a, c)
            ON CONFLICT (gid) DO UPDATE SET attributes = EXCLUDED.attributes, counters = EXCLUDED.counters
            """, new
        {
            gids = dirty.Select(x => x.Key).ToArray(),
            attributes = dirty.Select(x => JsonSerializer.Serialize(x.Value.Attributes, RealtimeJson.Options)).ToArray(),
            counters = dirty.Select(x => JsonSerializer.Serialize(x.Value.Counters, RealtimeJson.Options)).ToArray(),
        }, s.Transaction));
    }

    /// <summary>
    /// Announces counter values: extends this transaction's CountersChanged of the group while it is
    /// still the group's last event, else appends a new one. Answers the event (its seq is the write's).
    /// </summary>
    public static GroupEventDto AnnounceCounters(CommandScope s, GroupRow g, Loaded loaded, IEnumerable<string> changed)
    {
        foreach (var k in changed) loaded.Announced[k] = loaded.Counters[k];
        var data = new { counters = loaded.Announced };
        if (loaded.CountersEvent is { } open && open.Seq == g.LastSeq)
        {
            var evt = NotificationLog.RewriteGroupEvent(s, open, g.Gid, data);
            if (loaded.CountersPushIndex >= 0 && loaded.CountersPushIndex < s.Effects.Changes.Count &&
                s.Effects.Changes[loaded.CountersPushIndex] is Effect.PushGroupEvent { Event.Seq: var seq } && seq == evt.Seq)
                s.Effects.Changes[loaded.CountersPushIndex] = new Effect.PushGroupEvent(g.Gid, evt);
            return loaded.CountersEvent = evt;
        }
        loaded.Announced.Clear();
        foreach (var k in changed) loaded.Announced[k] = loaded.Counters[k];
        var first = s.AppendGroupEvent(g, GroupStateEvents.CountersChanged, new { counters = loaded.Announced });
        loaded.CountersPushIndex = s.Effects.Changes.Count - 1;
        return loaded.CountersEvent = first;
    }
}

/// <summary>The group event types of SPEC §9.</summary>
public static class GroupStateEvents
{
    public const string AttributesChanged = "AttributesChanged";
    public const string CountersChanged = "CountersChanged";
    /// <summary>A system message to the member's own terminals.</summary>
    public const string ReadCursorMoved = "ReadCursorMoved";
}

internal static class GroupStateJson
{
    public static SortedDictionary<string, AttributeValue> Attributes(string? json) =>
        new(json is null ? [] : JsonSerializer.Deserialize<Dictionary<string, AttributeValue>>(json, RealtimeJson.Options)!, StringComparer.Ordinal);

    public static SortedDictionary<string, long> Counters(string? json) =>
        new(json is null ? [] : JsonSerializer.Deserialize<Dictionary<string, long>>(json, RealtimeJson.Options)!, StringComparer.Ordinal);
}
