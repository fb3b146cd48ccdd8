using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Membership;

/// <summary>UpdateMember: roles, mutes, member profile fields and their pushes.</summary>
public sealed class MemberUpdateTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    [Fact]
    public async Task UpdateMember_SetAdmin_BroadcastsMemberChangedAndTellsTarget()
    {
        var c = await world.CastAsync("o", "m", "t");
        var groupId = await c.GroupAsync("Public", ["m", "t"]);

        var info = await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("t"), role = "Admin" });

        Assert.Equal("Admin", info.Str("role"));
        var changed = await c["m"].WaitForAsync("GroupEvent", Json.OfType("MemberChanged", groupId));
        Assert.Equal(c.Id("t"), changed.Data().Str("userId"));
        Assert.Equal("Admin", changed.Data().GetProperty("changes").Str("role"));
        Assert.Equal("Admin", (await c["t"].WaitForAsync("SystemMessage", Json.OfType("RoleChanged", groupId))).Data().Str("role"));
        Assert.Equal(1, (await c["o"].InvokeAsync("GetMembers", new { groupId, role = "Admin" })).Int("total"));
    }

    [Fact]
    public async Task UpdateMember_Mute_BroadcastsMutedUntilAndTellsTarget()
    {
        var c = await world.CastAsync("o", "m", "t");
        var groupId = await c.GroupAsync("Public", ["m", "t"]);

        var info = await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("t"), muteSeconds = 600 });

        var until = info.GetProperty("mutedUntil").GetDateTime();
        Assert.InRange(until - DateTime.UtcNow, TimeSpan.FromSeconds(500), TimeSpan.FromSeconds(700));
        var changed = await c["m"].WaitForAsync("GroupEvent", Json.OfType("MemberChanged", groupId));
        Assert.Equal(until, changed.Data().GetProperty("changes").GetProperty("mutedUntil").GetDateTime());
        var muted = await c["t"].WaitForAsync("SystemMessage", Json.OfType("Muted", groupId));
        Assert.Equal(600, muted.Data().Int("muteSeconds"));

        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("t"), muteSeconds = 0 });

        var unmuted = await c["m"].WaitForAsync("GroupEvent", Json.OfType("MemberChanged", groupId));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, unmuted.Data().GetProperty("changes").GetProperty("mutedUntil").ValueKind);
    }

    [Fact]
    public async Task UpdateMember_NameCardAndCustom_BroadcastButMsgRecvOptionStaysPrivate()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Private", ["m"]);

        await c["m"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), msgRecvOption = "Discard" });
        await c["m"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), nameCard = "Em", custom = "c1" });

        var changed = await c["o"].WaitForAsync("GroupEvent", Json.OfType("MemberChanged", groupId));
        var changes = changed.Data().GetProperty("changes");
        Assert.Equal(("Em", "c1"), (changes.Str("nameCard"), changes.Str("custom")));
        Assert.False(changes.TryGetProperty("msgRecvOption", out _));
        // The nameCard change is the only MemberChanged: the msgRecvOption change, made first, was not broadcast.
        Assert.Single(c["o"].Received, r => r.Target == "GroupEvent" && Json.OfType("MemberChanged", groupId)(r.Args));
        var seenByOwner = (await c.MembersAsync(groupId)).GetProperty("members").EnumerateArray().Single(e => e.Str("userId") == c.Id("m"));
        Assert.False(seenByOwner.TryGetProperty("msgRecvOption", out _));
        var seenBySelf = (await c.MembersAsync(groupId, "m")).GetProperty("members").EnumerateArray().Single(e => e.Str("userId") == c.Id("m"));
        Assert.Equal(("Discard", "Em"), (seenBySelf.Str("msgRecvOption"), seenBySelf.Str("nameCard")));
    }

    [Fact]
    public async Task UpdateMember_RoleOwner_FailsWithInvalidArgument()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), role = "Owner" }));

        Assert.Equal(c.Id("o"), (await c.GroupInfoAsync(groupId)).Str("owner"));
    }

    [Fact]
    public async Task UpdateMember_NonMemberTarget_FailsWithNotMember()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);

        await Expect.HubError(ErrorCode.NotMember, () => c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("x"), muteSeconds = 60 }));
    }

    [Theory]
    [InlineData("role")]
    [InlineData("muteSeconds")]
    [InlineData("nameCard")]
    [InlineData("msgRecvOption")]
    public async Task UpdateMember_PlainMemberOnNonMember_FailsWithPermissionDeniedNotNotMember(string field)
    {
        var c = await world.CastAsync("o", "m", "x");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var request = new Dictionary<string, object?> { ["groupId"] = groupId, ["userId"] = c.Id("x") };
        request[field] = field switch
        {
            "role" => "Admin",
            "muteSeconds" => 60,
            "nameCard" => "X",
            _ => "Discard",
        };

        // SPEC §4 order: the caller's role (PermissionDenied) before the arguments, the target among them.
        await Expect.HubError(ErrorCode.PermissionDenied, () => c["m"].InvokeAsync("UpdateMember", request));

        if (field != "msgRecvOption") // the owner may do it, so there the target's absence answers
            await Expect.HubError(ErrorCode.NotMember, () => c["o"].InvokeAsync("UpdateMember", request));
    }

    [Fact]
    public async Task GetMembers_Paged_OwnerFirstAndTotalCountsAll()
    {
        var c = await world.CastAsync("o", "a", "m1", "m2");
        var groupId = await c.GroupAsync("Public", ["a", "m1", "m2"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), role = "Admin" });

        var page1 = await c["m1"].InvokeAsync("GetMembers", new { groupId, limit = 2 });
        var page2 = await c["m1"].InvokeAsync("GetMembers", new { groupId, offset = 2, limit = 2 });

        Assert.Equal((4, 4), (page1.Int("total"), page2.Int("total")));
        var roles = page1.GetProperty("members").EnumerateArray().Concat(page2.GetProperty("members").EnumerateArray()).Select(e => e.Str("role"));
        Assert.Equal(["Owner", "Admin", "Member", "Member"], roles);
    }
}
