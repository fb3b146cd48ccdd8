using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;

namespace Realtime.Protocol;

/// <summary>
/// MessagePack as a second encoding of the JSON wire shape. Every value crosses as the MessagePack form of its
/// System.Text.Json form under the given options, so both hub protocols share one naming policy, one set of enum
/// names, one null rule and — on the way in — one binder: a hub argument arrives as the <see cref="JsonElement"/>
/// the JSON protocol would have produced, and SPEC §3's strictness (unknown fields, strict types, the field named)
/// stays in RealtimeJson alone. MessagePack-CSharp's own resolvers would bring a second policy (member names as
/// declared, unknown keys ignored) that every DTO would have to be annotated against.
/// Server-free (System.Text.Json and MessagePack only) so the .NET client links this same file.
/// </summary>
public static class JsonMessagePack
{
    /// <summary>Nesting accepted from the wire: as deep as the JSON hub protocol reads (64).</summary>
    public const int MaxDepth = 64;

    /// <summary>Options for SignalR's MessagePack protocol (server's or client's) that write and read through <paramref name="json"/>.</summary>
    public static MessagePackSerializerOptions SerializerOptions(JsonSerializerOptions json) =>
        MessagePackSerializerOptions.Standard
            .WithResolver(new Resolver(json))
            .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Reads one MessagePack value as JSON; throws <see cref="JsonMessagePackException"/> for what JSON cannot say.</summary>
    public static JsonElement ReadElement(ref MessagePackReader reader)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            Copy(ref reader, writer, "", 1);
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
        return document.RootElement.Clone();
    }

    /// <summary>Writes a JSON value as MessagePack.</summary>
    public static void WriteElement(ref MessagePackWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var count = 0;
                foreach (var _ in element.EnumerateObject()) count++;
                writer.WriteMapHeader(count);
                foreach (var property in element.EnumerateObject())
                {
                    writer.Write(property.Name);
                    WriteElement(ref writer, property.Value);
                }
                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(element.GetArrayLength());
                foreach (var item in element.EnumerateArray()) WriteElement(ref writer, item);
                break;
            case JsonValueKind.String:
                writer.Write(element.GetString());
                break;
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var l)) writer.Write(l);
                else if (element.TryGetUInt64(out var u)) writer.Write(u);
                else writer.Write(element.GetDouble());
                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    // Strict UTF-8: MessagePack's default decoder would turn invalid bytes (e.g. an encoded lone surrogate) into U+FFFD.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void Copy(ref MessagePackReader reader, Utf8JsonWriter writer, string path, int depth)
    {
        if (depth > MaxDepth) throw new JsonMessagePackException(path, $"must nest at most {MaxDepth} levels");
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Map:
                var pairs = reader.ReadMapHeader();
                writer.WriteStartObject();
                for (var i = 0; i < pairs; i++)
                {
                    if (reader.NextMessagePackType != MessagePackType.String)
                        throw new JsonMessagePackException(path, "map keys must be strings");
                    var key = ReadString(ref reader, path);
                    writer.WritePropertyName(key);
                    Copy(ref reader, writer, path.Length == 0 ? key : path + "." + key, depth + 1);
                }
                writer.WriteEndObject();
                break;
            case MessagePackType.Array:
                var items = reader.ReadArrayHeader();
                writer.WriteStartArray();
                for (var i = 0; i < items; i++) Copy(ref reader, writer, $"{path}[{i}]", depth + 1);
                writer.WriteEndArray();
                break;
            case MessagePackType.String:
                writer.WriteStringValue(ReadString(ref reader, path));
                break;
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64) writer.WriteNumberValue(reader.ReadUInt64());
                else writer.WriteNumberValue(reader.ReadInt64());
                break;
            case MessagePackType.Float:
                var d = reader.ReadDouble();
                if (!double.IsFinite(d)) throw new JsonMessagePackException(path, "must be a finite number");
                writer.WriteNumberValue(d);
                break;
            case MessagePackType.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Nil:
                reader.ReadNil();
                writer.WriteNullValue();
                break;
            default:
                // Binary and extension values (timestamps included) have no JSON form, so no request field takes them.
                throw new JsonMessagePackException(path, $"must be a JSON value ({reader.NextMessagePackType} is not supported)");
        }
    }

    private static string ReadString(ref MessagePackReader reader, string path)
    {
        var bytes = reader.ReadStringSequence();
        if (bytes is null) throw new JsonMessagePackException(path, "must be a string");
        try
        {
            return StrictUtf8.GetString(bytes.Value.IsSingleSegment ? bytes.Value.FirstSpan : bytes.Value.ToArray());
        }
        catch (DecoderFallbackException)
        {
            throw new JsonMessagePackException(path, "must be valid Unicode text (it is not UTF-8)");
        }
    }

    private sealed class Resolver(JsonSerializerOptions json) : IFormatterResolver
    {
        // Asked on every value serialized or read, from many threads at once: lock-free once a type is known.
        private readonly ConcurrentDictionary<Type, object> _formatters = new();

        public IMessagePackFormatter<T>? GetFormatter<T>() =>
            (IMessagePackFormatter<T>)_formatters.GetOrAdd(typeof(T), _ => typeof(T) == typeof(JsonElement) ? new ElementFormatter() : new ViaJson<T>(json));
    }

    private sealed class ElementFormatter : IMessagePackFormatter<JsonElement>
    {
        public void Serialize(ref MessagePackWriter writer, JsonElement value, MessagePackSerializerOptions options) => WriteElement(ref writer, value);

        public JsonElement Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) => ReadElement(ref reader);
    }

    private sealed class ViaJson<T>(JsonSerializerOptions json) : IMessagePackFormatter<T>
    {
        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        {
            using var document = JsonSerializer.SerializeToDocument(value, json);
            WriteElement(ref writer, document.RootElement);
        }

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            ReadElement(ref reader).Deserialize<T>(json)!;
    }
}

/// <summary>A MessagePack value that has no JSON form; <see cref="Path"/> names where it was ("" for the value itself).</summary>
public sealed class JsonMessagePackException(string path, string problem) : Exception(problem)
{
    public string Path { get; } = path;
}
