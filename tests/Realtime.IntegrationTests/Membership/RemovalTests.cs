using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Membership;

/// <summary>Kick, quit and blocklist: who is told what, and no leaks afterwards (SPEC §5.4).</summary>
public sealed class RemovalTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    [Fact]
    public async Task RemoveMembers_KickedUserWithTwoTerminals_GetsKickedThenNothingMore()
    {
        var c = await world.CastAsync("o", "m", "k");
        var k2 = await world.AddAsync(c, "k", "d2");
        var groupId = await c.GroupAsync("Public", ["m", "k"]);

        await c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = c.IdsOf("k"), reason = "spam" });

        foreach (var terminal in new[] { c["k"], k2 })
            Assert.Equal("spam", (await terminal.WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId))).Data().Str("reason"));
        var kicked = await c["m"].WaitForAsync("GroupEvent", Json.OfType("MembersKicked", groupId));
        Assert.Equal(c.IdsOf("k"), kicked.UserIds());
        Assert.Equal("spam", kicked.Data().Str("reason"));
        var kickSeq = kicked[0].Long("seq");

        await AssertSilencedAsync(c, groupId, kickSeq, c["k"], k2);
        Assert.Equal(2, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        await Expect.HubError(ErrorCode.NotMember, () => c["k"].InvokeAsync("SendMessage", new { groupId, text = "still here?" }));
    }

    [Fact]
    public async Task Sync_AfterKick_ReturnsRemovedAndNothingAfterTheKickEvent()
    {
        var c = await world.CastAsync("o", "m", "k");
        var groupId = await c.GroupAsync("Public", ["m", "k"]);
        await c["o"].InvokeAsync("SendMessage", new { groupId, text = "before" });
        await c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = c.IdsOf("k") });
        var kickSeq = (await c["m"].WaitForAsync("GroupEvent", Json.OfType("MembersKicked", groupId)))[0].Long("seq");
        await AssertSilencedAsync(c, groupId, kickSeq, c["k"]);

        var result = await c["k"].InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 } });

        var group = result.GetProperty("groups").GetProperty(groupId);
        Assert.True(group.Bool("removed"));
        var items = group.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(kickSeq, items[^1].Long("seq"));
        Assert.Equal(["MembersJoined", "Message", "MembersKicked"], items.Select(i => i.Str("type")));
        Assert.Contains(result.GetProperty("system").GetProperty("items").EnumerateArray(), i => i.Str("type") == "Kicked");
    }

    [Fact]
    public async Task QuitGroup_Member_OwnTerminalsGetQuitGroupOthersGetMemberQuitThenNothingMore()
    {
        var c = await world.CastAsync("o", "m", "q");
        var q2 = await world.AddAsync(c, "q", "d2");
        var groupId = await c.GroupAsync("ChatRoom", ["m", "q"]);

        await c["q"].InvokeAsync("QuitGroup", groupId);

        foreach (var terminal in new[] { c["q"], q2 })
            await terminal.WaitForAsync("SystemMessage", Json.OfType("QuitGroup", groupId));
        var quit = await c["m"].WaitForAsync("GroupEvent", Json.OfType("MemberQuit", groupId));
        Assert.Equal(c.Id("q"), quit.Data().Str("userId"));

        await AssertSilencedAsync(c, groupId, quit[0].Long("seq"), c["q"], q2);
        // Safe to retry by nature: a repeat fails with a clear code and changes nothing.
        await Expect.HubError(ErrorCode.NotMember, () => c["q"].InvokeAsync("QuitGroup", groupId));
        Assert.Equal(2, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task AddToBlocklist_Member_IsKickedThenHearsNothingMore()
    {
        var c = await world.CastAsync("o", "m", "b");
        var b2 = await world.AddAsync(c, "b", "d2");
        var groupId = await c.GroupAsync("Public", ["m", "b"]);

        await c["o"].InvokeAsync("AddToBlocklist", new { groupId, userIds = c.IdsOf("b") });

        foreach (var terminal in new[] { c["b"], b2 })
            await terminal.WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId));
        var kicked = await c["m"].WaitForAsync("GroupEvent", Json.OfType("MembersKicked", groupId));
        Assert.Equal(c.IdsOf("b"), kicked.UserIds());
        await AssertSilencedAsync(c, groupId, kicked[0].Long("seq"), c["b"], b2);
    }

    [Fact]
    public async Task QuitGroup_Owner_FailsWithOwnerCannotQuit()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);

        await Expect.HubError(ErrorCode.OwnerCannotQuit, () => c["o"].InvokeAsync("QuitGroup", groupId));

        Assert.Equal(2, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task RemoveMembers_AdminRemoved_AdminCountFreed()
    {
        var c = await world.CastAsync("o", "a");
        var groupId = await c.GroupAsync("Public", ["a"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), role = "Admin" });

        await c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = c.IdsOf("a") });

        Assert.Equal(0, await world.ScalarAsync<int>("SELECT admin_count FROM groups WHERE group_id = @groupId", new { groupId }));
        Assert.Equal(0, (await c["o"].InvokeAsync("GetMembers", new { groupId, role = "Admin" })).Int("total"));
    }

    [Fact]
    public async Task RemoveMembers_NonMemberInBatch_FailsWholeCallWithNotMember()
    {
        var c = await world.CastAsync("o", "m", "x");
        var groupId = await c.GroupAsync("Public", ["m"]);

        await Expect.HubError(ErrorCode.NotMember, () => c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = c.IdsOf("m", "x") }));

        Assert.Equal(2, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    /// <summary>
    /// Later messages reach a remaining member; by then the removed terminals have nothing of the
    /// group from the removing event on (they are detached before it).
    /// </summary>
    private static async Task AssertSilencedAsync(Cast c, string groupId, long removedAtSeq, params TestTerminal[] removed)
    {
        long last = 0;
        for (var i = 0; i < 3; i++)
            last = (await c["o"].InvokeAsync("SendMessage", new { groupId, text = $"after {i}" })).Long("seq");
        await c["m"].WaitForAsync("GroupEvent", args => args[0].Str("groupId") == groupId && args[0].Long("seq") == last);
        foreach (var terminal in removed)
            Assert.Empty(terminal.GroupEventsFrom(groupId, removedAtSeq));
    }
}
