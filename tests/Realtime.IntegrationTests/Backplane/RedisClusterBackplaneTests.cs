using System.Net;
using Realtime.Backplane.Redis.Internal;
using Realtime.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>
/// The specification on two nodes sharing the local Redis Cluster (three masters, three replicas),
/// plus what sharding promises: a channel lives on the one shard that owns its slot.
/// </summary>
public sealed class RedisClusterBackplaneTests : HubLifetimeManagerSpecification
{
    private readonly string _prefix = NewId("test");

    protected override (TestNode A, TestNode B) CreateNodes() =>
        (TestNode.WithRedis(TestEnvironment.RedisCluster, _prefix), TestNode.WithRedis(TestEnvironment.RedisCluster, _prefix));

    [Fact]
    public async Task SendGroupAsync_MembersOnTwoNodes_GroupChannelLivesOnOneShardOnlyAndOnePublishReachesBoth()
    {
        var group = NewId("g");
        var onA = await A.ConnectAsync(NewId("u"));
        var onB = await B.ConnectAsync(NewId("u"));
        await A.Manager.AddToGroupAsync(onA.ConnectionId, group).Within();
        await B.Manager.AddToGroupAsync(onB.ConnectionId, group).Within();

        var channel = (string)new RedisChannels(_prefix, typeof(TestHub).FullName!).Group(group)!;
        using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.RedisCluster).Within();
        var masters = redis.GetServers().Where(s => !s.IsReplica).ToArray();
        Assert.Equal(3, masters.Length);
        var sharded = new List<long>();
        foreach (var master in masters)
        {
            // SHARDNUMSUB: sharded subscribers on that node; NUMSUB: classic ones (which every shard would carry).
            sharded.Add(Count(await master.ExecuteAsync("PUBSUB", "SHARDNUMSUB", channel).Within()));
            Assert.Equal(0, Count(await master.ExecuteAsync("PUBSUB", "NUMSUB", channel).Within()));
        }

        // Both nodes on the master that owns the channel's slot, no one anywhere else.
        Assert.Equal([0, 0, 2], sharded.Order().ToArray());

        var publishesBefore = A.Redis.PublishCount + B.Redis.PublishCount;
        await B.Manager.SendGroupAsync(group, "InGroup", ["once"]).Within();
        await onA.NextAsync("InGroup");
        await onB.NextAsync("InGroup");
        Assert.Equal(1, A.Redis.PublishCount + B.Redis.PublishCount - publishesBefore);
    }

    [Fact]
    public async Task RemoveUserFromGroupAsync_UserOnBothNodesChannelsOnDifferentShards_BothDetachedBeforeItReturns()
    {
        // A user and a group whose channels hash to different shards: the detach (group channel)
        // and the attach (user channel) are acknowledged by shard-local counts, each exact.
        using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.RedisCluster).Within();
        var channels = new RedisChannels(_prefix, typeof(TestHub).FullName!);
        var user = NewId("u");
        // A sharded channel hashes to the slot a key of the same name would.
        EndPoint Owner(RedisChannel channel) => redis.GetServer((RedisKey)(string)channel!).EndPoint;
        var userServer = Owner(channels.User(user));
        string group;
        do group = NewId("g");
        while (Equals(Owner(channels.Group(group)), userServer));

        TestClient[] clients = [await A.ConnectAsync(user), await B.ConnectAsync(user)];
        for (var round = 0; round < 5; round++)
        {
            await A.UserGroups.AddUserToGroupAsync(user, group).Within();
            Assert.All(new[] { (A, clients[0]), (B, clients[1]) }, p => Assert.Contains(group, p.Item1.UserGroups.LocalGroupsOf(p.Item2.ConnectionId)));
            await A.UserGroups.RemoveUserFromGroupAsync(user, group).Within();
            Assert.All(new[] { (A, clients[0]), (B, clients[1]) }, p => Assert.DoesNotContain(group, p.Item1.UserGroups.LocalGroupsOf(p.Item2.ConnectionId)));
        }
    }

    private static long Count(RedisResult result) => (long)((RedisResult[])result!)[1];
}
