using System.Text.Json;
using MessagePack;
using Realtime.IntegrationTests.Hardening;
using Realtime.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Realtime.IntegrationTests.Protocol;

/// <summary>
/// The MessagePack hub protocol beside JSON (issue "Clients"): the same calls, pushes and results in the same shape,
/// the same "[Code] message" errors for the same bad requests, and [InvalidArgument] naming the field for the
/// MessagePack values that have no JSON form (binary, extensions, non-string keys, text that is not UTF-8, NaN).
/// </summary>
public sealed class MessagePackProtocolTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private Task<TestTerminal> ConnectAsync(string user, bool messagePack) =>
        TestTerminal.ConnectAsync(fixture.Node.HubUrl, TestTokens.Issue(user), messagePack: messagePack);

    [Fact]
    public async Task Conversation_MessagePackAndJsonMembers_GetTheSameResultsAndPushes()
    {
        string o = NewId("o"), j = NewId("j"), p = NewId("p"), groupId = NewId("g");
        await using var owner = await ConnectAsync(o, messagePack: true);
        await using var jsonMember = await ConnectAsync(j, messagePack: false);
        await using var packMember = await ConnectAsync(p, messagePack: true);

        var created = await owner.InvokeAsync("CreateGroup", new { groupId, type = "Public", name = "héllo 🌍", members = new[] { j, p } });
        Assert.Equal(groupId, created.Str("groupId"));
        var payload = JsonDocument.Parse("""
            {"kind":"card","n":1,"half":2.5,"neg":-3,"big":9007199254740993,"huge":18446744073709551615,
             "list":[true,false,null,"x"],"nested":{"deeper":{"emoji":"🌍","empty":{}}}}
            """).RootElement;
        var sent = await owner.InvokeAsync("SendMessage", new { groupId, text = "hello\nworld", payload, clientMsgId = "mp-1" });

        var viaJson = (await jsonMember.WaitForAsync("GroupEvent", Json.OfType("Message", groupId)))[0];
        var viaPack = (await packMember.WaitForAsync("GroupEvent", Json.OfType("Message", groupId)))[0];
        Assert.True(JsonElement.DeepEquals(viaJson, viaPack), $"JSON push {viaJson} differs from MessagePack push {viaPack}");
        Assert.Equal(sent.Long("seq"), viaPack.Long("seq"));
        Assert.True(JsonElement.DeepEquals(payload, viaPack.GetProperty("data").GetProperty("payload")), $"payload changed on the way: {viaPack}");

        // A result with nested arrays, enums by name and timestamps: the same document on both protocols.
        var syncRequest = new { groups = new Dictionary<string, long> { [groupId] = 0 } };
        var syncJson = await jsonMember.InvokeAsync("Sync", syncRequest);
        var syncPack = await packMember.InvokeAsync("Sync", syncRequest);
        Assert.True(JsonElement.DeepEquals(syncJson.GetProperty("groups"), syncPack.GetProperty("groups")), $"Sync differs: {syncJson} / {syncPack}");
        Assert.Equal("Public", (await packMember.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Str("type"));
    }

    /// <summary>Each request goes as the same JSON value on both protocols (duplicate keys included).</summary>
    public static TheoryData<string, string> BadRequests() => new()
    {
        { "CreateGroup", """{"type":"Public","name":"x","unknownField":1}""" },
        { "CreateGroup", """{"type":"public","name":"x"}""" },
        { "CreateGroup", """{"type":"Public, ChatRoom","name":"x"}""" },
        { "CreateGroup", """{"type":3,"name":"x"}""" },
        { "CreateGroup", """{"type":"Public","name":"a\u0000b"}""" },
        { "CreateGroup", """{"type":"Public","name":5}""" },
        { "CreateGroup", """{"type":"Public","Name":"x"}""" },
        { "CreateGroup", """{"type":"Public","name":"x","name":"y"}""" },
        { "CreateGroup", """{"name":"x"}""" },
        { "SendMessage", """{"groupId":"no-such-group-mp","text":"hi"}""" },
        { "SendMessage", """{"groupId":"g","text":"hi","payload":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}""" },
        { "GetMembers", """{"groupId":"g","limit":"5"}""" },
        { "GetMembers", "[]" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequest_SameErrorOnBothProtocols(string method, string request)
    {
        var user = NewId("e");
        await using var json = await ConnectAsync(user, messagePack: false);
        await using var pack = await ConnectAsync(user, messagePack: true);
        var argument = JsonDocument.Parse(request).RootElement;

        var viaJson = await Assert.ThrowsAsync<HubErrorException>(() => json.InvokeAsync(method, argument));
        var viaPack = await Assert.ThrowsAsync<HubErrorException>(() => pack.InvokeAsync(method, argument));

        Assert.StartsWith("[", viaJson.Message);
        Assert.Equal(viaJson.Message, viaPack.Message);
    }

    /// <summary>MessagePack values no JSON request can hold, each in a CreateGroup that would otherwise succeed.</summary>
    public static TheoryData<string, string> ValuesWithoutJsonForm() => new()
    {
        { "binary name", "name" },
        { "timestamp extension in members", "members[0]" },
        { "integer map key", "custom" },
        { "invalid UTF-8 in name", "name" },
        { "lone surrogate in a key", "custom" },
        { "NaN in custom", "custom.score" },
        { "nested 70 levels", "custom.a.a.a" },
    };

    [Theory]
    [MemberData(nameof(ValuesWithoutJsonForm))]
    public async Task ValueWithoutJsonForm_InvalidArgumentNamingTheField_NothingCreated(string label, string field)
    {
        var user = NewId("v");
        var groupId = NewId("gv");
        await using var socket = await SweepSocket.ConnectAsync(fixture.Node.HubUrl, user, messagePack: true);
        var frame = MessagePackFrames.Invocation("v1", "CreateGroup", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            w.WriteMapHeader(label is "binary name" or "invalid UTF-8 in name" ? 3 : 4);
            w.Write("groupId");
            w.Write(groupId);
            w.Write("type");
            w.Write("Public");
            switch (label)
            {
                case "binary name":
                    w.Write("name");
                    w.Write(new byte[] { 1, 2, 3 });
                    return;
                case "invalid UTF-8 in name":
                    w.Write("name");
                    w.WriteString(new byte[] { 0x61, 0xC3, 0x28 });
                    return;
            }
            w.Write("name");
            w.Write("ok");
            switch (label)
            {
                case "timestamp extension in members":
                    w.Write("members");
                    w.WriteArrayHeader(1);
                    w.Write(DateTime.UtcNow);
                    break;
                case "integer map key":
                    w.Write("custom");
                    w.WriteMapHeader(1);
                    w.Write(7);
                    w.Write("seven");
                    break;
                case "lone surrogate in a key":
                    w.Write("custom");
                    w.WriteMapHeader(1);
                    w.WriteString(new byte[] { 0xED, 0xA0, 0x80 });
                    w.Write("v");
                    break;
                case "NaN in custom":
                    w.Write("custom");
                    w.WriteMapHeader(1);
                    w.Write("score");
                    w.Write(double.NaN);
                    break;
                case "nested 70 levels":
                    w.Write("custom");
                    for (var i = 0; i < 70; i++)
                    {
                        w.WriteMapHeader(1);
                        w.Write("a");
                    }
                    w.Write(1);
                    break;
            }
        });

        var answer = await socket.SendAndAwaitAsync(frame, "v1");

        Assert.Equal(HubAnswerKind.Completion, answer.Kind);
        Assert.StartsWith($"[InvalidArgument] {field}", answer.Error);
        var groups = await socket.InvokeAsync("GetGroups", $$"""[["{{groupId}}"]]""");
        Assert.Equal(0, groups.Frame.GetProperty("result").GetProperty("groups").GetArrayLength());
    }

    [Fact]
    public async Task PlainStringArgument_Binary_NamesTheArgument()
    {
        await using var socket = await SweepSocket.ConnectAsync(fixture.Node.HubUrl, NewId("q"), messagePack: true);
        var frame = MessagePackFrames.Invocation("q1", "QuitGroup", (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            w.Write(new byte[] { 0 });
        });

        var answer = await socket.SendAndAwaitAsync(frame, "q1");

        Assert.StartsWith("[InvalidArgument] groupId: ", answer.Error);
    }

    [Fact]
    public async Task UnknownMessageType_ClosesWithTheReason()
    {
        await using var socket = await SweepSocket.ConnectAsync(fixture.Node.HubUrl, NewId("u"), messagePack: true);
        // [99, {}]: no message type of the protocol; SignalR would skip it in silence.
        var answer = await socket.SendAndAwaitAsync([3, 0x92, 99, 0x80], null);

        Assert.Equal(HubAnswerKind.Closed, answer.Kind);
        Assert.Contains("unsupported message type 99", answer.Detail);
        Assert.Contains("messagepack", answer.Detail);
    }
}

/// <summary>The generated bad-input sweep of every hub method (Hardening), sent over the MessagePack protocol.</summary>
public sealed class MessagePackSweepFixture : SweepFixture
{
    protected override bool MessagePack => true;
}

public sealed class MessagePackBadInputSweepTests(MessagePackSweepFixture fixture, ITestOutputHelper output) : IClassFixture<MessagePackSweepFixture>
{
    [Theory]
    [MemberData(nameof(BadInputSweepTests.HubTargets), MemberType = typeof(BadInputSweepTests))]
    public Task Hub(string target) => BadInputSweepTests.HubSweepAsync(fixture, output, target);
}

/// <summary>Realtime:HubProtocols: a node that offers only JSON refuses a MessagePack handshake (and serializes pushes once).</summary>
public sealed class JsonOnlyNodeFixture : ServerFixture
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Realtime:HubProtocols"] = "json" };
}

public sealed class HubProtocolsSettingTests(JsonOnlyNodeFixture fixture) : IClassFixture<JsonOnlyNodeFixture>
{
    [Fact]
    public async Task JsonOnly_MessagePackHandshakeRefused_JsonServed()
    {
        var token = TestTokens.Issue("hp-user");

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => TestTerminal.ConnectAsync(fixture.Node.HubUrl, token, messagePack: true));
        Assert.Contains("'messagepack' is not supported", refused.Message);
        await using var json = await TestTerminal.ConnectAsync(fixture.Node.HubUrl, token);
        Assert.Equal("hp-user", (await json.InvokeAsync("WhoAmI")).Str("userId"));
    }
}
