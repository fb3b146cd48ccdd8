using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Storage;

/// <summary>Reads routed to the test command's streaming standby while it keeps up.</summary>
public sealed class ReadReplicaTests
{
    // Long enough that a replica busy with the other tests' WAL is waited for, not skipped: these
    // tests check that the replica answers (the lagging case has tests of its own).
    private static readonly Dictionary<string, string?> WaitForReplica = new() { ["Realtime:ReadReplica:MaxWait"] = "00:00:15" };

    private static long[] Seqs(JsonElement items) => items.EnumerateArray().Select(i => i.Long("seq")).ToArray();

    [Fact]
    public async Task Sync_RightAfterCommits_AnsweredByTheReplicaWithEveryCommit()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: WaitForReplica);
        await using var o = await node.ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "r0", members = new[] { "bob" } })).Str("groupId");
        var before = (Replica: await TestStandby.ReadsAsync(node, "target=\"replica\""), Primary: await TestStandby.ReadsAsync(node, "target=\"primary\""));

        for (var round = 1; round <= 5; round++)
        {
            await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = $"r{round}" });
            // Read-your-writes: each Sync comes right after the commit it must see.
            var g = (await o.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 } }))
                .GetProperty("groups").GetProperty(groupId);
            Assert.Equal(Enumerable.Range(1, round + 1).Select(i => (long)i), Seqs(g.GetProperty("items")));
        }
        var members = await o.InvokeAsync("GetMembers", new { groupId });
        var joined = await o.InvokeAsync("GetJoinedGroups", new { });

        Assert.Equal(2, members.Long("total"));
        Assert.Equal(6, joined.GetProperty("groups")[0].Long("lastSeq"));
        Assert.Equal(7, await TestStandby.ReadsAsync(node, "target=\"replica\"") - before.Replica);
        Assert.Equal(0, await TestStandby.ReadsAsync(node, "target=\"primary\"") - before.Primary);
    }

    [Fact]
    public async Task Sync_TwoNodes_EventPushedFromOneNodeIsInTheOtherNodesReplicaAnswer()
    {
        await using var cluster = await Cluster.StartAsync(nodes: 2, settings: WaitForReplica);
        await using var sender = await cluster[0].ConnectAsync("sender");
        await using var reader = await cluster[1].ConnectAsync("reader");
        var groupId = (await sender.InvokeAsync("CreateGroup", new { type = "Public", name = "two", members = new[] { "reader" } })).Str("groupId");
        var before = await TestStandby.ReadsAsync(cluster[1], "target=\"replica\"");

        for (var i = 1; i <= 20; i++) await sender.InvokeAsync("SendMessage", new { groupId, text = $"m{i}" });
        // The last push has arrived on the other node: Sync there has it, and everything before it.
        await reader.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == 21);
        var g = (await reader.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 } }))
            .GetProperty("groups").GetProperty(groupId);

        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), Seqs(g.GetProperty("items")));
        var live = reader.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].GetProperty("id").GetString());
        Assert.Equal(live, g.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(1, await TestStandby.ReadsAsync(cluster[1], "target=\"replica\"") - before);
    }
}
