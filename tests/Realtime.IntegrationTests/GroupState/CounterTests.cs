using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.IntegrationTests.Membership;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>Counters (SPEC §9): int64 with overflow refused, who increments and who sets, events with resulting values.</summary>
public sealed class CounterTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    private static long Counter(JsonElement result, string key) => result.GetProperty("counters").GetProperty(key).GetInt64();

    [Fact]
    public async Task ChangeGroupCounters_IncrementAndSet_EventCarriesResultingValues()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var inc = await c["m"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { likes = 5 } });
        Assert.Equal(5, Counter(inc, "likes"));
        var evt = await c["o"].WaitForAsync("GroupEvent", Json.OfType("CountersChanged", groupId));
        Assert.Equal(inc.Long("seq"), evt[0].Long("seq"));
        Assert.Equal(5, evt.Data().GetProperty("counters").GetProperty("likes").GetInt64());

        var set = await c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, set = new { seats = 3 }, increment = new { likes = -7 } });
        Assert.Equal(-2, Counter(set, "likes"));
        Assert.Equal(3, Counter(set, "seats"));
        var read = await c["m"].InvokeAsync("GetGroupCounters", new { groupId, keys = new[] { "likes" } });
        Assert.Equal(-2, Counter(read, "likes"));
        Assert.False(read.GetProperty("counters").TryGetProperty("seats", out _));
        Assert.Equal(set.Long("seq"), read.Long("seq"));
    }

    [Fact]
    public async Task ChangeGroupCounters_Overflow_RefusedNothingChanged()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        await c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, set = new { big = long.MaxValue - 1, small = long.MinValue } });
        var before = await c["o"].InvokeAsync("GetGroupCounters", new { groupId });

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { other = 1, big = 2 } }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { small = -1 } }));
        // A number beyond int64 cannot even be bound.
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters",
            JsonDocument.Parse($$$"""{"groupId":"{{{groupId}}}","increment":{"big":9223372036854775808}}""").RootElement));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters",
            JsonDocument.Parse($$$"""{"groupId":"{{{groupId}}}","increment":{"big":1.5}}""").RootElement));
        var after = await c["o"].InvokeAsync("GetGroupCounters", new { groupId });
        Assert.Equal(before.GetRawText(), after.GetRawText());

        var edge = await c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { big = 1 } });
        Assert.Equal(long.MaxValue, Counter(edge, "big"));
    }

    [Fact]
    public async Task ChangeGroupCounters_TwentyKeys_TheTwentyFirstRefused()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        await c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = Enumerable.Range(0, 20).ToDictionary(i => $"c{i}", _ => 1L) });
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { c20 = 1 } }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters",
            new { groupId, increment = new Dictionary<string, long> { ["bad key"] = 1 } }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters", new { groupId }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { c1 = 1 }, set = new { c1 = 1 } }));
        Assert.Equal(20, (await c["o"].InvokeAsync("GetGroupCounters", new { groupId })).GetProperty("counters").EnumerateObject().Count());
    }

    [Theory]
    [InlineData("Public", "m", "increment", null)]
    [InlineData("Public", "m", "set", ErrorCode.PermissionDenied)]
    [InlineData("Public", "admin", "set", null)]
    [InlineData("Private", "m", "set", ErrorCode.PermissionDenied)]
    [InlineData("Private", "m", "increment", null)]
    [InlineData("Public", "muted", "increment", ErrorCode.MemberMuted)]
    [InlineData("Public", "muted", "set", ErrorCode.PermissionDenied)]
    [InlineData("BChatRoom", "m", "increment", ErrorCode.PermissionDenied)]
    [InlineData("BChatRoom", "admin", "increment", null)]
    [InlineData("AVChatRoom", "m", "increment", null)]
    public async Task ChangeGroupCounters_WhoMay_MembersWhoMaySendIncrementStaffSets(string type, string caller, string op, ErrorCode? expected)
    {
        var c = await world.CastAsync("o", "m", "admin", "muted");
        var chat = type is "AVChatRoom" or "BChatRoom";
        var groupId = chat ? await c.GroupAsync(type, []) : await c.GroupAsync(type, ["m", "admin", "muted"]);
        if (chat)
            foreach (var u in new[] { "m", "admin", "muted" }) await c[u].InvokeAsync("ApplyToJoin", new { groupId });
        if (type != "Private") await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("admin"), role = "Admin" });
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("muted"), muteSeconds = 600 });

        Task Call() => c[caller].InvokeAsync("ChangeGroupCounters",
            op == "set" ? new { groupId, set = new { k = 1 } } : (object)new { groupId, increment = new { k = 1 } });
        if (expected is { } code) await Expect.HubError(code, Call);
        else await Call();
    }

    [Fact]
    public async Task ChangeGroupCounters_MuteAll_AllowlistedMemberIncrements()
    {
        var c = await world.CastAsync("o", "m", "allowed");
        var groupId = await c.GroupAsync("Public", ["m", "allowed"]);
        await c["o"].InvokeAsync("AddToAllowlist", new { groupId, userIds = c.IdsOf("allowed") });
        await c["o"].InvokeAsync("UpdateGroupProfile", new { groupId, muteAll = true });
        await Expect.HubError(ErrorCode.MemberMuted, () => c["m"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { k = 1 } }));
        await c["allowed"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { k = 1 } });
        await c["o"].InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { k = 1 } });
        Assert.Equal(2, Counter(await c["m"].InvokeAsync("GetGroupCounters", new { groupId }), "k"));
    }
}
