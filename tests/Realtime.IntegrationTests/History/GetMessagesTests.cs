using System.Text.Json;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;
using Realtime.Server.Operations;

namespace Realtime.IntegrationTests.History;

/// <summary>GetMessages (SPEC §9) over real WebSockets and REST: paging, and Sync's visibility (membership windows, retention).</summary>
public sealed class GetMessagesTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static long[] Seqs(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(i => i.Long("seq")).ToArray();

    private static string[] Texts(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("data").Str("text")).ToArray();

    private static async Task<List<long>> SendAsync(TestTerminal t, string groupId, params string[] texts)
    {
        var seqs = new List<long>();
        foreach (var text in texts) seqs.Add((await t.InvokeAsync("SendMessage", new { groupId, text })).Long("seq"));
        return seqs;
    }

    [Fact]
    public async Task GetMessages_PagedWithBefore_EveryMessageOnceNewestFirstAndNoOtherEvents()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "history" })).Str("groupId");
        var sent = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            sent.AddRange(await SendAsync(o, groupId, $"m{i}"));
            // Other events between the messages are not history.
            await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"v{i}" });
        }

        var seen = new List<long>();
        long? before = null;
        for (var page = 0; page < 10; page++)
        {
            var p = await o.InvokeAsync("GetMessages", new { groupId, before, limit = 3 });
            Assert.All(p.GetProperty("items").EnumerateArray(), e =>
            {
                Assert.Equal("Message", e.Str("type"));
                Assert.Equal(groupId, e.Str("groupId"));
            });
            seen.AddRange(Seqs(p));
            if (!p.Bool("hasMore")) break;
            before = Seqs(p)[^1];
        }

        Assert.Equal(Enumerable.Reverse(sent), seen);
        var first = await o.InvokeAsync("GetMessages", new { groupId });
        Assert.Equal(["m6", "m5", "m4", "m3", "m2", "m1", "m0"], Texts(first));
        Assert.False(first.Bool("hasMore"));
    }

    [Fact]
    public async Task GetMessages_DefaultLimitFiftyAndMaxTwoHundred()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "many" })).Str("groupId");
        await Task.WhenAll(Enumerable.Range(0, 205).Select(i => o.InvokeAsync("SendMessage", new { groupId, text = $"n{i}" })));

        var byDefault = await o.InvokeAsync("GetMessages", new { groupId });
        var most = await o.InvokeAsync("GetMessages", new { groupId, limit = 200 });

        Assert.Equal(50, byDefault.GetProperty("items").GetArrayLength());
        Assert.True(byDefault.Bool("hasMore"));
        Assert.Equal(200, most.GetProperty("items").GetArrayLength());
        Assert.True(most.Bool("hasMore"));
        Assert.Equal(205, Seqs(most)[0]); // a group created without members starts at lastSeq 0
        await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("GetMessages", new { groupId, limit = 201 }));
    }

    [Fact]
    public async Task GetMessages_LateJoiner_SeesNothingFromBeforeItsJoin()
    {
        var (owner, late) = (Unique("o"), Unique("l"));
        await using var o = await Node.ConnectAsync(owner);
        await using var l = await Node.ConnectAsync(late);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "late" })).Str("groupId");
        await SendAsync(o, groupId, "before 1", "before 2");
        await l.InvokeAsync("ApplyToJoin", new { groupId });
        var after = await SendAsync(o, groupId, "after 1", "after 2");

        var page = await l.InvokeAsync("GetMessages", new { groupId });

        Assert.Equal(["after 2", "after 1"], Texts(page));
        Assert.False(page.Bool("hasMore"));
        // Asking from below its join answers nothing either.
        Assert.Empty(Seqs(await l.InvokeAsync("GetMessages", new { groupId, before = after[0] })));
        Assert.Equal(4, Seqs(await o.InvokeAsync("GetMessages", new { groupId })).Length);
    }

    [Fact]
    public async Task GetMessages_KickedMember_NothingAfterTheKickAndNothingOfTheGapOnceBack()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "kick", members = new[] { member } })).Str("groupId");
        await SendAsync(o, groupId, "in 1", "in 2");
        await o.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { member } });
        await SendAsync(o, groupId, "gap 1", "gap 2");

        // Out of the group: it reads nothing of it.
        await Expect.HubError(ErrorCode.NotMember, () => m.InvokeAsync("GetMessages", new { groupId }));

        await m.InvokeAsync("ApplyToJoin", new { groupId });
        await SendAsync(o, groupId, "back 1");
        var page = await m.InvokeAsync("GetMessages", new { groupId });

        Assert.Equal(["back 1", "in 2", "in 1"], Texts(page));
        Assert.Equal(["back 1", "gap 2", "gap 1", "in 2", "in 1"], Texts(await o.InvokeAsync("GetMessages", new { groupId })));
        // Paging from inside the gap goes on below it.
        var gapSeq = Seqs(await o.InvokeAsync("GetMessages", new { groupId, limit = 2 }))[1];
        Assert.Equal(["in 2", "in 1"], Texts(await m.InvokeAsync("GetMessages", new { groupId, before = gapSeq })));
    }

    [Fact]
    public async Task GetMessages_NonMember_NotMemberAndGroupNotFoundForPrivate()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        await using var x = await Node.ConnectAsync(Unique("x"));
        var pub = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "pub" })).Str("groupId");
        var priv = (await o.InvokeAsync("CreateGroup", new { type = "Private", name = "priv" })).Str("groupId");

        await Expect.HubError(ErrorCode.NotMember, () => x.InvokeAsync("GetMessages", new { groupId = pub }));
        await Expect.HubError(ErrorCode.GroupNotFound, () => x.InvokeAsync("GetMessages", new { groupId = priv }));
        await Expect.HubError(ErrorCode.GroupNotFound, () => x.InvokeAsync("GetMessages", new { groupId = "no-such-group" }));
    }

    [Fact]
    public async Task GetMessages_DisabledGroup_StillRead()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "off" })).Str("groupId");
        await SendAsync(o, groupId, "kept");
        using var rest = RestClient.Admin(Node);
        (await rest.PostAsync($"/chatgroups/{Uri.EscapeDataString(groupId)}/disable")).Ok();

        Assert.Equal(["kept"], Texts(await o.InvokeAsync("GetMessages", new { groupId })));
    }

    [Theory]
    [InlineData("""{"groupId":"g1","limit":0}""", "limit")]
    [InlineData("""{"groupId":"g1","limit":201}""", "limit")]
    [InlineData("""{"groupId":"g1","before":0}""", "before")]
    [InlineData("""{"groupId":"g1","before":-1}""", "before")]
    [InlineData("""{"groupId":"g1","before":"5"}""", "before")]
    [InlineData("""{"limit":5}""", "groupId")]
    [InlineData("""{"groupId":"g1","after":5}""", "after")]
    public async Task GetMessages_BadRequest_InvalidArgumentNamingField(string request, string field)
    {
        await using var c = await Node.ConnectAsync(Unique("u"));

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("GetMessages", JsonDocument.Parse(request).RootElement));

        Assert.Contains(field, message);
    }

    [Fact]
    public async Task Rest_Messages_AppAdminPagesTheWholeLogWithCursor()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "rest" })).Str("groupId");
        var sent = await SendAsync(o, groupId, "r0", "r1", "r2", "r3", "r4");
        using var rest = RestClient.Admin(Node);
        var path = $"/chatgroups/{Uri.EscapeDataString(groupId)}/messages";

        var first = await rest.GetAsync($"{path}?limit=3");
        var data = first.Ok();
        Assert.Equal(3, first.Body.Int("count"));
        Assert.Equal([sent[4], sent[3], sent[2]], data.EnumerateArray().Select(e => e.Long("seq")));
        Assert.Equal("r4", data[0].GetProperty("data").Str("text"));
        Assert.True(data[0].GetProperty("at").GetInt64() > 0, "at is epoch milliseconds");
        var cursor = first.Body.Str("cursor");
        Assert.Equal(sent[2].ToString(), cursor);

        var second = await rest.GetAsync($"{path}?limit=3&before={cursor}");
        Assert.Equal([sent[1], sent[0]], second.Ok().EnumerateArray().Select(e => e.Long("seq")));
        Assert.False(second.Body.TryGetProperty("cursor", out _));

        (await rest.GetAsync($"{path}?limit=201")).Fails(ErrorCode.InvalidArgument);
        (await rest.GetAsync($"{path}?before=0")).Fails(ErrorCode.InvalidArgument);
        (await rest.GetAsync("/chatgroups/no-such-group/messages")).Fails(ErrorCode.GroupNotFound);
    }

    [Fact]
    public async Task GetMessages_AfterRetention_OnlyWhatIsKeptAndHasMoreFalse()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Realtime:RetentionEventsPerGroup"] = "3",
        });
        await using var o = await node.ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "short" })).Str("groupId");
        var sent = await SendAsync(o, groupId, "t1", "t2", "t3", "t4", "t5", "t6");

        Assert.True(await node.Services.GetRequiredService<RetentionService>().TrimAsync());

        var page = await o.InvokeAsync("GetMessages", new { groupId, limit = 10 });
        Assert.Equal(["t6", "t5", "t4"], Texts(page));
        Assert.False(page.Bool("hasMore"));
        Assert.Empty(Seqs(await o.InvokeAsync("GetMessages", new { groupId, before = sent[3] })));
    }
}
