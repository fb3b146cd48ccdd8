using System.Diagnostics;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>Group state across two nodes (one PostgreSQL, one Redis): compare-and-set and increments race from both.</summary>
public sealed class GroupStateClusterTests : IAsyncLifetime
{
    private Cluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await Cluster.StartAsync(nodes: 2);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task SetGroupAttributes_CasRaceFromTwoNodes_ExactlyOneWinsEachRound()
    {
        var (owner, admin) = (Unique("o"), Unique("a"));
        await using var onA = await _cluster[0].ConnectAsync(owner);
        await using var onB = await _cluster[1].ConnectAsync(admin);
        var groupId = (await onA.InvokeAsync("CreateGroup", new { type = "Public", name = "cas", members = new[] { admin } })).Str("groupId");
        await onA.InvokeAsync("UpdateMember", new { groupId, userId = admin, role = "Admin" });

        for (var round = 0; round < 20; round++)
        {
            var key = $"seat{round % 4}";
            var version = round / 4; // each round the key's version has moved on by exactly one win
            var tries = new[] { onA, onB }.Select(t => Outcome(t.InvokeAsync("SetGroupAttributes",
                new { groupId, set = new Dictionary<string, string> { [key] = t == onA ? "a" : "b" }, expectedVersions = new Dictionary<string, long> { [key] = version } }))).ToArray();
            var outcomes = await Task.WhenAll(tries);
            Assert.Single(outcomes, o => o == "won");
            Assert.Single(outcomes, o => o == "VersionConflict");
        }
        var final = await onB.InvokeAsync("GetGroupAttributes", new { groupId });
        Assert.All(final.GetProperty("attributes").EnumerateObject(), p => Assert.Equal(5, p.Value.Long("version")));
        // 20 writes, 20 events, every one seen on the other node.
        var lastSeq = final.Long("seq");
        await onB.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == lastSeq);
        Assert.Equal(20, onB.Received.Count(r => r.Target == "GroupEvent" && r.Args[0].Str("type") == "AttributesChanged"));

        static async Task<string> Outcome(Task<JsonElement> call)
        {
            try
            {
                await call;
                return "won";
            }
            catch (HubErrorException e) when (e.Message.StartsWith($"[{ErrorCode.VersionConflict}]", StringComparison.Ordinal))
            {
                return "VersionConflict";
            }
        }
    }

    [Fact]
    public async Task ChangeGroupCounters_100ConcurrentIncrementsOverTwoNodes_ExactlyPlus100()
    {
        var owner = Unique("o");
        var members = Enumerable.Range(0, 10).Select(i => Unique($"m{i}")).ToArray();
        await using var ownerOnA = await _cluster[0].ConnectAsync(owner);
        var groupId = (await ownerOnA.InvokeAsync("CreateGroup", new { type = "Public", name = "likes", members })).Str("groupId");
        await ownerOnA.InvokeAsync("ChangeGroupCounters", new { groupId, set = new { likes = 1000 } });
        var terminals = new List<TestTerminal>();
        try
        {
            for (var i = 0; i < members.Length; i++) terminals.Add(await _cluster[i % 2].ConnectAsync(members[i]));
            // Every terminal pipelines its ten increments at once: 100 in flight over both nodes.
            var calls = terminals.SelectMany(t => Enumerable.Range(0, 10).Select(_ => t.InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { likes = 1 } }))).ToList();
            var answers = await Task.WhenAll(calls);
            var final = await ownerOnA.InvokeAsync("GetGroupCounters", new { groupId });
            Assert.Equal(1100, final.GetProperty("counters").GetProperty("likes").GetInt64());

            // Each answer names its CountersChanged event; increments that committed together share one.
            var seqs = answers.Select(a => a.Long("seq")).Distinct().Order().ToArray();
            Assert.True(seqs.Length <= 100);
            var lastSeq = seqs[^1];
            var events = (await ownerOnA.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 }, limit = 1000 }))
                .GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray()
                .Where(e => e.Str("type") == "CountersChanged").Skip(1).ToList();
            Assert.Equal(seqs, events.Select(e => e.Long("seq")));
            // Values only go up, and the last announced is the total.
            var values = events.Select(e => e.GetProperty("data").GetProperty("counters").GetProperty("likes").GetInt64()).ToList();
            Assert.Equal(values.Order(), values);
            Assert.Equal(1100, values[^1]);
            await ownerOnA.WaitForAsync("GroupEvent", a => a[0].Str("groupId") == groupId && a[0].Long("seq") == lastSeq);
        }
        finally
        {
            foreach (var t in terminals) await t.DisposeAsync();
        }
    }
}
