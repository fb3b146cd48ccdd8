using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Delivery;

/// <summary>
/// One group's Sync cursor (SPEC §4): the last seq seen (exclusive) and, when the client knows
/// it, the epoch of the group incarnation that seq belongs to. A cursor without an epoch is the
/// plain number of old clients.
/// </summary>
public readonly record struct SyncCursor(long Since, string? Epoch = null)
{
    public static implicit operator SyncCursor(long since) => new(since);
}

/// <summary>
/// Binds Sync's <c>groups</c>: <c>{ groupId: since | { since, epoch } }</c>, strictly like every
/// request of this server (RealtimeJson): unknown fields, duplicates and wrong types are refused
/// with InvalidArgument naming <c>groups</c>; <c>since</c> is required and at least 0; <c>epoch</c>
/// is a string of 1–<see cref="GroupEpoch.MaxLength"/> chars (null: as absent, like any optional
/// field). Group ids are checked by SyncService.
/// </summary>
public sealed class SyncCursorsConverter : JsonConverter<Dictionary<string, SyncCursor>>
{
    private const string Field = "groups";

    public override Dictionary<string, SyncCursor> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw RealtimeException.Invalid(Field, "must be an object of group id to cursor");
        var cursors = new Dictionary<string, SyncCursor>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var groupId = Text(ref reader, "a group id");
            reader.Read();
            var cursor = ReadCursor(ref reader, groupId, options.PropertyNameCaseInsensitive);
            if (!cursors.TryAdd(groupId, cursor))
                throw RealtimeException.Invalid(Field, $"lists {Shown(groupId)} twice");
        }
        return cursors;
    }

    private static SyncCursor ReadCursor(ref Utf8JsonReader reader, string groupId, bool caseInsensitive)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return new SyncCursor(Since(ref reader, groupId));
            case JsonTokenType.StartObject:
                long? since = null;
                string? epoch = null;
                var sawEpoch = false;
                var comparison = caseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = Text(ref reader, "a field name");
                    reader.Read();
                    if (string.Equals(name, "since", comparison))
                    {
                        if (since is not null) throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} gives 'since' twice");
                        since = Since(ref reader, groupId);
                    }
                    else if (string.Equals(name, "epoch", comparison))
                    {
                        if (sawEpoch) throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} gives 'epoch' twice");
                        (sawEpoch, epoch) = (true, Epoch(ref reader, groupId));
                    }
                    else
                    {
                        throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} has an unknown field '{Shown(name)}'");
                    }
                }
                return new SyncCursor(since ?? throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} needs 'since'"), epoch);
            default:
                throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} must be a number or {{ since, epoch }}");
        }
    }

    private static long Since(ref Utf8JsonReader reader, string groupId)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var since))
            throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} must be a whole number");
        if (since < 0) throw RealtimeException.Invalid(Field, $"the cursor of {Shown(groupId)} must not be negative");
        return since;
    }

    /// <summary>A string of the cursors (key or value) with the checks every stored string gets (no NUL, no lone surrogate).</summary>
    private static string Text(ref Utf8JsonReader reader, string what)
    {
        try
        {
            return StrictJson.ReadText(ref reader);
        }
        catch (StrictJsonException e)
        {
            throw RealtimeException.Invalid(Field, $"{what} {e.Message}");
        }
    }

    private static string? Epoch(ref Utf8JsonReader reader, string groupId)
    {
        if (reader.TokenType == JsonTokenType.Null) return null; // as absent, like every optional field
        if (reader.TokenType != JsonTokenType.String)
            throw RealtimeException.Invalid(Field, $"the epoch of {Shown(groupId)} must be a string");
        var epoch = Text(ref reader, "an epoch");
        if (epoch.Length is < 1 or > GroupEpoch.MaxLength)
            throw RealtimeException.Invalid(Field, $"the epoch of {Shown(groupId)} must be 1-{GroupEpoch.MaxLength} chars");
        return epoch;
    }

    /// <summary>Echoes a client's string in an error message, cut short (it may be anything).</summary>
    private static string Shown(string s) => s.Length <= 64 ? s : s[..64] + "…";

    public override void Write(Utf8JsonWriter writer, Dictionary<string, SyncCursor> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (groupId, cursor) in value)
        {
            writer.WritePropertyName(groupId);
            if (cursor.Epoch is null)
            {
                writer.WriteNumberValue(cursor.Since);
                continue;
            }
            writer.WriteStartObject();
            writer.WriteNumber("since", cursor.Since);
            writer.WriteString("epoch", cursor.Epoch);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}

/// <summary>
/// Sync's answer to a cursor of another incarnation of a group id (SPEC §4): the group was
/// dissolved and its id taken again, so the cursor's seq means nothing in this log.
/// </summary>
public static class SyncEpochs
{
    /// <summary>A cursor carrying an epoch that is not the one of the incarnation Sync answers for; a plain number never is.</summary>
    public static bool IsOther(SyncCursor cursor, string epoch) =>
        cursor.Epoch is not null && !string.Equals(cursor.Epoch, epoch, StringComparison.Ordinal);

    /// <summary>
    /// tooOld with no items, this incarnation's epoch, and <c>next</c> where the user's visible part
    /// of it starts: the first window's start, or where retention trimmed the log if that is later,
    /// so that <c>{ since: next, epoch }</c> reads the user's whole retained part of this incarnation
    /// (and is not itself tooOld). Windows are (fromSeq, toSeq], toSeq null while a member.
    /// </summary>
    public static GroupSync Answer(IReadOnlyList<(long FromSeq, long? ToSeq)> windows, long trimmedThrough, string epoch) =>
        new([], Math.Max(windows.Min(w => w.FromSeq), trimmedThrough), HasMore: false,
            Removed: windows.All(w => w.ToSeq is not null), TooOld: true, epoch);
}
