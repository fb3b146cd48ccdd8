using System.Text;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.GroupState;

/// <summary>The pure rules of SPEC §9 for attributes and counters: keys, limits, compare-and-set, overflow.</summary>
public static class GroupStateRules
{
    public const int MaxAttributes = 32;
    public const int MaxCounters = 20;
    public const int KeyMax = 64;
    public const int AttributeValueMax = 4096;
    public const int AttributesTotalMaxBytes = 16 * 1024;
    public const int PageDefault = 100;
    public const int PageMax = 500;

    /// <summary>Who writes attributes: owner and admins, in a Private group (which has no admins) any member.</summary>
    public static Allowed AttributeWriters(GroupType type) => type == GroupType.Private ? Allowed.AnyMember : Allowed.OwnerAndAdmins;

    /// <summary>Who sets counters (increments follow the send rule).</summary>
    public const Allowed CounterSetters = Allowed.OwnerAndAdmins;

    public static bool IsValidKey(string? key) =>
        key is { Length: >= 1 and <= KeyMax } && key.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or ':' or '-');

    public static string Key(string? key, string field) =>
        IsValidKey(key) ? key! : throw RealtimeException.Invalid(field, $"keys must be 1-{KeyMax} chars of [A-Za-z0-9_.:-]");

    /// <summary>A keys filter of a read: each a valid key, at most <paramref name="max"/>.</summary>
    public static IReadOnlyList<string>? Keys(IReadOnlyList<string>? keys, int max)
    {
        if (keys is null) return null;
        if (keys.Count > max) throw RealtimeException.Invalid("keys", $"must list at most {max} keys");
        foreach (var k in keys) Key(k, "keys");
        return keys;
    }

    /// <summary>
    /// Applies one SetGroupAttributes call to the current attributes: every key or none. Argument
    /// rules first, then the compare-and-set (<see cref="ErrorCode.VersionConflict"/>), then the
    /// limits of the result. Answers the new attributes and the changes (null = removed).
    /// </summary>
    public static (SortedDictionary<string, AttributeValue> Next, SortedDictionary<string, AttributeValue?> Changes) ApplyAttributes(
        IReadOnlyDictionary<string, AttributeValue> current,
        IReadOnlyDictionary<string, string>? set, IReadOnlyList<string>? remove, IReadOnlyDictionary<string, long>? expected)
    {
        set ??= new Dictionary<string, string>();
        remove ??= [];
        expected ??= new Dictionary<string, long>();
        if (set.Count == 0 && remove.Count == 0) throw RealtimeException.Invalid("set", "set or remove must name at least one key");
        foreach (var (k, v) in set)
        {
            Key(k, "set");
            if (v is null) throw RealtimeException.Invalid($"set.{k}", "must be a string (use remove to delete a key)");
            if (Validate.CodePoints(v) > AttributeValueMax) throw RealtimeException.Invalid($"set.{k}", $"must be at most {AttributeValueMax} characters");
        }
        foreach (var k in remove)
        {
            Key(k, "remove");
            if (set.ContainsKey(k)) throw RealtimeException.Invalid("remove", $"key '{k}' is also in set");
        }
        if (remove.Distinct(StringComparer.Ordinal).Count() != remove.Count) throw RealtimeException.Invalid("remove", "lists a key twice");
        foreach (var (k, v) in expected)
        {
            Key(k, "expectedVersions");
            if (v < 0) throw RealtimeException.Invalid($"expectedVersions.{k}", "must not be negative");
        }

        foreach (var (k, v) in expected)
        {
            var actual = current.TryGetValue(k, out var a) ? a.Version : 0;
            if (actual != v)
                throw new RealtimeException(ErrorCode.VersionConflict, actual == 0
                    ? $"attribute '{k}' does not exist (expected version {v})"
                    : $"attribute '{k}' is at version {actual}, not {v}");
        }

        var next = new SortedDictionary<string, AttributeValue>(current.ToDictionary(), StringComparer.Ordinal);
        var changes = new SortedDictionary<string, AttributeValue?>(StringComparer.Ordinal);
        foreach (var (k, v) in set)
        {
            var version = (current.TryGetValue(k, out var a) ? a.Version : 0) + 1;
            changes[k] = next[k] = new AttributeValue(v, version);
        }
        foreach (var k in remove)
            if (next.Remove(k)) changes[k] = null;

        if (next.Count > MaxAttributes) throw RealtimeException.Invalid("set", $"a group has at most {MaxAttributes} attributes ({next.Count} after this call)");
        var bytes = next.Values.Sum(a => (long)Encoding.UTF8.GetByteCount(a.Value));
        if (bytes > AttributesTotalMaxBytes)
            throw RealtimeException.Invalid("set", $"a group's attribute values total at most {AttributesTotalMaxBytes} bytes ({bytes} after this call)");
        return (next, changes);
    }

    /// <summary>
    /// Applies one ChangeGroupCounters call: sets, then increments (a key may not be in both);
    /// a result outside int64 or more than <see cref="MaxCounters"/> keys refuses the whole call.
    /// Answers the new counters and the keys whose values the call wrote.
    /// </summary>
    public static (SortedDictionary<string, long> Next, IReadOnlyList<string> Changed) ApplyCounters(
        IReadOnlyDictionary<string, long> current, IReadOnlyDictionary<string, long>? increment, IReadOnlyDictionary<string, long>? set)
    {
        increment ??= new Dictionary<string, long>();
        set ??= new Dictionary<string, long>();
        if (increment.Count == 0 && set.Count == 0) throw RealtimeException.Invalid("increment", "increment or set must name at least one key");
        foreach (var k in increment.Keys) Key(k, "increment");
        foreach (var k in set.Keys)
        {
            Key(k, "set");
            if (increment.ContainsKey(k)) throw RealtimeException.Invalid("set", $"key '{k}' is also in increment");
        }
        var next = new SortedDictionary<string, long>(current.ToDictionary(), StringComparer.Ordinal);
        foreach (var (k, v) in set) next[k] = v;
        foreach (var (k, n) in increment)
        {
            var before = next.GetValueOrDefault(k);
            long after;
            try
            {
                after = checked(before + n);
            }
            catch (OverflowException)
            {
                throw RealtimeException.Invalid($"increment.{k}", $"{before} + {n} is outside the 64-bit signed range");
            }
            next[k] = after;
        }
        if (next.Count > MaxCounters) throw RealtimeException.Invalid("increment", $"a group has at most {MaxCounters} counters ({next.Count} after this call)");
        return (next, set.Keys.Concat(increment.Keys).ToList());
    }

    /// <summary>The page of GetReadMembers / GetOnlineMembers.</summary>
    public static (int Offset, int Limit) Page(int? offset, int? limit) => Validate.Page(offset, limit, PageDefault, PageMax);

    /// <summary>A seq argument: present and not negative.</summary>
    public static long Seq(long? seq) => seq switch
    {
        null => throw RealtimeException.Invalid("seq", "is required"),
        < 0 => throw RealtimeException.Invalid("seq", "must not be negative"),
        _ => seq.Value,
    };

    /// <summary>Unread messages from the counters a member row keeps (never negative, whatever retention did).</summary>
    public static long Unread(long msgCount, long readMsgs, long sentAfterRead) => Math.Max(0, msgCount - readMsgs - sentAfterRead);
}
