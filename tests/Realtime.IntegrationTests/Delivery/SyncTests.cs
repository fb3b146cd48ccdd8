using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Delivery;
using Realtime.Server.Operations;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Delivery;

public sealed class SyncTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static Task<JsonElement> SyncAsync(TestTerminal c, long systemSince, Dictionary<string, long>? groups = null, int? limit = null) =>
        c.InvokeAsync("Sync", new { systemSince, groups = groups ?? [], limit });

    private static long[] Seqs(JsonElement items) => items.EnumerateArray().Select(i => i.Long("seq")).ToArray();

    [Fact]
    public async Task Sync_FromZero_ReturnsEverythingPushedInOrder()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var o = await Node.ConnectAsync(owner);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "log", members = new[] { member } })).Str("groupId");
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "log 2" });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "log 3" });
        await o.WaitForAsync("GroupEvent", a => a[0].Long("seq") == 3);

        // A terminal that was offline the whole time.
        await using var late = await Node.ConnectAsync(member, "late");
        var result = await SyncAsync(late, 0, new() { [groupId] = 0 });

        var system = result.GetProperty("system");
        Assert.Equal(["JoinedGroup"], system.GetProperty("items").EnumerateArray().Select(i => i.Str("type")));
        Assert.Equal(1, system.Long("next"));
        Assert.False(system.Bool("hasMore"));
        var group = result.GetProperty("groups").GetProperty(groupId);
        Assert.Equal([1L, 2L, 3L], Seqs(group.GetProperty("items")));
        Assert.Equal(["MembersJoined", "ProfileChanged", "ProfileChanged"], group.GetProperty("items").EnumerateArray().Select(i => i.Str("type")));
        Assert.False(group.Bool("removed"));
        Assert.False(group.Bool("tooOld"));

        // What was pushed live is exactly what Sync returns.
        var live = o.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].GetProperty("id").GetString());
        Assert.Equal(live, group.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Sync_Paged_HasMoreAndNextWalkTheLog()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "p0" })).Str("groupId");
        for (var i = 1; i <= 5; i++) await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = $"p{i}" });

        var seen = new List<long>();
        long next = 0;
        for (var page = 0; page < 10; page++)
        {
            var g = (await SyncAsync(o, 0, new() { [groupId] = next }, limit: 2)).GetProperty("groups").GetProperty(groupId);
            seen.AddRange(Seqs(g.GetProperty("items")));
            next = g.Long("next");
            if (!g.Bool("hasMore")) break;
        }

        Assert.Equal([1L, 2L, 3L, 4L, 5L], seen);
        Assert.Equal(5, next);
    }

    [Fact]
    public async Task Sync_AfterDissolve_RemovedAndNothingOfTheNextGroupWithSameId()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        var groupId = Unique("reuse.");
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId, members = new[] { member } });
        await o.InvokeAsync("DissolveGroup", groupId);
        // The id is taken again by a group the member is not in.
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "second, edited" });

        var g = (await SyncAsync(m, 0, new() { [groupId] = 0 })).GetProperty("groups").GetProperty(groupId);

        Assert.True(g.Bool("removed"));
        Assert.Equal(["MembersJoined", "GroupDissolved"], g.GetProperty("items").EnumerateArray().Select(i => i.Str("type")));
    }

    [Fact]
    public async Task Sync_CursorFromAnEarlierGroupWithTheSameId_TooOld()
    {
        var owner = Unique("o");
        var groupId = Unique("again.");
        await using var o = await Node.ConnectAsync(owner);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId });
        for (var i = 0; i < 5; i++) await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"v{i}" });
        await o.InvokeAsync("DissolveGroup", groupId);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId });

        var g = (await SyncAsync(o, 0, new() { [groupId] = 6 })).GetProperty("groups").GetProperty(groupId);

        Assert.True(g.Bool("tooOld"));
        Assert.False(g.Bool("removed"));
    }

    [Fact]
    public async Task Sync_MoreThanTheItemBudget_StreamsPastItAnswerHasMoreAndContinue()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Realtime:SyncMaxItems"] = "5",
        });
        await using var o = await node.ConnectAsync("owner");
        var ids = new List<string>();
        for (var g = 0; g < 3; g++)
        {
            var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = $"b{g}" })).Str("groupId");
            for (var i = 0; i < 3; i++) await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"{g}.{i}" });
            ids.Add(groupId);
        }
        var systemNext = (await SyncAsync(o, 0)).GetProperty("system").Long("next");

        var first = (await SyncAsync(o, systemNext, ids.ToDictionary(id => id, _ => 0L))).GetProperty("groups");

        Assert.Equal([3, 2, 0], ids.Select(id => first.GetProperty(id).GetProperty("items").GetArrayLength()));
        Assert.Equal([false, true, true], ids.Select(id => first.GetProperty(id).Bool("hasMore")));
        var again = (await SyncAsync(o, systemNext, ids.ToDictionary(id => id, id => first.GetProperty(id).Long("next")))).GetProperty("groups");
        Assert.Equal([0, 1, 3], ids.Select(id => again.GetProperty(id).GetProperty("items").GetArrayLength()));
        Assert.Equal([false, false, false], ids.Select(id => again.GetProperty(id).Bool("hasMore")));
    }

    [Fact]
    public async Task Sync_GroupNeverJoined_RemovedAndEmpty()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        await using var outsider = await Node.ConnectAsync(Unique("n"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "closed", members = new[] { "x1" } })).Str("groupId");

        var g = (await SyncAsync(outsider, 0, new() { [groupId] = 0 })).GetProperty("groups").GetProperty(groupId);

        Assert.True(g.Bool("removed"));
        Assert.Equal(0, g.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Sync_CursorOlderThanRetention_TooOld()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Realtime:RetentionEventsPerGroup"] = "3",
        });
        await using var o = await node.ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "n0" })).Str("groupId");
        for (var i = 1; i <= 6; i++) await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = $"n{i}" });

        Assert.True(await node.Services.GetRequiredService<RetentionService>().TrimAsync());

        var old = (await SyncAsync(o, 0, new() { [groupId] = 0 })).GetProperty("groups").GetProperty(groupId);
        Assert.True(old.Bool("tooOld"));
        Assert.Equal([4L, 5L, 6L], Seqs(old.GetProperty("items")));
        var fresh = (await SyncAsync(o, 0, new() { [groupId] = 3 })).GetProperty("groups").GetProperty(groupId);
        Assert.False(fresh.Bool("tooOld"));
        Assert.Equal([4L, 5L, 6L], Seqs(fresh.GetProperty("items")));
    }

    [Fact]
    public async Task Sync_TwoThousandGroupCursors_AnsweredAndOneMoreRefused()
    {
        await using var c = await Node.ConnectAsync(Unique("u"));
        var cursors = Enumerable.Range(0, 2000).ToDictionary(i => $"long-group-id-for-size-{i:D5}", _ => 0L);

        var result = await c.InvokeAsync("Sync", new { systemSince = 0, groups = cursors });

        Assert.Equal(2000, result.GetProperty("groups").EnumerateObject().Count());
        cursors["one-too-many"] = 0;
        await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("Sync", new { systemSince = 0, groups = cursors }));
    }

    [Theory]
    [InlineData("""{"systemSince":-1}""", "systemSince")]
    [InlineData("""{"systemSince":0,"limit":0}""", "limit")]
    [InlineData("""{"systemSince":0,"limit":1001}""", "limit")]
    [InlineData("""{"systemSince":0,"groups":{"bad id":0}}""", "groups")]
    [InlineData("""{"systemSince":0,"cursor":1}""", "cursor")]
    public async Task Sync_BadRequest_InvalidArgumentNamingField(string request, string field)
    {
        await using var c = await Node.ConnectAsync(Unique("u"));

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("Sync", JsonDocument.Parse(request).RootElement));

        Assert.Contains(field, message);
    }
}
