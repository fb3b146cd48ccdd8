using Dapper;
using Microsoft.AspNetCore.SignalR;
using Realtime.Backplane.Redis;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Hubs;

namespace Realtime.IntegrationTests.Delivery;

/// <summary>SPEC §5.5: an event for a group of N members costs O(1) writes and O(nodes) publishes.</summary>
[Collection(SerialCollection.Name)]
public sealed class PublishCostTests
{
    private const int Members = 500;

    [Fact]
    public async Task GroupEvent_FiveHundredMembersOnTwoNodes_PublishesBoundedByNodesAndOneLogRow()
    {
        await using var cluster = await Cluster.StartAsync(nodes: 2);
        var users = Enumerable.Range(0, Members).Select(i => $"member{i:D3}").ToArray();
        await using var owner = await cluster[0].ConnectAsync("owner");
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "big", members = users[..100] })).Str("groupId");
        for (var batch = 1; batch < Members / 100; batch++)
            await owner.InvokeAsync("InviteMembers", new { groupId, userIds = users[(batch * 100)..((batch + 1) * 100)] });

        var terminals = new List<TestTerminal>();
        try
        {
            foreach (var chunk in users.Chunk(50))
                terminals.AddRange(await Task.WhenAll(chunk.Select((u, i) => cluster[i % 2].ConnectAsync(u))));

            var managers = new[] { cluster[0], cluster[1] }
                .Select(n => (RedisHubLifetimeManager<GroupHub>)n.Services.GetRequiredService<HubLifetimeManager<GroupHub>>()).ToArray();
            await using var db = await cluster.Database.OpenAsync();
            var rowsBefore = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM group_events");
            var publishesBefore = managers.Sum(m => m.PublishCount);

            var info = await owner.InvokeAsync("UpdateGroupProfile", new { groupId, notification = "one event" });
            var seq = info.Long("lastSeq");
            await Task.WhenAll(terminals.Select(t => t.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == seq)));

            var publishes = managers.Sum(m => m.PublishCount) - publishesBefore;
            Assert.InRange(publishes, 1, managers.Length);
            Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM group_events") - rowsBefore);
        }
        finally
        {
            foreach (var t in terminals) await t.DisposeAsync();
        }
    }
}
