using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Delivery;

/// <summary>
/// A group's epoch (SPEC §4): the same everywhere for one incarnation of a group id, another one
/// once the id is dissolved and created again, and a Sync cursor carrying the old one never runs
/// on into the new group's log.
/// </summary>
public sealed class SyncEpochTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static Task<JsonElement> SyncAsync(TestTerminal c, long systemSince, object groups, int? limit = null) =>
        c.InvokeAsync("Sync", new { systemSince, groups, limit });

    private static async Task<JsonElement> SyncGroupAsync(TestTerminal c, string groupId, object cursor, int? limit = null) =>
        (await SyncAsync(c, 0, new Dictionary<string, object> { [groupId] = cursor }, limit)).GetProperty("groups").GetProperty(groupId);

    private static long[] Seqs(JsonElement group) => group.GetProperty("items").EnumerateArray().Select(i => i.Long("seq")).ToArray();

    private static async Task<string> JoinedEpochAsync(TestTerminal c, string groupId) =>
        (await c.InvokeAsync("GetJoinedGroups", new { })).GetProperty("groups").EnumerateArray().Single(g => g.Str("groupId") == groupId).Str("epoch");

    private static async Task<string> SystemEpochAsync(TestTerminal c, string type, string groupId) =>
        (await c.WaitForAsync("SystemMessage", Json.OfType(type, groupId)))[0].GetProperty("data").Str("epoch");

    [Fact]
    public async Task Epoch_OneIncarnation_SameInGroupCreatedJoinedGroupGetJoinedGroupsAndSync()
    {
        var (owner, member, late) = (Unique("o"), Unique("m"), Unique("l"));
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await using var l = await Node.ConnectAsync(late);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "epoch", members = new[] { member } })).Str("groupId");

        var epoch = await SystemEpochAsync(o, "GroupCreated", groupId);

        Assert.Matches("^[A-Za-z0-9_-]{16,64}$", epoch); // opaque, URL-safe, at least 64 bits
        Assert.Equal(epoch, await SystemEpochAsync(m, "JoinedGroup", groupId));
        // Stable across profile changes and joins by another path.
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "epoch 2" });
        Assert.Equal("Joined", (await l.InvokeAsync("ApplyToJoin", new { groupId })).Str("result"));
        Assert.Equal(epoch, await SystemEpochAsync(l, "JoinedGroup", groupId));
        foreach (var c in new[] { o, m, l })
        {
            Assert.Equal(epoch, await JoinedEpochAsync(c, groupId));
            Assert.Equal(epoch, (await SyncGroupAsync(c, groupId, 0)).Str("epoch"));
            Assert.Equal(epoch, (await SyncGroupAsync(c, groupId, new { since = 0, epoch })).Str("epoch"));
        }
        // A group never of the caller's names no epoch: there is no incarnation to tell of.
        await using var outsider = await Node.ConnectAsync(Unique("n"));
        Assert.False((await SyncGroupAsync(outsider, groupId, 0)).TryGetProperty("epoch", out _));
    }

    [Fact]
    public async Task Epoch_IdDissolvedAndCreatedAgain_Differs()
    {
        var groupId = Unique("ep.");
        await using var o = await Node.ConnectAsync(Unique("o"));
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId });
        var first = await SystemEpochAsync(o, "GroupCreated", groupId);
        await o.InvokeAsync("DissolveGroup", groupId);

        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId });

        var second = await SystemEpochAsync(o, "GroupCreated", groupId);
        Assert.NotEqual(first, second);
        Assert.Equal(second, await JoinedEpochAsync(o, groupId));
        Assert.Equal(second, (await SyncGroupAsync(o, groupId, 0)).Str("epoch"));
    }

    [Fact]
    public async Task Sync_CursorOfEarlierIncarnationBelowNewLastSeq_TooOldAndNoneOfTheNewGroupsEvents()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        var groupId = Unique("ep.");
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId, members = new[] { member } });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "a" });
        var old = await SyncGroupAsync(m, groupId, 0);
        var (oldEpoch, seen) = (old.Str("epoch"), old.Long("next"));
        Assert.Equal(2, seen);
        await o.InvokeAsync("DissolveGroup", groupId);
        // The id again, with the same member, and a log that grows past the old cursor.
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId, members = new[] { member } });
        for (var i = 0; i < 4; i++) await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"b{i}" });
        var newEpoch = await JoinedEpochAsync(m, groupId);

        var g = await SyncGroupAsync(m, groupId, new { since = seen, epoch = oldEpoch });

        // seen (2) is below the new lastSeq (5): a plain number could not tell the groups apart.
        Assert.True(g.Bool("tooOld"));
        Assert.Empty(Seqs(g));
        Assert.False(g.Bool("hasMore"));
        Assert.False(g.Bool("removed"));
        Assert.Equal(newEpoch, g.Str("epoch"));
        Assert.Equal(0, g.Long("next")); // the member is in the new group from its start
        // Reloaded, the client goes on from there with the new epoch and has the new group's whole log.
        var again = await SyncGroupAsync(m, groupId, new { since = g.Long("next"), epoch = newEpoch });
        Assert.False(again.Bool("tooOld"));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Seqs(again));
        Assert.Equal(["MembersJoined", "ProfileChanged"], again.GetProperty("items").EnumerateArray().Select(i => i.Str("type")).Distinct());
    }

    [Fact]
    public async Task Sync_CursorOfEarlierIncarnation_NextIsWhereTheCallersPartOfTheNewOneStarts()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        var groupId = Unique("ep.");
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId, members = new[] { member } });
        var oldEpoch = await SystemEpochAsync(m, "JoinedGroup", groupId);
        await o.InvokeAsync("DissolveGroup", groupId);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "before m" });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "still before m" });
        await o.InvokeAsync("InviteMembers", new { groupId, userIds = new[] { member } }); // seq 3: m joins at 2
        var joined = (await m.WaitForAsync("SystemMessage", a => Json.OfType("JoinedGroup", groupId)(a) && a[0].GetProperty("data").Str("epoch") != oldEpoch))[0];
        await o.InvokeAsync("SendMessage", new { groupId, text = "hello m" });

        var g = await SyncGroupAsync(m, groupId, new { since = 1, epoch = oldEpoch });

        Assert.True(g.Bool("tooOld"));
        Assert.Empty(Seqs(g));
        Assert.Equal(joined.GetProperty("data").Str("epoch"), g.Str("epoch"));
        Assert.Equal(joined.GetProperty("data").Long("joinSeq"), g.Long("next"));
        Assert.Equal(2, g.Long("next"));
        var again = await SyncGroupAsync(m, groupId, new { since = g.Long("next"), epoch = g.Str("epoch") });
        Assert.False(again.Bool("tooOld"));
        Assert.Equal([3L, 4L], Seqs(again));
    }

    [Fact]
    public async Task Sync_CursorOfEarlierIncarnationCallerNotInTheNewOne_ReadsTheOldOneToItsEnd()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        var groupId = Unique("ep.");
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId, members = new[] { member } });
        var oldEpoch = await SystemEpochAsync(m, "JoinedGroup", groupId);
        await o.InvokeAsync("DissolveGroup", groupId);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "not for m" });

        var g = await SyncGroupAsync(m, groupId, new { since = 1, epoch = oldEpoch });

        // The latest incarnation m had a window in is the old one, whose epoch the cursor carries.
        Assert.False(g.Bool("tooOld"));
        Assert.True(g.Bool("removed"));
        Assert.Equal(oldEpoch, g.Str("epoch"));
        Assert.Equal(["GroupDissolved"], g.GetProperty("items").EnumerateArray().Select(i => i.Str("type")));
    }

    [Fact]
    public async Task Sync_CursorWithCurrentEpoch_PagesLikeANumber()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "p0" })).Str("groupId");
        for (var i = 1; i <= 5; i++) await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = $"p{i}" });
        var epoch = await JoinedEpochAsync(o, groupId);

        var seen = new List<long>();
        long next = 0;
        for (var page = 0; page < 10; page++)
        {
            var g = await SyncGroupAsync(o, groupId, new { since = next, epoch }, limit: 2);
            Assert.False(g.Bool("tooOld"));
            Assert.Equal(epoch, g.Str("epoch"));
            Assert.Equal(Seqs(g), Seqs(await SyncGroupAsync(o, groupId, next, limit: 2))); // a plain number reads the same
            seen.AddRange(Seqs(g));
            next = g.Long("next");
            if (!g.Bool("hasMore")) break;
        }

        Assert.Equal([1L, 2L, 3L, 4L, 5L], seen);
        Assert.Equal(5, next);
    }

    [Fact]
    public async Task Sync_NumberAndEpochCursorsMixed_EachAnsweredForItsGroup()
    {
        var groupId = Unique("ep.");
        await using var o = await Node.ConnectAsync(Unique("o"));
        var other = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "other" })).Str("groupId");
        await o.InvokeAsync("UpdateGroupProfile", new { groupId = other, name = "other 2" });
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId });
        var oldEpoch = await SystemEpochAsync(o, "GroupCreated", groupId);
        await o.InvokeAsync("DissolveGroup", groupId);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId });
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "second 2" });

        var groups = (await SyncAsync(o, 0, new Dictionary<string, object> { [other] = 0, [groupId] = new { since = 0, epoch = oldEpoch } })).GetProperty("groups");

        Assert.Equal([1L], Seqs(groups.GetProperty(other)));
        Assert.False(groups.GetProperty(other).Bool("tooOld"));
        Assert.True(groups.GetProperty(groupId).Bool("tooOld"));
        Assert.Empty(Seqs(groups.GetProperty(groupId)));
    }

    [Theory]
    [InlineData("""{"systemSince":0,"groups":5}""")]
    [InlineData("""{"systemSince":0,"groups":[1]}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":"1"}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":null}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":true}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":1.5}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":-1}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":[1]}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"epoch":"abc"}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":-1,"epoch":"abc"}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":"1","epoch":"abc"}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":null}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":1,"epoch":5}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":1,"epoch":""}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":1,"epoch":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":1,"epoch":"abc","seq":1}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":{"since":1,"since":2}}}""")]
    [InlineData("""{"systemSince":0,"groups":{"g1":1,"g1":2}}""")]
    [InlineData("""{"systemSince":0,"groups":{"bad id":{"since":1,"epoch":"abc"}}}""")]
    public async Task Sync_BadCursor_InvalidArgumentNamingGroups(string request)
    {
        await using var c = await Node.ConnectAsync(Unique("u"));

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("Sync", JsonDocument.Parse(request).RootElement));

        Assert.StartsWith("[InvalidArgument] groups", message);
    }
}
