extern alias ClientLib;

using System.Diagnostics;
using ClientLib::Realtime.Client;
using Realtime.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Realtime.IntegrationTests.Client;

/// <summary>The .NET client against two real nodes on one database and one Redis, on both hub protocols.</summary>
public sealed class RealtimeClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private Cluster _cluster = null!;

    public static TheoryData<HubProtocol> Protocols => [HubProtocol.Json, HubProtocol.MessagePack];

    public async Task InitializeAsync() => _cluster = await Cluster.StartAsync(nodes: 2, settings: new Dictionary<string, string?>
    {
        ["Realtime:RetentionEventsPerGroup"] = "5",
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    internal static RealtimeClient NewClient(string user, HubProtocol protocol, ICursorStore? store, params RealtimeNode[] nodes) => new(new RealtimeClientOptions
    {
        Urls = nodes.Select(n => n.BaseUrl).ToList(),
        AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Issue(user)),
        Device = "d1",
        Protocol = protocol,
        CursorStore = store ?? new InMemoryCursorStore(),
        ReconnectBaseDelay = TimeSpan.FromMilliseconds(100),
        ReconnectMaxDelay = TimeSpan.FromSeconds(2),
    });

    private static async Task<(RealtimeClient Client, ClientRecorder Recorder)> StartAsync(
        string user, HubProtocol protocol, ICursorStore? store = null, params RealtimeNode[] nodes)
    {
        var client = NewClient(user, protocol, store, nodes);
        var recorder = new ClientRecorder(client);
        await client.StartAsync().WaitAsync(Timeout);
        return (client, recorder);
    }

    private static List<long> Range(long from, long to) => Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i).ToList();

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task TwoClientsOnTwoNodes_Converse_EachSeesEveryMessageOnceInOrder(HubProtocol protocol)
    {
        var (alice, bob) = (Unique("a"), Unique("b"));
        var (a, aRec) = await StartAsync(alice, protocol, null, _cluster[0]);
        await using var _ = a;
        var (b, bRec) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;

        var group = await a.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "chat", Members: [bob]));
        await bRec.WaitForAsync(r => r.Items.OfType<SystemMessage>().Any(m => m.Kind == SystemMessageKind.JoinedGroup && m.GroupId == group.GroupId), "bob hears he joined");
        for (var i = 0; i < 6; i++) await (i % 2 == 0 ? a : b).SendTextAsync(group.GroupId, $"m{i}");
        await aRec.WaitForSeqAsync(group.GroupId, 7);
        await bRec.WaitForSeqAsync(group.GroupId, 7);

        foreach (var r in new[] { aRec, bRec })
        {
            Assert.Equal(Range(1, 7), r.Seqs(group.GroupId));
            Assert.Equal(["m0", "m1", "m2", "m3", "m4", "m5"], r.Texts(group.GroupId));
        }
        var first = aRec.Items.OfType<GroupEvent>().First(e => e.GroupId == group.GroupId);
        Assert.Equal(GroupEventKind.MembersJoined, first.Kind);
        Assert.Equal([bob], first.DataAs<MembersJoinedData>().UserIds);
        Assert.Equal(alice, (await a.WhoAmIAsync()).UserId);
        var history = await b.GetMessagesAsync(new GetMessagesRequest(group.GroupId, Limit: 2));
        Assert.Equal(["m5", "m4"], history.Items.Select(e => e.Message!.Text));
        var error = await Assert.ThrowsAsync<RealtimeHubException>(() => b.SendTextAsync("no-such-group", "x"));
        Assert.Equal("GroupNotFound", error.Code);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task NodeStoppedMidConversation_ClientMovesToTheOtherNode_EveryMessageOnceInOrder(HubProtocol protocol)
    {
        const int total = 30;
        var (alice, bob) = (Unique("a"), Unique("b"));
        // Alice knows both nodes and starts on A; Bob talks to B, which stays up.
        var (a, aRec) = await StartAsync(alice, protocol, null, _cluster[0], _cluster[1]);
        await using var _ = a;
        var (b, _) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;
        var hubOfB = _cluster[1].HubUrl;
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "failover", Members: [alice]));
        await aRec.WaitForSeqAsync(group.GroupId, 1);
        var dropped = new Stopwatch();
        var backAndSynced = TimeSpan.Zero;
        a.Disconnected += _ => dropped.Start();
        a.Synced += s =>
        {
            if (s.Reason is "reconnect" or "restart" && backAndSynced == TimeSpan.Zero) backAndSynced = dropped.Elapsed;
        };

        var tenth = new TaskCompletionSource();
        var sending = Task.Run(async () =>
        {
            for (var i = 1; i <= total; i++)
            {
                await b.SendTextAsync(group.GroupId, $"m{i}");
                if (i == 10) tenth.SetResult();
            }
        });
        await tenth.Task.WaitAsync(Timeout);
        await _cluster.StopNodeAsync(0);
        await sending.WaitAsync(Timeout);
        await aRec.WaitForSeqAsync(group.GroupId, total + 1);
        await aRec.WaitForAsync(r => r.Syncs.Any(s => s.Reason is "reconnect" or "restart"), "alice synced after the reconnect");

        Assert.Equal(Range(1, total + 1), aRec.Seqs(group.GroupId));
        Assert.Equal(Enumerable.Range(1, total).Select(i => $"m{i}"), aRec.Texts(group.GroupId));
        Assert.Equal(hubOfB.GetLeftPart(UriPartial.Path), a.CurrentUrl.GetLeftPart(UriPartial.Path));
        var resync = aRec.Syncs.First(s => s.Reason is "reconnect" or "restart");
        output.WriteLine($"[{protocol}] connection dropped -> alice back on B and synced after {backAndSynced.TotalMilliseconds:0} ms " +
                         $"(the Sync itself {resync.Duration.TotalMilliseconds:0} ms, {resync.Delivered} items, reason {resync.Reason}); " +
                         $"duplicates dropped: {a.Stats.DuplicatesDropped}, gaps: {a.Stats.GapsDetected}");
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task OfflineWhileEventsHappened_RestartWithTheSameStore_GetsExactlyTheMissedOnes(HubProtocol protocol)
    {
        var (alice, bob) = (Unique("a"), Unique("b"));
        var store = new InMemoryCursorStore();
        var (b, bRec) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var _ = b;
        var (a, aRec) = await StartAsync(alice, protocol, store, _cluster[0]);
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "offline", Members: [alice]));
        await b.SendTextAsync(group.GroupId, "seen");
        await aRec.WaitForSeqAsync(group.GroupId, 2);
        await a.DisposeAsync();

        await b.SendTextAsync(group.GroupId, "missed 1");
        await b.UpdateGroupProfileAsync(new UpdateGroupProfileRequest(group.GroupId, Introduction: "while away"));
        await b.SendTextAsync(group.GroupId, "missed 2");
        var (again, againRec) = await StartAsync(alice, protocol, store, _cluster[1]);
        await using var ___ = again;

        // StartAsync returns after the first Sync was delivered.
        Assert.Equal([3L, 4L, 5L], againRec.Seqs(group.GroupId));
        Assert.Equal(["missed 1", "missed 2"], againRec.Texts(group.GroupId));
        Assert.Equal("while away", againRec.Items.OfType<GroupEvent>().Single(e => e.Kind == GroupEventKind.ProfileChanged)
            .DataAs<ProfileChangedData>().Changes["introduction"].GetString());
        Assert.DoesNotContain(againRec.Items, i => i is SystemMessage { Kind: SystemMessageKind.JoinedGroup });
        Assert.Equal(5, again.Cursors.Groups[group.GroupId].Seq);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task KickedWhileOffline_EventsUpToTheKickThenRemoved(HubProtocol protocol)
    {
        var (alice, bob) = (Unique("a"), Unique("b"));
        var store = new InMemoryCursorStore();
        var (b, _) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;
        var (a, aRec) = await StartAsync(alice, protocol, store, _cluster[0]);
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "kick", Members: [alice]));
        await aRec.WaitForSeqAsync(group.GroupId, 1);
        await a.DisposeAsync();

        await b.SendTextAsync(group.GroupId, "before the kick");
        await b.RemoveMembersAsync(new RemoveMembersRequest(group.GroupId, [alice], "bye"));
        await b.SendTextAsync(group.GroupId, "after the kick");
        var (again, againRec) = await StartAsync(alice, protocol, store, _cluster[0]);
        await using var ___ = again;

        var items = againRec.Items.Where(i => i is GroupRemoved || i is GroupEvent || i is SystemMessage { Kind: SystemMessageKind.Kicked })
            .Select(ClientRecorder.Describe).ToList();
        Assert.Equal(["sys:Kicked#2", "Message#2", "MembersKicked#3", $"removed({group.GroupId})"], items);
        Assert.Equal("bye", againRec.Items.OfType<SystemMessage>().Single(m => m.Kind == SystemMessageKind.Kicked).DataAs<KickedData>().Reason);
        Assert.True(again.Cursors.Groups[group.GroupId].Removed);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task KickedWhileOnline_RemovedRaisedOnceAfterTheKick(HubProtocol protocol)
    {
        var (alice, bob) = (Unique("a"), Unique("b"));
        var (b, _) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;
        var (a, aRec) = await StartAsync(alice, protocol, null, _cluster[0]);
        await using var ___ = a;
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "kick live", Members: [alice]));
        await aRec.WaitForSeqAsync(group.GroupId, 1);

        await b.RemoveMembersAsync(new RemoveMembersRequest(group.GroupId, [alice]));
        await aRec.WaitForAsync(r => r.Items.OfType<GroupRemoved>().Any(), "alice is told she was removed");
        await b.SendTextAsync(group.GroupId, "after");
        var synced = a.NextSync();
        a.RequestSync();
        await synced.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([1L, 2L], aRec.Seqs(group.GroupId));
        Assert.Single(aRec.Items.OfType<GroupRemoved>());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task OfflinePastRetention_TooOldThenWhatRemains(HubProtocol protocol)
    {
        var (alice, bob) = (Unique("a"), Unique("b"));
        var store = new InMemoryCursorStore();
        var (b, _) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;
        var (a, aRec) = await StartAsync(alice, protocol, store, _cluster[0]);
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "retention", Members: [alice]));
        await aRec.WaitForSeqAsync(group.GroupId, 1);
        await a.DisposeAsync();

        for (var i = 2; i <= 9; i++) await b.SendTextAsync(group.GroupId, $"m{i}");
        // The cluster keeps 5 events per group: seqs 1-4 go.
        Assert.True(await _cluster[0].Services.GetRequiredService<Realtime.Server.Operations.RetentionService>().TrimAsync());
        var (again, againRec) = await StartAsync(alice, protocol, store, _cluster[0]);
        await using var ___ = again;

        Assert.Equal([$"tooOld({group.GroupId})", "Message#5", "Message#6", "Message#7", "Message#8", "Message#9"],
            againRec.Items.Where(i => i is StreamTooOld || i is GroupEvent).Select(ClientRecorder.Describe));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task FirstStart_FollowsJoinedGroupsFromNow(HubProtocol protocol)
    {
        var (alice, bob) = (Unique("a"), Unique("b"));
        var (b, _) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "older", Members: [alice]));
        await b.SendTextAsync(group.GroupId, "old news");

        var (a, aRec) = await StartAsync(alice, protocol, null, _cluster[0]);
        await using var ___ = a;
        await b.SendTextAsync(group.GroupId, "new");
        await aRec.WaitForSeqAsync(group.GroupId, 3);

        Assert.Equal([3L], aRec.Seqs(group.GroupId));
        Assert.Equal(3, a.Cursors.Groups[group.GroupId].Seq);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Burst_FourSendersAtOnce_EveryMessageOnceInSeqOrder(HubProtocol protocol)
    {
        const int perSender = 250;
        var (alice, bob) = (Unique("a"), Unique("b"));
        var (a, aRec) = await StartAsync(alice, protocol, null, _cluster[0]);
        await using var _ = a;
        var (b, _) = await StartAsync(bob, protocol, null, _cluster[1]);
        await using var __ = b;
        var group = await b.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, "burst", Members: [alice]));
        await aRec.WaitForSeqAsync(group.GroupId, 1);
        var before = new InMemoryCursorStore();
        await before.SaveAsync(a.Cursors, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < perSender; i++) await b.SendTextAsync(group.GroupId, $"s{s}-{i}");
        }))).WaitAsync(TimeSpan.FromSeconds(90));
        await aRec.WaitForSeqAsync(group.GroupId, 4 * perSender + 1);
        clock.Stop();

        Assert.Equal(Range(1, 4 * perSender + 1), aRec.Seqs(group.GroupId));
        for (var s = 0; s < 4; s++)
            Assert.Equal(Enumerable.Range(0, perSender).Select(i => $"s{s}-{i}"), aRec.Texts(group.GroupId).Where(t => t.StartsWith($"s{s}-")));
        output.WriteLine($"[{protocol}] live: {4 * perSender} messages sent on node B by 4 senders, all delivered to a client on node A in order " +
                         $"in {clock.ElapsedMilliseconds} ms: {4 * perSender * 1000.0 / clock.ElapsedMilliseconds:0} messages/s " +
                         $"(gaps {a.Stats.GapsDetected}, duplicates {a.Stats.DuplicatesDropped})");

        // The same messages again, to a terminal that was away the whole time: all through Sync (pages of 100).
        var catchUp = Stopwatch.StartNew();
        var (late, lateRec) = await StartAsync(alice, protocol, before, _cluster[0]);
        await using var ___ = late;
        catchUp.Stop();
        Assert.Equal(Range(2, 4 * perSender + 1), lateRec.Seqs(group.GroupId));
        output.WriteLine($"[{protocol}] catch-up: a client started with the cursor from before received the {4 * perSender} messages through Sync in " +
                         $"{catchUp.ElapsedMilliseconds} ms (connect included): {4 * perSender * 1000.0 / catchUp.ElapsedMilliseconds:0} messages/s");
    }
}
