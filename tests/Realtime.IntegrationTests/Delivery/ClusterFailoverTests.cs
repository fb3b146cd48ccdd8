using Dapper;
using Realtime.IntegrationTests.Backplane;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Delivery;

/// <summary>
/// Two nodes on a private Redis Cluster whose shard of the group fails over while messages flow and
/// a member is kicked: pushes resume by themselves, Sync gives every event, and nothing of the group
/// reaches the kicked member after the kick.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ClusterFailoverTests
{
    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public Task ClusterFailover_OfTheGroupsShardWhileMessagesFlow_PushesResumeSyncHasAllKickedHearsNothing() =>
        RunAsync((redis, master) => redis.FailoverAsync(master));

    [Fact]
    public Task MasterKilled_OfTheGroupsShardWhileMessagesFlow_PushesResumeSyncHasAllKickedHearsNothing() =>
        RunAsync((redis, master) => redis.KillAsync(master));

    private static async Task RunAsync(Func<RedisClusterProcess, int, Task> disturb)
    {
        await using var redis = await RedisClusterProcess.StartAsync();
        await using var cluster = await Cluster.StartAsync(nodes: 2, redis: redis.Configuration);
        var (owner, kicked, staysA, staysB) = (Unique("o"), Unique("k"), Unique("a"), Unique("b"));
        await using var ownerOnB = await cluster[1].ConnectAsync(owner);
        await using var kickedOnA = await cluster[0].ConnectAsync(kicked);
        await using var staysOnA = await cluster[0].ConnectAsync(staysA);
        await using var staysOnB = await cluster[1].ConnectAsync(staysB);
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "failover", members = new[] { kicked, staysA, staysB } })).Str("groupId");
        foreach (var t in new[] { kickedOnA, staysOnA, staysOnB }) await t.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId);

        // The shard that carries the group's channel is the one to fail over.
        long gid;
        await using (var db = await cluster.Database.OpenAsync())
        {
            gid = await db.ExecuteScalarAsync<long>("SELECT gid FROM groups WHERE group_id = @groupId", new { groupId });
        }
        var master = await redis.MasterOfAsync($"{cluster.ChannelPrefix}:Realtime.Server.Hubs.GroupHub:group:{RealtimeNode.App}/g{gid}");

        // Messages flow all along, from the owner on B (a send never fails for Redis: it is durable first).
        using var stop = new CancellationTokenSource();
        var sent = 0;
        var flowing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = $"m{sent++}" });
                await Task.Delay(20);
            }
        });
        await staysOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Str("type") == "Message");

        await disturb(redis, master);

        // The kick may be refused while the shard has no master (its detach cannot be published);
        // refused means rolled back, so it is simply asked again.
        var deadline = DateTime.UtcNow + TestTimeouts.Recovery;
        while (true)
        {
            try
            {
                await ownerOnB.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { kicked } });
                break;
            }
            catch (HubErrorException) when (DateTime.UtcNow < deadline)
            {
            }
        }

        // Pushes resume by themselves: a message sent from now on reaches both remaining members live.
        var resumed = (await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = "after the kick" })).Long("seq");
        await WaitLiveAsync(ownerOnB, staysOnA, groupId, resumed);
        await WaitLiveAsync(ownerOnB, staysOnB, groupId, resumed);
        await stop.CancelAsync();
        await flowing;
        var last = (await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = "last" })).Long("seq");
        foreach (var t in new[] { staysOnA, staysOnB }) await t.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == last);

        long kickSeq = 0;
        foreach (var t in new[] { staysOnA, staysOnB })
        {
            var sync = await t.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 }, limit = 1000 });
            var items = sync.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray().ToList();
            var synced = items.Select(e => e.Long("seq")).ToList();
            kickSeq = items.Single(e => e.Str("type") == "MembersKicked").Long("seq");
            Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), synced);
            var live = t.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].Long("seq")).ToList();
            Assert.Equal(live.Distinct().Count(), live.Count);
        }

        // The Kicked push itself may have been lost in the failover (Sync has it). Node A handled every
        // group event up to `last` before staysOnA got it; a system message made after that reaches the
        // kicked terminal after anything of the group node A might have queued for it.
        var kickedSync = await kickedOnA.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long>(), limit = 1000 });
        Assert.Contains(kickedSync.GetProperty("system").GetProperty("items").EnumerateArray(), m => m.Str("type") == "Kicked" && m.Str("groupId") == groupId);
        await WaitLiveSystemMessageAsync(ownerOnB, kickedOnA, kicked);
        Assert.DoesNotContain(kickedOnA.Received, r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId && r.Args[0].Long("seq") >= kickSeq);
        Assert.True(sent > 0);
    }

    private static async Task WaitLiveSystemMessageAsync(TestTerminal owner, TestTerminal member, string user)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Recovery;
        while (true)
        {
            var probe = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "probe", members = new[] { user } })).Str("groupId");
            try
            {
                await member.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", probe), TimeSpan.FromSeconds(1));
                return;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    // A node that lost its subscription holds the group back until it has reconciled: probe with
    // fresh messages until one arrives (bounded), as a client would notice it is live again.
    private static async Task WaitLiveAsync(TestTerminal sender, TestTerminal member, string groupId, long from)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Recovery;
        var seq = from;
        while (true)
        {
            try
            {
                await member.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") >= seq, TimeSpan.FromSeconds(1));
                return;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
                seq = (await sender.InvokeAsync("SendMessage", new { groupId, text = "probe" })).Long("seq");
            }
        }
    }
}
