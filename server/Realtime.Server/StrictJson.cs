using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Realtime.Server;

/// <summary>
/// The converters that make binding as strict as SPEC §3 (and the database) need, which System.Text.Json
/// has no switch for: enum values are exactly the spec's names (its own converter also takes "public",
/// " Public" and "Public, ChatRoom"); strings hold no NUL (PostgreSQL refuses it in text and jsonb) and no
/// lone surrogate; a JSON payload obeys the same and nests at most <see cref="MaxPayloadDepth"/> levels.
/// A refused value is a <see cref="StrictJsonException"/>, whose message RealtimeJson passes to the caller.
/// </summary>
public static class StrictJson
{
    /// <summary>Payload nesting limit; the hub protocol itself refuses frames deeper than 64 levels (closing the connection).</summary>
    public const int MaxPayloadDepth = 32;

    /// <summary>Enum names and text, for every JSON this server reads or writes.</summary>
    public static IEnumerable<JsonConverter> Converters => [new EnumNames(), new Text()];

    /// <summary>JSON payload values (e.g. a message's payload), for binding requests.</summary>
    public static JsonConverter PayloadConverter { get; } = new Payload();

    /// <summary>Why a string is refused, or null when it may be stored.</summary>
    public static string? ProblemOf(string value)
    {
        if (value.Contains('\0')) return "must not contain NUL characters";
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(value[i])) return "must be valid Unicode text (it has a lone surrogate)";
        }
        return null;
    }

    /// <summary>Reads the current string token, refusing text that cannot be stored.</summary>
    public static string ReadText(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String && reader.TokenType != JsonTokenType.PropertyName)
            throw new StrictJsonException("must be a string");
        string value;
        try
        {
            value = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") cannot be turned into a .NET string at all.
            throw new StrictJsonException("must be valid Unicode text (it has a lone surrogate)");
        }
        return ProblemOf(value) is { } problem ? throw new StrictJsonException(problem) : value;
    }

    /// <summary>Why a JSON value is refused as a payload, or null when it may be stored.</summary>
    public static string? ProblemOf(JsonElement element, int depth = 1)
    {
        if (depth > MaxPayloadDepth) return $"must nest at most {MaxPayloadDepth} levels";
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return TextProblem(element);
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (ProblemOf(item, depth + 1) is { } p) return p;
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return "must be valid Unicode text (a key has a lone surrogate)";
                    }
                    if (ProblemOf(name) is { } k) return k;
                    if (ProblemOf(property.Value, depth + 1) is { } v) return v;
                }
                return null;
            default:
                return null;
        }
    }

    private static string? TextProblem(JsonElement element)
    {
        try
        {
            return ProblemOf(element.GetString()!);
        }
        catch (InvalidOperationException)
        {
            return "must be valid Unicode text (it has a lone surrogate)";
        }
    }

    private sealed class Text : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadText(ref reader);

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadText(ref reader);

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);
    }

    private sealed class Payload : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = JsonElement.ParseValue(ref reader);
            return ProblemOf(element) is { } problem ? throw new StrictJsonException(problem) : element;
        }

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => value.WriteTo(writer);
    }

    /// <summary>Enums by their exact declared names, both ways; no numbers, no case folding, no comma lists.</summary>
    private sealed class EnumNames : JsonConverterFactory
    {
        private static readonly ConcurrentDictionary<Type, JsonConverter> Cache = new();

        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            Cache.GetOrAdd(typeToConvert, t => (JsonConverter)Activator.CreateInstance(typeof(EnumName<>).MakeGenericType(t))!);
    }

    private sealed class EnumName<T> : JsonConverter<T> where T : struct, Enum
    {
        private static readonly Dictionary<string, T> ByName = Enum.GetValues<T>().ToDictionary(v => v.ToString(), StringComparer.Ordinal);
        private static readonly string Names = string.Join(", ", ByName.Keys);

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String) throw new StrictJsonException($"must be one of {Names}");
            return ByName.TryGetValue(ReadText(ref reader), out var value) ? value : throw new StrictJsonException($"must be one of {Names}");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            ByName.TryGetValue(ReadText(ref reader), out var value) ? value : throw new StrictJsonException($"must be one of {Names}");

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WritePropertyName(value.ToString());
    }
}

/// <summary>A value refused by <see cref="StrictJson"/>; its message is meant for the caller.</summary>
public sealed class StrictJsonException(string message) : JsonException(message);
