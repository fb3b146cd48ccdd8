using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Membership;

/// <summary>SPEC §3 limits of membership commands at their edges: the max passes, max + 1 fails and changes nothing.</summary>
public sealed class MembershipLimitTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    private static string[] Users(string prefix, int n) => Enumerable.Range(0, n).Select(i => $"{prefix}{i}").ToArray();

    [Fact]
    public async Task InviteMembers_HundredUsers_PassesAndHundredOneFails()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var prefix = $"inv{Guid.NewGuid():N}"[..12];

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = Users(prefix, 101) }));
        Assert.Contains("userIds", message);
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = Array.Empty<string>() }));

        var results = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = Users(prefix, 100) });
        Assert.Equal(100, results.EnumerateArray().Count(r => r.Str("result") == "Joined"));
        Assert.Equal(101, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task RemoveMembers_HundredOneUsers_FailsWithInvalidArgument()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var prefix = $"rm{Guid.NewGuid():N}"[..12];
        await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = Users(prefix, 100) });
        await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = new[] { prefix + "x" } });

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = Users(prefix, 100).Append(prefix + "x").ToArray() }));
        Assert.Equal(102, (await c.GroupInfoAsync(groupId)).Int("memberCount"));

        await c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = Users(prefix, 100) });
        Assert.Equal(2, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task AddToBlocklist_HundredOneUsers_FailsAndHundredPasses()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var prefix = $"bl{Guid.NewGuid():N}"[..12];

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("AddToBlocklist", new { groupId, userIds = Users(prefix, 101) }));
        Assert.Empty(await c["o"].InvokeAsync<string[]>("GetBlocklist", new { groupId }));

        Assert.Equal(100, (await c["o"].InvokeAsync<string[]>("AddToBlocklist", new { groupId, userIds = Users(prefix, 100) })).Length);
    }

    [Fact]
    public async Task ApplyToJoin_MessageOf256_PassesAnd257Fails()
    {
        var c = await world.CastAsync("o", "x", "y");
        var groupId = await c.GroupAsync("Public", []);

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["y"].InvokeAsync("ApplyToJoin", new { groupId, message = new string('m', 257) }));
        Assert.Empty(await c["y"].InvokeAsync<object[]>("GetPendingItems", new { }));

        // Code points, not UTF-16 units: 256 emoji are 512 chars and still fit.
        var applied = await c["x"].InvokeAsync("ApplyToJoin", new { groupId, message = string.Concat(Enumerable.Repeat("😀", 256)) });
        Assert.Equal("Pending", applied.Str("result"));
    }

    [Fact]
    public async Task InviteMembers_MessageOf257_FailsWithInvalidArgument()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Private", [], new { inviteNeedsConfirm = true });

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x"), message = new string('m', 257) }));
        Assert.Empty(await c["x"].InvokeAsync<object[]>("GetPendingItems", new { }));

        Assert.Equal("Invited", (await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x"), message = new string('m', 256) }))[0].Str("result"));
    }

    [Fact]
    public async Task HandlePendingItem_ReasonOf257_FailsAndItemStaysPending()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = false, reason = new string('r', 257) }));

        var item = await c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = false, reason = new string('r', 256) });
        Assert.Equal("Rejected", item.Str("status"));
    }

    [Theory]
    [InlineData("nameCard", 64)]
    [InlineData("custom", 512)]
    public async Task UpdateMember_FieldAtMax_PassesAndMaxPlusOneFails(string field, int max)
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c["m"].InvokeAsync("UpdateMember",
            new Dictionary<string, object> { ["groupId"] = groupId, ["userId"] = c.Id("m"), [field] = new string('z', max + 1) }));
        Assert.Contains(field, message);
        Assert.Equal(lastSeq, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));

        var info = await c["m"].InvokeAsync("UpdateMember",
            new Dictionary<string, object> { ["groupId"] = groupId, ["userId"] = c.Id("m"), [field] = new string('z', max) });
        Assert.Equal(max, info.Str(field).Length);
    }

    [Theory]
    [InlineData(2_592_001L)]
    [InlineData(-1L)]
    public async Task UpdateMember_MuteSecondsOutOfRange_FailsAndChangesNothing(long seconds)
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), muteSeconds = seconds }));

        var m = (await c.MembersAsync(groupId)).GetProperty("members").EnumerateArray().Single(e => e.Str("userId") == c.Id("m"));
        Assert.False(m.TryGetProperty("mutedUntil", out _));
    }

    [Fact]
    public async Task UpdateMember_MuteThirtyDays_Passes()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);

        var info = await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), muteSeconds = 2_592_000 });

        Assert.InRange(info.GetProperty("mutedUntil").GetDateTime() - DateTime.UtcNow, TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));
    }

    [Fact]
    public async Task GetMembers_Limit500_PassesAnd501Or0Fail()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("GetMembers", new { groupId, limit = 501 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("GetMembers", new { groupId, limit = 0 }));

        Assert.Equal(1, (await c["o"].InvokeAsync("GetMembers", new { groupId, limit = 500 })).Int("total"));
    }

    [Fact]
    public async Task GetMembers_NoLimit_ReturnsHundred()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var prefix = $"gm{Guid.NewGuid():N}"[..12];
        await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = Users(prefix, 100) });

        var page = await c["o"].InvokeAsync("GetMembers", new { groupId });

        Assert.Equal((101, 100), (page.Int("total"), page.GetProperty("members").GetArrayLength()));
    }

    [Fact]
    public async Task InviteMembers_UnknownField_FailsWithInvalidArgument()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x"), silent = true }));

        Assert.Contains("silent", message);
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }
}

/// <summary>A node whose users may join only two groups.</summary>
public sealed class TwoGroupWorld() : MembershipWorld(new Dictionary<string, string?> { ["Realtime:JoinedGroupLimit"] = "2" });

public sealed class JoinedGroupLimitTests(TwoGroupWorld world) : IClassFixture<TwoGroupWorld>
{
    [Fact]
    public async Task ApplyToJoin_AtJoinedGroupLimit_FailsButAvChatRoomsDoNotCount()
    {
        // Each group has its own owner: owners count toward the limit too.
        var c = await world.CastAsync("o", "p", "q", "x");
        async Task<string> Create(string owner) => (await c[owner].InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "room" })).Str("groupId");
        var g1 = await Create("o");
        var g2 = await Create("p");
        var g3 = await Create("q");
        await c["x"].InvokeAsync("ApplyToJoin", new { groupId = g1 });
        await c["x"].InvokeAsync("ApplyToJoin", new { groupId = g2 });

        await Expect.HubError(ErrorCode.JoinedGroupLimit, () => c["x"].InvokeAsync("ApplyToJoin", new { groupId = g3 }));
        Assert.Equal(1, (await c.GroupInfoAsync(g3, "q")).Int("memberCount"));

        var invited = await c["q"].InvokeAsync("InviteMembers", new { groupId = g3, userIds = c.IdsOf("x") });
        Assert.Equal(("Failed", "JoinedGroupLimit"), (invited[0].Str("result"), invited[0].Str("code")));

        var av = (await c["o"].InvokeAsync("CreateGroup", new { type = "AVChatRoom", name = "live" })).Str("groupId");
        Assert.Equal("Joined", (await c["x"].InvokeAsync("ApplyToJoin", new { groupId = av })).Str("result"));

        await c["x"].InvokeAsync("QuitGroup", g1);
        Assert.Equal("Joined", (await c["x"].InvokeAsync("ApplyToJoin", new { groupId = g3 })).Str("result"));
    }
}
