using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>
/// Hostile input through raw hub frames (SPEC §3, issue "Hardening" 1–3, 9): enum values are exactly
/// the spec's names, NUL and lone surrogates are refused, binding is strict, and a refused call
/// changes nothing. Each case answers an [InvalidArgument] naming the field, never [Internal].
/// </summary>
public sealed class HostileInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private async Task<RawHubSocket> RawAsync(string user)
    {
        var socket = await RawHubSocket.ConnectAsync(Node.HubUrl, TestTokens.Issue(user), "raw");
        Assert.False((await socket.HandshakeAsync()).TryGetProperty("error", out _));
        return socket;
    }

    /// <summary>Invokes with raw argument JSON and answers the error text, asserting it is InvalidArgument naming the field.</summary>
    private static async Task RefusedAsync(RawHubSocket socket, string method, string arguments, string field)
    {
        var completion = await socket.InvokeRawAsync(method, arguments);
        Assert.True(completion.TryGetProperty("error", out var error), $"{method} {arguments} was accepted: {completion}");
        Assert.StartsWith("[InvalidArgument]", error.GetString());
        Assert.Contains(field, error.GetString());
    }

    public static TheoryData<string, string> BadCreateEnums() => new()
    {
        { "applyJoinOption", "\"NeedPermission, FreeAccess\"" },
        { "applyJoinOption", "\"needPermission\"" },
        { "applyJoinOption", "\" NeedPermission\"" },
        { "applyJoinOption", "1" },
        { "inviteOption", "\"Anyone, AdminsOnly\"" },
        { "type", "\"Public, ChatRoom\"" },
        { "type", "\"public\"" },
        { "type", "\" Public\"" },
        { "type", "\"Public \"" },
    };

    [Theory]
    [MemberData(nameof(BadCreateEnums))]
    public async Task CreateGroup_EnumNotExactlyASpecName_InvalidArgumentAndNothingCreated(string field, string value)
    {
        var user = Unique("u");
        await using var socket = await RawAsync(user);
        var request = field == "type" ? $$"""{"type":{{value}},"name":"p"}""" : $$"""{"type":"Public","name":"p","{{field}}":{{value}}}""";
        await RefusedAsync(socket, "CreateGroup", $"[{request}]", field);

        var joined = (await socket.InvokeRawAsync("GetJoinedGroups", "[{}]")).GetProperty("result");
        Assert.Equal(0, joined.Int("total"));
    }

    [Theory]
    [InlineData("role", "\"Admin, Member\"")]
    [InlineData("msgRecvOption", "\"Discard, ReceiveNoNotify\"")]
    [InlineData("msgRecvOption", "\"discard\"")]
    public async Task UpdateMember_EnumNotExactlyASpecName_InvalidArgumentAndMemberUnchanged(string field, string value)
    {
        var owner = Unique("o");
        await using var socket = await RawAsync(owner);
        var groupId = (await socket.InvokeRawAsync("CreateGroup", """[{"type":"Public","name":"p"}]""")).GetProperty("result").Str("groupId");

        await RefusedAsync(socket, "UpdateMember", $$"""[{"groupId":"{{groupId}}","userId":"{{owner}}","{{field}}":{{value}}}]""", field);

        var members = (await socket.InvokeRawAsync("GetMembers", $$"""[{"groupId":"{{groupId}}"}]""")).GetProperty("result");
        var me = members.GetProperty("members")[0];
        Assert.Equal("Owner", me.Str("role"));
        Assert.Equal("ReceiveAndNotify", me.Str("msgRecvOption"));
    }

    [Fact]
    public async Task GetMembers_RoleWithComma_InvalidArgument()
    {
        await using var socket = await RawAsync(Unique("o"));
        var groupId = (await socket.InvokeRawAsync("CreateGroup", """[{"type":"Public","name":"p"}]""")).GetProperty("result").Str("groupId");
        await RefusedAsync(socket, "GetMembers", $$"""[{"groupId":"{{groupId}}","role":"Owner, Admin"}]""", "role");
    }

    public static TheoryData<string, string> NulInCreate() => new()
    {
        { "name", """{"type":"Public","name":"a\u0000b"}""" },
        { "introduction", """{"type":"Public","name":"p","introduction":"\u0000"}""" },
        { "notification", """{"type":"Public","name":"p","notification":"x\u0000"}""" },
        { "custom", """{"type":"Public","name":"p","custom":"\u0000"}""" },
        { "requestId", """{"type":"Public","name":"p","requestId":"r\u0000"}""" },
        { "groupId", """{"type":"Public","name":"p","groupId":"g\u0000"}""" },
    };

    [Theory]
    [MemberData(nameof(NulInCreate))]
    public async Task CreateGroup_NulInAString_InvalidArgumentNamingTheField(string field, string request)
    {
        await using var socket = await RawAsync(Unique("u"));
        await RefusedAsync(socket, "CreateGroup", $"[{request}]", field);
        Assert.Equal(0, (await socket.InvokeRawAsync("GetJoinedGroups", "[{}]")).GetProperty("result").Int("total"));
    }

    [Theory]
    [InlineData("text", """{"text":"hi\u0000"}""")]
    [InlineData("payload", """{"payload":{"k":"v\u0000"}}""")]
    [InlineData("payload", """{"payload":{"k\u0000":1}}""")]
    [InlineData("payload", """{"payload":["\ud800"]}""")]
    [InlineData("payload", """{"payload":{"\udc00":1}}""")]
    [InlineData("text", """{"text":"\ud800"}""")]
    [InlineData("clientMsgId", """{"text":"x","clientMsgId":"\u0000"}""")]
    public async Task SendMessage_NulOrLoneSurrogate_InvalidArgumentAndNothingSent(string field, string body)
    {
        await using var socket = await RawAsync(Unique("o"));
        var groupId = (await socket.InvokeRawAsync("CreateGroup", """[{"type":"Public","name":"p"}]""")).GetProperty("result").Str("groupId");
        var request = body.Insert(1, $"\"groupId\":\"{groupId}\",");

        await RefusedAsync(socket, "SendMessage", $"[{request}]", field);

        var info = (await socket.InvokeRawAsync("GetGroups", $"[[\"{groupId}\"]]")).GetProperty("result").GetProperty("groups")[0];
        Assert.Equal(0, info.Long("lastSeq"));
    }

    [Theory]
    [InlineData("SearchGroup", "[\"\\ud800\"]", "groupId")]
    [InlineData("DissolveGroup", "[\"\\ud800\"]", "groupId")]
    [InlineData("QuitGroup", "[\"\\udfff\"]", "groupId")]
    [InlineData("TransferOwnership", "[\"g\",\"\\ud800\"]", "newOwnerId")]
    [InlineData("GetGroups", "[[\"\\ud800\"]]", "groupIds")]
    [InlineData("SearchGroup", "[\"a\\u0000\"]", "groupId")]
    [InlineData("GetGroups", "[[\"a\\u0000\"]]", "groupIds")]
    public async Task PlainStringArgument_LoneSurrogateOrNul_InvalidArgument(string method, string arguments, string field)
    {
        await using var socket = await RawAsync(Unique("u"));
        await RefusedAsync(socket, method, arguments, field);
    }

    [Theory]
    [InlineData("""{"type":"Public","name":"p","maxMembers":"5"}""", "maxMembers")]
    [InlineData("""{"type":"Public","Name":"p"}""", "Name")]
    [InlineData("""{"type":"Public","name":"p","name":"q"}""", "name")]
    [InlineData("""{"type":"Public","name":"p","inviteNeedsConfirm":"true"}""", "inviteNeedsConfirm")]
    public async Task CreateGroup_LenientShapes_Refused(string request, string field)
    {
        await using var socket = await RawAsync(Unique("u"));
        await RefusedAsync(socket, "CreateGroup", $"[{request}]", field);
    }

    [Theory]
    [InlineData("CreateGroup", "[]", "1")]
    [InlineData("CreateGroup", """[{"type":"Public","name":"p"},1]""", "1")]
    [InlineData("TransferOwnership", "[\"g\"]", "2")]
    [InlineData("WhoAmI", "[1]", "0")]
    public async Task WrongArgumentCount_InvalidArgumentSayingHowMany(string method, string arguments, string expected)
    {
        await using var socket = await RawAsync(Unique("u"));
        var completion = await socket.InvokeRawAsync(method, arguments);
        var error = completion.GetProperty("error").GetString()!;
        Assert.StartsWith("[InvalidArgument]", error);
        Assert.Contains($"expected {expected} argument", error);
    }

    [Fact]
    public async Task UnknownMethod_InvalidArgumentNamingIt()
    {
        await using var socket = await RawAsync(Unique("u"));
        var error = (await socket.InvokeRawAsync("NoSuchMethod", "[]")).GetProperty("error").GetString()!;
        Assert.StartsWith("[InvalidArgument]", error);
        Assert.Contains("NoSuchMethod", error);
    }

    [Fact]
    public async Task Payload_NestedDeeperThanTheLimit_InvalidArgument()
    {
        await using var socket = await RawAsync(Unique("o"));
        var groupId = (await socket.InvokeRawAsync("CreateGroup", """[{"type":"Public","name":"p"}]""")).GetProperty("result").Str("groupId");
        var deep = string.Concat(Enumerable.Repeat("[", 40)) + string.Concat(Enumerable.Repeat("]", 40));
        await RefusedAsync(socket, "SendMessage", $$"""[{"groupId":"{{groupId}}","payload":{{deep}}}]""", "payload");

        // Within the limit it is an ordinary payload.
        var ok = string.Concat(Enumerable.Repeat("[", 20)) + string.Concat(Enumerable.Repeat("]", 20));
        Assert.True((await socket.InvokeRawAsync("SendMessage", $$"""[{"groupId":"{{groupId}}","payload":{{ok}}}]""")).TryGetProperty("result", out _));
    }

    [Fact]
    public async Task FrameNestedPastTheProtocolsDepth_ConnectionClosedWithAReason()
    {
        await using var socket = await RawAsync(Unique("u"));
        var deep = string.Concat(Enumerable.Repeat("[", 70)) + string.Concat(Enumerable.Repeat("]", 70));
        await socket.SendFrameAsync($$"""{"type":1,"invocationId":"1","target":"SendMessage","arguments":[{"groupId":"g","payload":{{deep}}}]}""");
        var frame = await socket.NextFrameAsync();
        Assert.Equal(7, frame.Int("type"));
        Assert.True(frame.Str("error").Contains("depth", StringComparison.OrdinalIgnoreCase), frame.Str("error"));
    }

    [Fact]
    public async Task UnknownFrameType_ConnectionClosedWithAReason()
    {
        await using var socket = await RawAsync(Unique("u"));
        await socket.SendFrameAsync("""{"type":99}""");
        var frame = await socket.NextFrameAsync();
        Assert.Equal(7, frame.Int("type"));
        Assert.Contains("99", frame.Str("error"));
    }
}

/// <summary>The database's own second line: enum columns refuse anything but the spec's names.</summary>
public sealed class EnumCheckTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("UPDATE groups SET apply_join_option = '3'")]
    [InlineData("UPDATE groups SET type = 'public'")]
    [InlineData("UPDATE groups SET invite_option = 'Anyone, AdminsOnly'")]
    [InlineData("UPDATE group_members SET role = 'Owner, Admin'")]
    [InlineData("UPDATE group_members SET msg_recv_option = 'discard'")]
    public async Task EnumColumn_UndefinedValue_RefusedByTheDatabase(string update)
    {
        await using var owner = await fixture.Node.ConnectAsync($"o{Guid.NewGuid():N}"[..20]);
        await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "checked" });
        await using var db = await fixture.Database.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(update, db);
        var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal(Npgsql.PostgresErrorCodes.CheckViolation, e.SqlState);
    }
}
