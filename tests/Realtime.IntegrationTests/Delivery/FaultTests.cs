using Dapper;
using Npgsql;
using Realtime.IntegrationTests.Backplane;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Delivery;

/// <summary>Redis or PostgreSQL going away while commands keep coming (SPEC §5.1, §5.3).</summary>
[Collection(SerialCollection.Name)]
public sealed class FaultTests
{
    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task RedisStopped_CommandsKeepCommitting_SyncHasEverythingAndLivePushesResume()
    {
        await using var redis = new RedisServerProcess();
        await redis.StartAsync();
        await using var cluster = await Cluster.StartAsync(nodes: 2, redis: redis.Configuration);
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var ownerOnB = await cluster[1].ConnectAsync(owner);
        await using var memberOnA = await cluster[0].ConnectAsync(member);
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "storm", members = new[] { member } })).Str("groupId");
        await memberOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == 1);

        await redis.StopAsync();
        for (var i = 0; i < 5; i++) await ownerOnB.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"during outage {i}" });
        await redis.StartAsync();

        // Live pushes come back by themselves: probe until one arrives (bounded).
        var probe = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var info = await ownerOnB.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"probe {probe++}" });
            var seq = info.Long("lastSeq");
            try
            {
                await memberOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == seq, TimeSpan.FromSeconds(1));
                break;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }

        var live = memberOnA.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].Long("seq")).ToList();
        var sync = await memberOnA.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 }, limit = 1000 });
        var synced = sync.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray().Select(e => e.Long("seq")).ToList();
        var last = synced[^1];
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), synced);
        Assert.Equal(live.Distinct().Count(), live.Count);
        Assert.Contains(last, live);
        Assert.True(live.Count < synced.Count, "some pushes were lost during the outage, and Sync filled them in");
    }

    [Fact]
    public async Task RedisStopped_RemovalDuringOutage_ReconcileDropsTheStaleAttachment()
    {
        await using var redis = new RedisServerProcess();
        await redis.StartAsync();
        await using var cluster = await Cluster.StartAsync(nodes: 2, redis: redis.Configuration);
        var (owner, kicked, stays) = (Unique("o"), Unique("k"), Unique("s"));
        await using var ownerOnB = await cluster[1].ConnectAsync(owner);
        await using var kickedOnA = await cluster[0].ConnectAsync(kicked);
        await using var staysOnA = await cluster[0].ConnectAsync(stays);
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "lost detach", members = new[] { kicked, stays } })).Str("groupId");
        await kickedOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId);

        // The kick commits while Redis is away: its detach cannot reach node A.
        await redis.StopAsync();
        await ownerOnB.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { kicked } });
        await redis.StartAsync();

        // Node A puts its terminals right against the database (also done on its own when Redis returns).
        await cluster[0].Services.GetRequiredService<Realtime.Server.Delivery.TerminalAttacher>().ReconcileAsync(CancellationToken.None);

        var probe = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var seq = (await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = $"probe {probe++}" })).Long("seq");
            try
            {
                await staysOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == seq, TimeSpan.FromSeconds(1));
                break;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
        Assert.DoesNotContain(kickedOnA.Received, r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId && r.Args[0].Str("type") == "Message");
    }

    [Fact]
    public async Task PostgresUnreachable_CommandsFailClearlyAndNothingHalfAppliedAppears()
    {
        var target = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres);
        await using var proxy = new TcpProxy(target.Host!, target.Port);
        await using var database = await TestDatabase.CreateAsync();
        var viaProxy = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = proxy.Port, Timeout = 3, CommandTimeout = 5 }.ConnectionString;
        await using var node = await RealtimeNode.StartAsync(viaProxy);
        await using var client = await node.ConnectAsync("owner");
        var groupId = (await client.InvokeAsync("CreateGroup", new { type = "Public", name = "before" })).Str("groupId");

        proxy.Cut();
        for (var i = 0; i < 3; i++)
        {
            var message = await Expect.HubError(ErrorCode.Internal, () => client.InvokeAsync("UpdateGroupProfile", new { groupId, name = $"lost {i}" }));
            Assert.Contains("storage is unavailable", message);
        }
        await Expect.HubError(ErrorCode.Internal, () => client.InvokeAsync("CreateGroup", new { type = "Public", name = "lost group" }));
        proxy.Restore();

        // Back: the failed commands left nothing, and the log goes on without a gap.
        var info = await client.InvokeAsync("UpdateGroupProfile", new { groupId, name = "after" });
        Assert.Equal(2, info.Int("version"));
        Assert.Equal(1, info.Long("lastSeq"));
        await using var db = await database.OpenAsync();
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM groups"));
        Assert.Equal([1L], await db.QueryAsync<long>("SELECT seq FROM group_events ORDER BY seq"));
        Assert.Equal(1, (await client.InvokeAsync("GetJoinedGroups", new { })).Int("total"));
    }
}
