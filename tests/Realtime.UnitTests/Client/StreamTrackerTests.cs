extern alias ClientLib;

using System.Text.Json;
using ClientLib::Realtime.Client;

namespace Realtime.UnitTests.Client;

/// <summary>The client's cursors, gap detection and deduplication, pushes and Sync answers fed by hand.</summary>
public sealed class StreamTrackerTests
{
    private const string G = "g1";

    private static JsonElement Data(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static GroupEvent Evt(long seq, string groupId = G, string type = "Message") =>
        new(groupId, seq, Guid.NewGuid(), type, "u", DateTime.UtcNow, Data("{}"));

    private static SystemMessage Sys(long seq, string type = "Muted", string? groupId = null, string data = "{}") =>
        new(seq, Guid.NewGuid(), type, groupId, "u", DateTime.UtcNow, Data(data));

    private static SyncResult Answer(SystemSync? system = null, params (string Id, GroupSync Sync)[] groups) =>
        new(system ?? new SystemSync([], 0, false, false), groups.ToDictionary(g => g.Id, g => g.Sync));

    private static GroupSync Group(long next, bool hasMore = false, bool removed = false, bool tooOld = false, string? epoch = null, params long[] seqs) =>
        new(seqs.Select(s => Evt(s)).ToList(), next, hasMore, removed, tooOld, epoch);

    private static string Show(IEnumerable<IStreamItem> items) => string.Join(" ", items.Select(i => i switch
    {
        GroupEvent e => $"{e.GroupId}#{e.Seq}",
        SystemMessage m => $"sys#{m.Seq}",
        StreamTooOld t => $"tooOld({t.GroupId ?? "sys"})",
        GroupRemoved r => $"removed({r.GroupId})",
        _ => "?",
    }));

    private static StreamTracker Following(long seq, string? epoch = "e1") =>
        new(new CursorSnapshot(0, new Dictionary<string, GroupCursor> { [G] = new(seq, epoch) }));

    [Fact]
    public void Push_NextInLine_DeliveredAndDuplicateDropped()
    {
        var t = Following(0);
        var output = new List<IStreamItem>();

        Assert.False(t.OnPush(Evt(1), output));
        Assert.False(t.OnPush(Evt(2), output));
        Assert.False(t.OnPush(Evt(2), output));
        Assert.False(t.OnPush(Evt(1), output));

        Assert.Equal("g1#1 g1#2", Show(output));
        Assert.Equal(2, t.CursorOf(G)!.Seq);
    }

    [Fact]
    public void Push_AfterAGap_HeldUntilSyncFillsItThenDeliveredInOrderOnce()
    {
        var t = Following(1);
        var output = new List<IStreamItem>();

        Assert.True(t.OnPush(Evt(4), output));
        Assert.True(t.OnPush(Evt(5), output));
        Assert.Empty(output);
        var request = t.NextSyncRequest(full: false, limit: 100);
        Assert.Equal(new SyncCursor(1, "e1"), request.Groups![G]);

        // The answer holds 2..4 (4 again: a duplicate of the held push); 5 is delivered from what was held.
        Assert.False(t.ApplySync(Answer(null, (G, Group(4, epoch: "e1", seqs: [2, 3, 4]))), output));
        Assert.False(t.OnPush(Evt(5), output));

        Assert.Equal("g1#2 g1#3 g1#4 g1#5", Show(output));
        Assert.Equal(5, t.CursorOf(G)!.Seq);
    }

    [Fact]
    public void SystemPush_AfterAGap_HeldUntilSyncAndDeliveredOnce()
    {
        var t = new StreamTracker();
        var output = new List<IStreamItem>();

        Assert.False(t.OnPush(Sys(1), output));
        Assert.True(t.OnPush(Sys(3), output));
        Assert.Equal(1, t.NextSyncRequest(full: true, limit: 100).SystemSince);
        t.ApplySync(Answer(new SystemSync([Sys(2), Sys(3)], 3, false, false)), output);

        Assert.Equal("sys#1 sys#2 sys#3", Show(output));
        Assert.Equal(3, t.SystemSeq);
    }

    [Fact]
    public void Sync_HasMore_AsksAgainOnlyForThatStream()
    {
        var t = new StreamTracker(new CursorSnapshot(0, new Dictionary<string, GroupCursor> { [G] = new(0, "e1"), ["g2"] = new(3, "e2") }));
        var output = new List<IStreamItem>();

        Assert.Equal(2, t.NextSyncRequest(full: true, limit: 2).Groups!.Count);
        Assert.True(t.ApplySync(Answer(null, (G, Group(2, hasMore: true, epoch: "e1", seqs: [1, 2])), ("g2", new GroupSync([], 3, false, false, false, "e2"))), output));
        var next = t.NextSyncRequest(full: false, limit: 2);

        Assert.Equal([G], next.Groups!.Keys);
        Assert.Equal(2, next.Groups[G].Since);
    }

    [Fact]
    public void Sync_TooOldByRetention_SaidBeforeTheItemsThatRemain()
    {
        var t = Following(0);
        var output = new List<IStreamItem>();
        t.NextSyncRequest(full: true, limit: 100);

        t.ApplySync(Answer(null, (G, Group(6, tooOld: true, epoch: "e1", seqs: [4, 5, 6]))), output);

        Assert.Equal("tooOld(g1) g1#4 g1#5 g1#6", Show(output));
    }

    [Fact]
    public void Sync_Removed_SaidOnceAfterTheLastEventAndTheGroupIsNoLongerAsked()
    {
        var t = Following(5);
        var output = new List<IStreamItem>();
        t.NextSyncRequest(full: true, limit: 100);

        Assert.False(t.ApplySync(Answer(null, (G, Group(7, removed: true, epoch: "e1", seqs: [6, 7]))), output));
        Assert.Empty(t.NextSyncRequest(full: true, limit: 100).Groups!);
        t.ApplySync(Answer(null, (G, Group(7, removed: true, epoch: "e1"))), output);

        Assert.Equal("g1#6 g1#7 removed(g1)", Show(output));
        Assert.True(t.CursorOf(G)!.Removed);
    }

    [Fact]
    public void Sync_AnotherEpoch_TooOldThenReadsTheNewGroupFromWhereTheUserStarts()
    {
        var t = Following(40, "old");
        var output = new List<IStreamItem>();
        t.NextSyncRequest(full: true, limit: 100);

        Assert.True(t.ApplySync(Answer(null, (G, Group(0, tooOld: true, epoch: "new"))), output));
        var again = t.NextSyncRequest(full: false, limit: 100);
        Assert.Equal(new SyncCursor(0, "new"), again.Groups![G]);
        Assert.False(t.ApplySync(Answer(null, (G, Group(2, epoch: "new", seqs: [1, 2]))), output));

        Assert.Equal("tooOld(g1) g1#1 g1#2", Show(output));
    }

    [Fact]
    public void JoinedGroup_FollowsTheGroupFromJoinSeqAndAsksForASync()
    {
        var t = new StreamTracker();
        var output = new List<IStreamItem>();

        Assert.True(t.OnPush(Sys(1, "JoinedGroup", G, """{"joinSeq":7,"epoch":"e9"}"""), output));

        Assert.Equal(new GroupCursor(7, "e9"), t.CursorOf(G));
        Assert.Equal(new SyncCursor(7, "e9"), t.NextSyncRequest(full: false, limit: 100).Groups![G]);
        Assert.False(t.OnPush(Evt(8), output));
        Assert.Equal("sys#1 g1#8", Show(output));
    }

    [Fact]
    public void JoinedGroup_OfAnotherEpoch_RestartsTheCursor()
    {
        var t = Following(30, "old");
        var output = new List<IStreamItem>();

        t.OnPush(Sys(1, "JoinedGroup", G, """{"joinSeq":0,"epoch":"new"}"""), output);
        t.OnPush(Evt(1), output);

        Assert.Equal("sys#1 g1#1", Show(output));
        Assert.Equal(new GroupCursor(1, "new"), t.CursorOf(G));
    }

    [Fact]
    public void GroupEvent_OfAnUnknownGroup_HeldAndSyncedFromTheStart()
    {
        var t = new StreamTracker();
        var output = new List<IStreamItem>();

        Assert.True(t.OnPush(Evt(3, "g9"), output));
        Assert.Equal(new SyncCursor(0), t.NextSyncRequest(full: false, limit: 100).Groups!["g9"]);
        t.ApplySync(Answer(null, ("g9", new GroupSync([Evt(3, "g9")], 3, false, false, false, "e3"))), output);

        Assert.Equal("g9#3", Show(output));
        Assert.Equal(new GroupCursor(3, "e3"), t.CursorOf("g9"));
    }

    [Fact]
    public void Kicked_AsksForASyncWhichSaysRemoved()
    {
        var t = Following(2);
        var output = new List<IStreamItem>();

        Assert.True(t.OnPush(Sys(1, "Kicked", G), output));

        Assert.Equal([G], t.NextSyncRequest(full: false, limit: 100).Groups!.Keys);
    }

    [Fact]
    public void Snapshot_RoundTripsEveryCursor()
    {
        var t = Following(4, "e1");
        var output = new List<IStreamItem>();
        t.OnPush(Sys(1), output);
        t.OnPush(Evt(5), output);

        var again = new StreamTracker(t.Snapshot());

        Assert.Equal(1, again.SystemSeq);
        Assert.Equal(new GroupCursor(5, "e1"), again.CursorOf(G));
    }

    [Fact]
    public void Client_HasATypedMethodForEveryHubMethod()
    {
        var hubMethods = typeof(Realtime.Server.Hubs.GroupHub)
            .GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.Name is not ("OnConnectedAsync" or "OnDisconnectedAsync" or "Dispose"))
            .Select(m => m.Name).Distinct().ToList();
        var clientMethods = typeof(RealtimeClient).GetMethods().Select(m => m.Name).ToHashSet();

        Assert.True(hubMethods.Count > 40, $"only {hubMethods.Count} hub methods found");
        Assert.Equal([], hubMethods.Where(m => !clientMethods.Contains(m + "Async")).ToList());
    }

    [Fact]
    public void HubException_CodeAndMessageTakenFromTheSpecForm()
    {
        var e = RealtimeHubException.From(new Microsoft.AspNetCore.SignalR.HubException("[GroupNotFound] group g does not exist"));

        Assert.Equal("GroupNotFound", e.Code);
        Assert.Equal("[GroupNotFound] group g does not exist", e.Message);
    }

    [Fact]
    public void RetryPolicy_DelaysGrowWithJitterUpToTheCap()
    {
        var policy = new JitteredRetryPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        for (var attempt = 0; attempt < 8; attempt++)
        {
            var ceiling = Math.Min(1000, 100 * Math.Pow(2, attempt));
            var delays = Enumerable.Range(0, 50).Select(_ => policy.Delay(attempt).TotalMilliseconds).ToList();
            Assert.All(delays, d => Assert.InRange(d, ceiling / 2, ceiling));
            Assert.True(delays.Distinct().Count() > 1, "no jitter");
        }
    }
}
