using System.Buffers;
using System.Text.Json;
using MessagePack;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.UnitTests.Hubs;

/// <summary>JsonMessagePack: MessagePack as a second encoding of the JSON wire shape.</summary>
public sealed class JsonMessagePackTests
{
    private static readonly MessagePackSerializerOptions Options = JsonMessagePack.SerializerOptions(RealtimeJson.Configure(new JsonSerializerOptions()));

    private enum Kind { Public, ChatRoom }

    private sealed record Dto(string GroupId, Kind Type, long? Seq, JsonElement? Payload, IReadOnlyList<int> Numbers);

    [Theory]
    [InlineData("""{"a":1,"b":-2,"c":2.5,"d":"x\u00e9🌍","e":[true,false,null],"f":{},"g":[],"h":18446744073709551615,"i":-9223372036854775808}""")]
    [InlineData("""[1,[2,[3,{"x":"y"}]]]""")]
    [InlineData(""" "just a string" """)]
    [InlineData("""{"dup":1,"dup":2}""")]
    public void Element_RoundTrips_Exactly(string json)
    {
        var element = JsonDocument.Parse(json).RootElement;

        var back = MessagePackSerializer.Deserialize<JsonElement>(MessagePackSerializer.Serialize(element, Options), Options);

        Assert.True(JsonElement.DeepEquals(element, back), $"{element} came back as {back}");
        // Duplicate keys stay as sent, for the binder to refuse (as on the JSON protocol).
        Assert.Equal(element.GetRawText().Split(':').Length, back.GetRawText().Split(':').Length);
    }

    [Fact]
    public void Object_IsWrittenInItsJsonShape_CamelCaseEnumNamesNullsLeftOut()
    {
        var bytes = MessagePackSerializer.Serialize(new Dto("g1", Kind.ChatRoom, null, null, [1, 2]), Options);

        Assert.Equal("""{"groupId":"g1","type":"ChatRoom","numbers":[1,2]}""", MessagePackSerializer.ConvertToJson(bytes));
        var back = MessagePackSerializer.Deserialize<Dto>(bytes, Options);
        Assert.Equal(("g1", Kind.ChatRoom), (back.GroupId, back.Type));
        Assert.Equal([1, 2], back.Numbers);
    }

    [Fact]
    public void Depth_BeyondTheJsonProtocolsLimit_IsRefusedWithThePath()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        for (var i = 0; i < JsonMessagePack.MaxDepth; i++)
        {
            writer.WriteMapHeader(1);
            writer.Write("a");
        }
        writer.Write(1);
        writer.Flush();
        var bytes = buffer.WrittenMemory;

        var e = Assert.Throws<JsonMessagePackException>(() =>
        {
            var reader = new MessagePackReader(bytes);
            JsonMessagePack.ReadElement(ref reader);
        });

        Assert.StartsWith("a.a.a", e.Path);
        Assert.Equal($"must nest at most {JsonMessagePack.MaxDepth} levels", e.Message);
    }
}
