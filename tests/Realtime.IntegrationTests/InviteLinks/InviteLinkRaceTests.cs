using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.InviteLinks;

/// <summary>Invite links under load: maxUses exact when joins race on two nodes, and failed lookups rate limited per user.</summary>
public sealed class InviteLinkRaceTests
{
    private static string Code(HubErrorException e) => e.Message[1..e.Message.IndexOf(']')];

    [Fact]
    public async Task JoinByInviteLink_HundredRacingJoinsOverTwoNodesOnATenUseLink_ExactlyTenJoin()
    {
        await using var cluster = await Cluster.StartAsync(nodes: 2);
        await using var o = await cluster[0].ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "race" })).Str("groupId");
        var code = (await o.InvokeAsync("CreateInviteLink", new { groupId, maxUses = 10 })).Str("code");
        var joiners = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => cluster[i % 2].ConnectAsync($"racer{i:D3}")));
        try
        {
            var outcomes = await Task.WhenAll(joiners.Select(async t =>
            {
                try { return (await t.InvokeAsync("JoinByInviteLink", new { code })).Str("result"); }
                catch (HubErrorException e) { return Code(e); }
            }));

            Assert.Equal(10, outcomes.Count(r => r == "Joined"));
            Assert.Equal(90, outcomes.Count(r => r == nameof(ErrorCode.InviteLinkInvalid)));
            var link = (await o.InvokeAsync("GetInviteLinks", new { groupId }))[0];
            Assert.Equal(10, link.Int("uses"));
            Assert.Equal(11, (await o.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Int("memberCount"));
            Assert.Equal(11, (await o.InvokeAsync("GetMembers", new { groupId })).Int("total"));
        }
        finally
        {
            foreach (var t in joiners) await t.DisposeAsync();
        }
    }

    [Fact]
    public async Task JoinByInviteLink_RepeatedFailures_RateLimitedEvenForAValidCodeOtherUsersUnaffected()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            [$"Realtime:Apps:{RealtimeNode.App}:RateLimits:InviteLinkFailuresPerSecond"] = "0.001",
            [$"Realtime:Apps:{RealtimeNode.App}:RateLimits:InviteLinkFailuresBurst"] = "3",
        });
        await using var o = await node.ConnectAsync("owner");
        await using var prober = await node.ConnectAsync("prober");
        await using var honest = await node.ConnectAsync("honest");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "probe" })).Str("groupId");
        var code = (await o.InvokeAsync("CreateInviteLink", new { groupId })).Str("code");

        for (var i = 0; i < 3; i++)
            await Expect.HubError(ErrorCode.InviteLinkInvalid, () => prober.InvokeAsync("JoinByInviteLink", new { code = $"guess{i}AAAAAAAAAAAAAAAAAA" }));
        var limited = await Expect.HubError(ErrorCode.RateLimited, () => prober.InvokeAsync("JoinByInviteLink", new { code }));
        await Expect.HubError(ErrorCode.RateLimited, () => prober.InvokeAsync("JoinByInviteLink", new { code = "guess9AAAAAAAAAAAAAAAAAA" }));

        Assert.Matches(@"retry after \d+ ms", limited);
        Assert.Equal("Joined", (await honest.InvokeAsync("JoinByInviteLink", new { code })).Str("result"));
        Assert.Equal(2, (await o.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Int("memberCount"));
    }
}
