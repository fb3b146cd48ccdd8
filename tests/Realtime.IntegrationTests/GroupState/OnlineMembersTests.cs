using System.Diagnostics;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>
/// Online members (SPEC §9): exact counts, and a node that is killed (no shutdown code runs) has
/// its terminals counted offline within its lease, all at once, while terminals on live nodes stay.
/// </summary>
public sealed class OnlineMembersTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);
    private TestDatabase _database = null!;
    private RealtimeNode _node = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _node = await RealtimeNode.StartAsync(_database.ConnectionString, "node-live", settings: new Dictionary<string, string?> { ["Realtime:NodeLease"] = Lease.ToString() });
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task GetOnlineMembers_NodeKilledWith200Terminals_OfflineWithinTheLeaseExactly()
    {
        var owner = Unique("o");
        var users = Enumerable.Range(0, 150).Select(i => Unique($"u{i:000}-")).ToArray();
        await using var ownerLive = await _node.ConnectAsync(owner);
        var groupId = (await ownerLive.InvokeAsync("CreateGroup", new { type = "Public", name = "live", members = users[..100] })).Str("groupId");
        await ownerLive.InvokeAsync("InviteMembers", new { groupId, userIds = users[100..] });

        var terminals = new List<TestTerminal>();
        await using var doomed = await ProcessNode.StartAsync(_database.ConnectionString, "node-doomed", new Dictionary<string, string> { ["Realtime__NodeLease"] = Lease.ToString() });
        try
        {
            // 200 terminals on the doomed node (every user once, the first 50 twice); 20 users also on the live node.
            var tokens = users.Select(u => (u, "d1")).Concat(users[..50].Select(u => (u, "d2"))).ToList();
            foreach (var chunk in tokens.Chunk(25))
                terminals.AddRange(await Task.WhenAll(chunk.Select(x => TestTerminal.ConnectAsync(doomed.HubUrl, TestTokens.Issue(x.u), x.Item2))));
            Assert.Equal(200, terminals.Count);
            foreach (var u in users[100..120]) terminals.Add(await _node.ConnectAsync(u, "live"));

            await Expect.EventuallyAsync(async () => (await Online(ownerLive, groupId)).Int("online") == 151, "all 150 members and the owner are online");
            var page = await ownerLive.InvokeAsync("GetOnlineMembers", new { groupId, offset = 10, limit = 5 });
            Assert.Equal(users.Append(owner).Order(StringComparer.Ordinal).Skip(10).Take(5), page.GetProperty("userIds").EnumerateArray().Select(e => e.GetString()!));

            var clock = Stopwatch.StartNew();
            await doomed.KillAsync();
            var seen = new HashSet<int>();
            await Expect.EventuallyAsync(async () =>
            {
                var n = (await Online(ownerLive, groupId)).Int("online");
                seen.Add(n);
                return n == 21;
            }, "only the members with a terminal on the live node are online");
            clock.Stop();
            // Offline within the lease (plus the polling), and all of the node's terminals at once: never a partial count.
            Assert.True(clock.Elapsed < Lease + TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
            Assert.Subset(new HashSet<int> { 151, 21 }, seen);
            var after = await ownerLive.InvokeAsync("GetOnlineMembers", new { groupId, limit = 500 });
            Assert.Equal(users[100..120].Append(owner).Order(StringComparer.Ordinal), after.GetProperty("userIds").EnumerateArray().Select(e => e.GetString()!));

            using var admin = RestClient.Admin(_node);
            var rest = (await admin.GetAsync($"/chatgroups/{RestClient.Escape(groupId)}/online?limit=500")).Ok();
            Assert.Equal(21, rest.Int("online"));
        }
        finally
        {
            foreach (var t in terminals) await t.DisposeAsync();
        }
    }

    [Fact]
    public async Task GetOnlineMembers_NonMemberAndPaging_Refused()
    {
        var (owner, outsider) = (Unique("o"), Unique("x"));
        var o = await _node.ConnectAsync(owner);
        await using var x = await _node.ConnectAsync(outsider);
        await using var disposeOnce = new DisposeOnce(o);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "p" })).Str("groupId");
        await Expect.EventuallyAsync(async () => (await Online(o, groupId)).Int("online") == 1, "the owner is online");
        await Expect.HubError(ErrorCode.NotMember, () => x.InvokeAsync("GetOnlineMembers", new { groupId }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("GetOnlineMembers", new { groupId, limit = 0 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("GetOnlineMembers", new { groupId, offset = -1 }));
        // A terminal that disconnects is offline at once.
        await disposeOnce.DisposeAsync();
        using var admin = RestClient.Admin(_node);
        await Expect.EventuallyAsync(async () => (await admin.GetAsync($"/chatgroups/{RestClient.Escape(groupId)}/online")).Ok().Int("online") == 0, "the owner is offline");
    }

    private sealed class DisposeOnce(TestTerminal terminal) : IAsyncDisposable
    {
        private bool _done;

        public async ValueTask DisposeAsync()
        {
            if (_done) return;
            _done = true;
            await terminal.DisposeAsync();
        }
    }

    private static Task<System.Text.Json.JsonElement> Online(TestTerminal t, string groupId) => t.InvokeAsync("GetOnlineMembers", new { groupId });
}
