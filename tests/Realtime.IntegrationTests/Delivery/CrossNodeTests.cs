using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Delivery;

/// <summary>Two nodes, one PostgreSQL, one Redis: every terminal of every member is reached.</summary>
public class CrossNodeTests : IAsyncLifetime
{
    /// <summary>The Redis the nodes share: the single one here, a cluster in <see cref="CrossNodeClusterTests"/>.</summary>
    protected virtual string Redis => TestEnvironment.Redis;

    private Cluster _cluster = null!;

    private RealtimeNode A => _cluster[0];
    private RealtimeNode B => _cluster[1];

    public async Task InitializeAsync() => _cluster = await Cluster.StartAsync(nodes: 2, redis: Redis);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static long[] SystemSeqs(TestTerminal c) =>
        c.Received.Where(r => r.Target == "SystemMessage").Select(r => r.Args[0].Long("seq")).ToArray();

    [Fact]
    public async Task SystemMessage_UserOnBothNodes_EveryMessageOnBothTerminals()
    {
        var user = Unique("u");
        await using var onA = await A.ConnectAsync(user, "phone");
        await using var onB = await B.ConnectAsync(user, "laptop");

        for (var i = 0; i < 6; i++)
            await (i % 2 == 0 ? onA : onB).InvokeAsync("CreateGroup", new { type = "Public", name = $"g{i}" });

        foreach (var terminal in new[] { onA, onB })
        {
            await terminal.WaitForAsync("SystemMessage", a => a[0].Long("seq") == 6);
            Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], SystemSeqs(terminal));
        }
    }

    [Fact]
    public async Task GroupEvent_RaisedOnB_ReachesMemberOnAFromTheFirstEvent()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var ownerOnB = await B.ConnectAsync(owner);
        await using var memberOnA = await A.ConnectAsync(member);

        // The member is added on B: A must attach their terminal before MembersJoined arrives.
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "cross", members = new[] { member } })).Str("groupId");
        await ownerOnB.InvokeAsync("UpdateGroupProfile", new { groupId, name = "cross 2" });

        var first = (await memberOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId))[0];
        Assert.Equal("MembersJoined", first.Str("type"));
        var second = (await memberOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId))[0];
        Assert.Equal("ProfileChanged", second.Str("type"));
        Assert.Equal(2, second.Long("seq"));
        await memberOnA.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
    }

    [Fact]
    public async Task Attach_RepeatedAcrossNodes_NoEventMissedOrRepeated()
    {
        var owner = Unique("o");
        await using var ownerOnA = await A.ConnectAsync(owner);
        var members = Enumerable.Range(0, 10).Select(i => Unique($"m{i}")).ToArray();
        var terminals = await Task.WhenAll(members.Select((m, i) => (i % 2 == 0 ? A : B).ConnectAsync(m)));
        try
        {
            var groupId = (await ownerOnA.InvokeAsync("CreateGroup", new { type = "Public", name = "many", members })).Str("groupId");
            for (var i = 0; i < 5; i++) await ownerOnA.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"round {i}" });

            foreach (var t in terminals)
            {
                await t.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == 6);
                var seqs = t.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].Long("seq"));
                Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], seqs);
            }
        }
        finally
        {
            foreach (var t in terminals) await t.DisposeAsync();
        }
    }

    [Fact]
    public async Task Dissolve_OnA_MembersOnBGetBothMessagesAndNothingLater()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var ownerOnA = await A.ConnectAsync(owner);
        await using var memberOnB = await B.ConnectAsync(member);
        var groupId = (await ownerOnA.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "bye", members = new[] { member } })).Str("groupId");

        await ownerOnA.InvokeAsync("DissolveGroup", groupId);

        await memberOnB.WaitForAsync("SystemMessage", Json.OfType("GroupDissolved", groupId));
        var final = (await memberOnB.WaitForAsync("GroupEvent", a => a[0].Str("type") == "GroupDissolved"))[0];
        Assert.Equal(groupId, final.Str("groupId"));
    }

    [Fact]
    public async Task Kick_OnB_MemberOnAHearsNothingMoreWhileOthersDo()
    {
        var (owner, kicked, stays) = (Unique("o"), Unique("k"), Unique("s"));
        await using var ownerOnB = await B.ConnectAsync(owner);
        await using var kickedOnA = await A.ConnectAsync(kicked, "phone");
        await using var kickedOnB = await B.ConnectAsync(kicked, "laptop");
        await using var staysOnA = await A.ConnectAsync(stays);
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "kick", members = new[] { kicked, stays } })).Str("groupId");
        await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = "before" });
        await kickedOnA.WaitForAsync("GroupEvent", a => a[0].Str("type") == "Message" && a[0].Str("groupId") == groupId);

        await ownerOnB.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { kicked } });
        for (var i = 0; i < 5; i++) await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = $"after {i}" });

        foreach (var t in new[] { kickedOnA, kickedOnB }) await t.WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId));
        var last = (await staysOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].GetProperty("data").TryGetProperty("text", out var x) && x.GetString() == "after 4"))[0].Long("seq");
        // The last message reached node A's other member; node A delivered nothing of the group to the kicked user after the kick.
        var kickSeq = staysOnA.Received.Single(r => r.Target == "GroupEvent" && r.Args[0].Str("type") == "MembersKicked").Args[0].Long("seq");
        foreach (var t in new[] { kickedOnA, kickedOnB })
            Assert.DoesNotContain(t.Received, r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId && r.Args[0].Long("seq") >= kickSeq);
        Assert.Equal(kickSeq + 5, last);
    }

    [Fact]
    public async Task Kick_ThenMessageFromOtherNodeAtOnce_NeverReachesTheKickedUser()
    {
        // A removal and the next event come from different commands on different nodes; the
        // next event can only be committed after the removal, which detaches before it commits.
        var owner = Unique("o");
        await using var ownerOnB = await B.ConnectAsync(owner);
        for (var round = 0; round < 15; round++)
        {
            var (kicked, talker) = (Unique("k"), Unique("t"));
            await using var kickedOnA = await A.ConnectAsync(kicked);
            await using var talkerOnA = await A.ConnectAsync(talker);
            var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = $"race {round}", members = new[] { kicked, talker } })).Str("groupId");
            await kickedOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId);

            var kick = ownerOnB.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { kicked } });
            var sends = Enumerable.Range(0, 3).Select(i => talkerOnA.InvokeAsync("SendMessage", new { groupId, text = $"m{i}" })).ToList();
            await kick;
            foreach (var send in sends) await send;
            var after = await talkerOnA.InvokeAsync("SendMessage", new { groupId, text = "last" });
            await talkerOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == after.Long("seq"));
            await kickedOnA.WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId));

            var kickSeq = talkerOnA.Received.Single(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId && r.Args[0].Str("type") == "MembersKicked").Args[0].Long("seq");
            Assert.DoesNotContain(kickedOnA.Received, r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId && r.Args[0].Long("seq") >= kickSeq);
        }
    }

    [Fact]
    public async Task Connect_RacingWithAJoinOnTheOtherNode_TerminalIsAttachedOnceConnected()
    {
        // The join's attach may reach node A before the new terminal is known there, and the
        // terminal's own read of its groups may run before the join commits: the read must
        // wait for the join, or the terminal never hears the group live.
        var owner = Unique("o");
        await using var ownerOnB = await B.ConnectAsync(owner);
        for (var round = 0; round < 20; round++)
        {
            var user = Unique("u");
            var connecting = TestTerminal.ConnectAsync(A.HubUrl, TestTokens.Issue(user), "d1", waitUntilAttached: false);
            var created = ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = $"race {round}", members = new[] { user } });
            await using var terminal = await connecting;
            var groupId = (await created).Str("groupId");
            await terminal.InvokeAsync("WhoAmI"); // the hub's OnConnectedAsync has finished

            var sent = await ownerOnB.InvokeAsync("SendMessage", new { groupId, text = "live" });
            await terminal.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == sent.Long("seq"));
        }
    }

    [Fact]
    public async Task NodeStopped_ClientsReconnectToOtherNodeAndSyncBringsThemLevel()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var ownerOnB = await B.ConnectAsync(owner);
        var memberOnA = await A.ConnectAsync(member);
        var groupId = (await ownerOnB.InvokeAsync("CreateGroup", new { type = "Public", name = "failover", members = new[] { member } })).Str("groupId");
        var lastSeen = (await memberOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId))[0].Long("seq");
        var lastSystem = (await memberOnA.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId)))[0].Long("seq");

        await _cluster.StopNodeAsync(0);
        await memberOnA.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await memberOnA.DisposeAsync();

        // Commands go on while the member is away.
        for (var i = 0; i < 3; i++) await ownerOnB.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"while away {i}" });
        await ownerOnB.InvokeAsync("TransferOwnership", groupId, member);

        await using var memberOnB = await B.ConnectAsync(member, "d1");
        var sync = await memberOnB.InvokeAsync("Sync", new { systemSince = lastSystem, groups = new Dictionary<string, long> { [groupId] = lastSeen } });

        var events = sync.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray().Select(e => e.Long("seq"));
        Assert.Equal([2L, 3L, 4L, 5L], events);
        var system = sync.GetProperty("system").GetProperty("items").EnumerateArray().Select(e => e.Str("type"));
        Assert.Equal(["OwnershipTransferred"], system);

        // And live delivery continues on the new node.
        await memberOnB.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "back, as the new owner" });
        Assert.Equal(6, (await memberOnB.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId))[0].Long("seq"));
        Assert.Equal(6, (await ownerOnB.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == 6))[0].Long("seq"));
    }
}

/// <summary>The same, with the nodes on a Redis Cluster: group and user channels are sharded.</summary>
public sealed class CrossNodeClusterTests : CrossNodeTests
{
    protected override string Redis => TestEnvironment.RedisCluster;
}
