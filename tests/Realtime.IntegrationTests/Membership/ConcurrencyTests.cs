using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Membership;

/// <summary>The invariants of SPEC §5.6 when commands race: capacity, the admin limit, one handler per pending item.</summary>
public sealed class ConcurrencyTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    [Fact]
    public async Task ApplyToJoin_ThirtyConcurrentWithTenFreePlaces_AdmitsExactlyTen()
    {
        var applicants = Enumerable.Range(0, 30).Select(i => $"u{i}").ToArray();
        var c = await world.CastAsync(["o", .. applicants]);
        var groupId = await c.GroupAsync("ChatRoom", [], new { maxMembers = 11 });

        var outcomes = await Task.WhenAll(applicants.Select(async u =>
        {
            try { return (await c[u].InvokeAsync("ApplyToJoin", new { groupId })).Str("result"); }
            catch (HubErrorException e) { return e.Message[..e.Message.IndexOf(']')].TrimStart('['); }
        }));

        Assert.Equal(10, outcomes.Count(o => o == "Joined"));
        Assert.Equal(20, outcomes.Count(o => o == nameof(ErrorCode.GroupFull)));
        Assert.Equal(11, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        Assert.Equal(11, (await c.MembersAsync(groupId)).Int("total"));
    }

    [Fact]
    public async Task UpdateMember_HundredConcurrentPromotions_StopAtNinetyNine()
    {
        var c = await world.CastAsync("o");
        var members = Enumerable.Range(0, 100).Select(i => $"member{i:D3}").ToArray();
        var groupId = (await c["o"].InvokeAsync("CreateGroup", new { type = "Public", name = "crowd" })).Str("groupId");
        Assert.All((await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = members })).EnumerateArray(),
            r => Assert.Equal("Joined", r.Str("result")));
        // One connection runs its invocations one at a time: ten owner terminals make the race real.
        var owners = new List<TestTerminal> { c["o"] };
        for (var i = 2; i <= 10; i++) owners.Add(await world.AddAsync(c, "o", $"d{i}"));

        var outcomes = await Task.WhenAll(members.Select(async (m, i) =>
        {
            try { return (await owners[i % owners.Count].InvokeAsync("UpdateMember", new { groupId, userId = m, role = "Admin" })).Str("role"); }
            catch (HubErrorException e) { return e.Message[..e.Message.IndexOf(']')].TrimStart('['); }
        }));

        Assert.Equal(99, outcomes.Count(o => o == "Admin"));
        Assert.Equal(1, outcomes.Count(o => o == nameof(ErrorCode.AdminLimitReached)));
        Assert.Equal(99, (await c["o"].InvokeAsync("GetMembers", new { groupId, role = "Admin" })).Int("total"));
    }

    [Fact]
    public async Task HandlePendingItem_TwoAdminsApproveAtOnce_OneWinsOtherGetsPendingAlreadyHandled()
    {
        var c = await world.CastAsync("o", "a", "x");
        var groupId = await c.GroupAsync("Public", ["a"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), role = "Admin" });
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");

        var outcomes = await Task.WhenAll(new[] { c["o"], c["a"] }.Select(async staff =>
        {
            try { return (await staff.InvokeAsync("HandlePendingItem", new { pendingId, approve = true })).Str("status"); }
            catch (HubErrorException e) { return e.Message[..e.Message.IndexOf(']')].TrimStart('['); }
        }));

        Assert.Equal(["Approved", nameof(ErrorCode.PendingAlreadyHandled)], outcomes.Order());
        Assert.Equal(3, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
    }
}
