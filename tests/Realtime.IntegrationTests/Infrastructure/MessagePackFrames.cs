using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MessagePack;
using Realtime.Protocol;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// Raw frames of the MessagePack hub protocol (version 1) for tests that must send what no client library would:
/// an invocation whose arguments are written from JSON text exactly (duplicate keys and lone surrogates included,
/// the surrogate as the 3-byte sequence a JavaScript encoder writes), or from a hand-made MessagePack writer; and
/// the server's frames read back as the JSON hub protocol's equivalent object, so one judge reads both protocols.
/// </summary>
internal static class MessagePackFrames
{
    public const string Handshake = "{\"protocol\":\"messagepack\",\"version\":1}\u001e";

    public delegate void Write(ref MessagePackWriter writer);

    /// <summary>An Invocation frame: [1, headers, invocationId, target, arguments, streamIds], length-prefixed.</summary>
    public static byte[] Invocation(string invocationId, string target, Write writeArguments) =>
        Framed((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6);
            w.Write(1);
            w.WriteMapHeader(0);
            w.Write(invocationId);
            w.Write(target);
            writeArguments(ref w);
            w.WriteArrayHeader(0);
        });

    /// <summary>An Invocation frame whose arguments array is <paramref name="argumentsJson"/> transcoded value for value.</summary>
    public static byte[] Invocation(string invocationId, string target, string argumentsJson)
    {
        var json = Encoding.UTF8.GetBytes(argumentsJson);
        return Invocation(invocationId, target, (ref MessagePackWriter w) =>
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 1000 });
            reader.Read();
            WriteValue(ref reader, ref w);
        });
    }

    /// <summary>
    /// Takes complete frames off the front of <paramref name="buffer"/> (the bytes after the handshake answer), each
    /// as its JSON protocol form: {"type":3,"invocationId","error"|"result"}, {"type":7,"error"}, {"type":1,"target"}, {"type":6}.
    /// </summary>
    public static List<JsonElement> TakeFrames(List<byte> buffer)
    {
        var frames = new List<JsonElement>();
        while (TryReadLength(buffer, out var length, out var prefix) && buffer.Count >= prefix + length)
        {
            var payload = buffer.GetRange(prefix, length).ToArray();
            buffer.RemoveRange(0, prefix + length);
            frames.Add(AsJson(payload));
        }
        return frames;
    }

    private static JsonElement AsJson(byte[] payload)
    {
        var reader = new MessagePackReader(payload);
        var count = reader.ReadArrayHeader();
        var type = reader.ReadInt32();
        var o = new Dictionary<string, object?> { ["type"] = type };
        switch (type)
        {
            case 1: // [1, headers, invocationId, target, arguments, ...]
                reader.Skip();
                o["invocationId"] = reader.TryReadNil() ? null : reader.ReadString();
                o["target"] = reader.ReadString();
                o["arguments"] = JsonMessagePack.ReadElement(ref reader);
                break;
            case 3: // [3, headers, invocationId, resultKind, result?]: 1 error, 2 void, 3 a result
                reader.Skip();
                o["invocationId"] = reader.ReadString();
                var kind = reader.ReadInt32();
                if (kind == 1) o["error"] = reader.ReadString();
                if (kind == 3) o["result"] = JsonMessagePack.ReadElement(ref reader);
                break;
            case 7: // [7, error, allowReconnect?]
                o["error"] = reader.TryReadNil() ? null : reader.ReadString();
                break;
        }
        _ = count;
        return JsonSerializer.SerializeToElement(o);
    }

    private static bool TryReadLength(List<byte> buffer, out int length, out int prefix)
    {
        length = 0;
        for (prefix = 0; prefix < Math.Min(5, buffer.Count); prefix++)
        {
            length |= (buffer[prefix] & 0x7f) << (7 * prefix);
            if ((buffer[prefix] & 0x80) == 0)
            {
                prefix++;
                return true;
            }
        }
        return false;
    }

    private static byte[] Framed(Write write)
    {
        var body = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(body);
        write(ref writer);
        writer.Flush();
        var prefix = new List<byte>();
        for (var n = (uint)body.WrittenCount; ; n >>= 7)
        {
            if (n < 0x80)
            {
                prefix.Add((byte)n);
                break;
            }
            prefix.Add((byte)(n & 0x7f | 0x80));
        }
        return [.. prefix, .. body.WrittenSpan];
    }

    private static void WriteValue(ref Utf8JsonReader reader, ref MessagePackWriter w)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                // Counting first: MessagePack states the length up front; duplicate keys are kept as sent.
                var isObject = reader.TokenType == JsonTokenType.StartObject;
                var copy = reader;
                var count = 0;
                var depth = copy.CurrentDepth;
                while (copy.Read() && copy.CurrentDepth > depth)
                {
                    if (copy.CurrentDepth == depth + 1 && (isObject ? copy.TokenType == JsonTokenType.PropertyName : copy.TokenType is not (JsonTokenType.EndArray or JsonTokenType.EndObject))) count++;
                    if (copy.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) copy.Skip();
                }
                if (isObject) w.WriteMapHeader(count);
                else w.WriteArrayHeader(count);
                while (reader.Read() && reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray))
                {
                    if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        w.WriteString(Wtf8(ref reader));
                        reader.Read();
                    }
                    WriteValue(ref reader, ref w);
                }
                break;
            case JsonTokenType.String:
                w.WriteString(Wtf8(ref reader));
                break;
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var l)) w.Write(l);
                else if (reader.TryGetUInt64(out var u)) w.Write(u);
                else w.Write(reader.GetDouble());
                break;
            case JsonTokenType.True:
                w.Write(true);
                break;
            case JsonTokenType.False:
                w.Write(false);
                break;
            default:
                w.WriteNil();
                break;
        }
    }

    /// <summary>The string's UTF-8, or for text with a lone surrogate the generalized UTF-8 a JavaScript encoder writes.</summary>
    private static byte[] Wtf8(ref Utf8JsonReader reader)
    {
        try
        {
            return Encoding.UTF8.GetBytes(reader.GetString()!);
        }
        catch (InvalidOperationException)
        {
            var raw = Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
            var units = new List<char>();
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] != '\\') units.Add(raw[i]);
                else if (raw[++i] == 'u') { units.Add((char)int.Parse(raw.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; }
                else units.Add(raw[i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', var c => c });
            }
            var bytes = new List<byte>();
            for (var i = 0; i < units.Count; i++)
            {
                int cp = units[i];
                if (char.IsHighSurrogate(units[i]) && i + 1 < units.Count && char.IsLowSurrogate(units[i + 1])) cp = char.ConvertToUtf32(units[i], units[++i]);
                if (cp < 0x80) bytes.Add((byte)cp);
                else if (cp < 0x800) bytes.AddRange([(byte)(0xC0 | cp >> 6), (byte)(0x80 | cp & 0x3F)]);
                else if (cp < 0x10000) bytes.AddRange([(byte)(0xE0 | cp >> 12), (byte)(0x80 | cp >> 6 & 0x3F), (byte)(0x80 | cp & 0x3F)]);
                else bytes.AddRange([(byte)(0xF0 | cp >> 18), (byte)(0x80 | cp >> 12 & 0x3F), (byte)(0x80 | cp >> 6 & 0x3F), (byte)(0x80 | cp & 0x3F)]);
            }
            return [.. bytes];
        }
    }
}
