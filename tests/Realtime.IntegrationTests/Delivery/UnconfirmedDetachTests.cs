using Dapper;
using Realtime.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Realtime.IntegrationTests.Delivery;

/// <summary>
/// A detach that a node got but never confirmed must not let the removed member hear the group:
/// the command fails and rolls back rather than commit and publish the group's next events.
/// </summary>
public sealed class UnconfirmedDetachTests : IAsyncLifetime
{
    private Cluster _cluster = null!;

    private RealtimeNode A => _cluster[0];
    private RealtimeNode B => _cluster[1];

    public async Task InitializeAsync() =>
        _cluster = await Cluster.StartAsync(nodes: 2, settings: new Dictionary<string, string?> { ["Realtime:Redis:AckTimeout"] = "00:00:00.500" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task Kick_ANodeNeverConfirmsTheDetach_CommandFailsMemberStaysAndHearsTheGroup()
    {
        var (owner, kicked) = (Unique("o"), Unique("k"));
        await using var ownerOnB = await B.ConnectAsync(owner);
        await using var kickedOnA = await A.ConnectAsync(kicked);
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "stuck", members = new[] { kicked } })).Str("groupId");
        await kickedOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId);

        // Stands for a third node that holds a terminal of the kicked user and is stuck: it receives
        // the group's channel, where detaches go (PUBLISH counts it), and never acknowledges.
        long gid;
        await using (var db = await _cluster.Database.OpenAsync())
        {
            gid = await db.ExecuteScalarAsync<long>("SELECT gid FROM groups WHERE group_id = @groupId", new { groupId });
        }
        using var stuck = await ConnectionMultiplexer.ConnectAsync(_cluster.Redis);
        var queue = await stuck.GetSubscriber().SubscribeAsync(RedisChannel.Pattern($"{_cluster.ChannelPrefix}:*:group:{RealtimeNode.App}/g{gid}"));

        await Assert.ThrowsAsync<HubErrorException>(() => ownerOnB.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { kicked } }));

        // Rolled back: still a member, and node A (which did detach, then got the undo) delivers the group again.
        Assert.Equal(2, (await ownerOnB.InvokeAsync("GetMembers", new { groupId })).Int("total"));
        var sent = await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = "still here" });
        await kickedOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == sent.Long("seq"));

        // Once every node that gets the detach confirms it, the same kick goes through.
        await queue.UnsubscribeAsync();
        await ownerOnB.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { kicked } });
        await kickedOnA.WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId));
        Assert.Equal(1, (await ownerOnB.InvokeAsync("GetMembers", new { groupId })).Int("total"));
    }
}
