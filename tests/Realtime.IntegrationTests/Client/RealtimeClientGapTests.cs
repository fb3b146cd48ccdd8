extern alias ClientLib;

using ClientLib::Realtime.Client;
using Realtime.IntegrationTests.Backplane;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Client;

/// <summary>A gap seen on a live connection: pushes lost while Redis was down (SPEC §5.3), found by seq and filled by Sync.</summary>
[Collection(SerialCollection.Name)]
public sealed class RealtimeClientGapTests
{
    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Theory]
    [MemberData(nameof(RealtimeClientTests.Protocols), MemberType = typeof(RealtimeClientTests))]
    public async Task PushesLostWhileRedisWasDown_NextPushShowsTheGap_SyncFillsItInOrderOnce(HubProtocol protocol)
    {
        await using var redis = new RedisServerProcess();
        await redis.StartAsync();
        await using var cluster = await Cluster.StartAsync(nodes: 2, redis: redis.Configuration);
        var (alice, bob) = (Unique("a"), Unique("b"));
        await using var a = RealtimeClientTests.NewClient(alice, protocol, null, cluster[0]);
        var aRec = new ClientRecorder(a);
        await a.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await using var b = RealtimeClientTests.NewClient(bob, protocol, null, cluster[1]);
        await b.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "outage", Members: [alice]));
        await aRec.WaitForSeqAsync(group.GroupId, 1);

        await redis.StopAsync();
        for (var i = 1; i <= 3; i++) await b.SendTextAsync(group.GroupId, $"during outage {i}");
        await redis.StartAsync();

        // Cross-node pushes come back once the backplane has reconnected: probe until one arrives (bounded).
        long last;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (var probe = 0; ; probe++)
        {
            last = (await b.SendTextAsync(group.GroupId, $"probe {probe}")).Seq;
            try
            {
                await aRec.WaitForAsync(r => r.Seqs(group.GroupId).Contains(last), $"probe {probe} arrives", TimeSpan.FromSeconds(1));
                break;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }

        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), aRec.Seqs(group.GroupId));
        Assert.Equal(Enumerable.Range(1, 3).Select(i => $"during outage {i}"), aRec.Texts(group.GroupId).Take(3));
        Assert.True(a.Stats.GapsDetected >= 1, "the first push after the outage was ahead of the cursor");
        Assert.True(a.Stats.DuplicatesDropped >= 1, "that push was also in the Sync answer, and delivered once");
        Assert.Contains(aRec.Syncs, s => s.Reason == "push" && s.Delivered > 0);
    }
}
