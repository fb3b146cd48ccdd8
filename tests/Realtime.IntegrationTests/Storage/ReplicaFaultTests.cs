using System.Net;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Storage;

/// <summary>
/// The standby paused or stopped: answers stay right (from the primary). These change the one
/// shared standby, so they run in the serial collection, when no other test reads through it.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReplicaFaultTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Realtime:ReadReplica:MaxWait"] = "00:00:00.3",
        ["Realtime:ReadReplica:RetryAfter"] = "00:00:00.2",
    };

    private static long[] Seqs(JsonElement items) => items.EnumerateArray().Select(i => i.Long("seq")).ToArray();

    private static async Task<JsonElement> SyncGroupAsync(TestTerminal t, string groupId) =>
        (await t.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 } }))
            .GetProperty("groups").GetProperty(groupId);

    [Fact]
    public async Task Sync_ReplicaReplayPaused_JustCommittedEventsAnsweredFromThePrimary()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings);
        await using var o = await node.ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "lag", members = new[] { "bob" } })).Str("groupId");
        await Expect.EventuallyAsync(async () => (await SyncGroupAsync(o, groupId)).GetProperty("items").GetArrayLength() == 1
            && await TestStandby.ReadsAsync(node, "target=\"replica\"") > 0, "a Sync is answered by the replica");

        await TestStandby.PauseReplayAsync();
        try
        {
            await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "lag 2" });
            await o.InvokeAsync("InviteMembers", new { groupId, userIds = new[] { "carol" } });
            var staleBefore = await TestStandby.ReadsAsync(node, "reason=\"stale\"");

            var g = await SyncGroupAsync(o, groupId);
            var members = await o.InvokeAsync("GetMembers", new { groupId });

            // The standby really is behind: it still has the group at seq 1.
            Assert.Equal(1, await TestStandby.QueryAsync<long>(database.Name, "SELECT last_seq FROM groups WHERE group_id = @groupId", new { groupId }));
            Assert.Equal([1L, 2L, 3L], Seqs(g.GetProperty("items")));
            Assert.False(g.Bool("tooOld"));
            Assert.Equal(3, members.Long("total"));
            Assert.Equal(2, await TestStandby.ReadsAsync(node, "reason=\"stale\"") - staleBefore);
        }
        finally
        {
            await TestStandby.ResumeReplayAsync();
        }

        // Caught up again, the replica answers again.
        var replicaBefore = await TestStandby.ReadsAsync(node, "target=\"replica\"");
        await Expect.EventuallyAsync(async () => (await SyncGroupAsync(o, groupId)).GetProperty("items").GetArrayLength() == 3
            && await TestStandby.ReadsAsync(node, "target=\"replica\"") > replicaBefore, "a Sync is answered by the replica again");
    }

    [Fact]
    public async Task Reads_ReplicaStopped_AnsweredFromThePrimaryAndReadyzSaysSoWith200()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings);
        using var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        await using var o = await node.ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "down", members = new[] { "bob" } })).Str("groupId");
        Assert.StartsWith("Healthy", await http.GetStringAsync("/readyz"));

        await TestStandby.StopAsync();
        try
        {
            await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "down 2" });
            var downBefore = await TestStandby.ReadsAsync(node, "reason=\"down\"");

            var g = await SyncGroupAsync(o, groupId);
            var joined = await o.InvokeAsync("GetJoinedGroups", new { });
            var ready = await http.GetAsync("/readyz");
            var body = await ready.Content.ReadAsStringAsync();

            Assert.Equal([1L, 2L], Seqs(g.GetProperty("items")));
            Assert.Equal(2, joined.GetProperty("groups")[0].Long("lastSeq"));
            Assert.Equal(2, await TestStandby.ReadsAsync(node, "reason=\"down\"") - downBefore);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.StartsWith("Degraded", body);
            Assert.Contains("postgres-read: Degraded (replica unreachable", body);
        }
        finally
        {
            if (!await TestStandby.IsRunningAsync()) await TestStandby.StartAsync();
        }

        // Back: readyz is healthy again and reads return to the replica.
        await Expect.EventuallyAsync(async () => (await http.GetStringAsync("/readyz")).StartsWith("Healthy", StringComparison.Ordinal), "readyz is healthy again");
        var replicaBefore = await TestStandby.ReadsAsync(node, "target=\"replica\"");
        await Expect.EventuallyAsync(async () => (await SyncGroupAsync(o, groupId)).GetProperty("items").GetArrayLength() == 2
            && await TestStandby.ReadsAsync(node, "target=\"replica\"") > replicaBefore, "a Sync is answered by the replica again");
    }
}
