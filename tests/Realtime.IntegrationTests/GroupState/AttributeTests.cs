using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.IntegrationTests.Membership;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>Attributes (SPEC §9): versions, compare-and-set, atomic calls, limits at their edges, events, snapshots.</summary>
public sealed class AttributeTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    private static JsonElement Attr(JsonElement result, string key) => result.GetProperty("attributes").GetProperty(key);

    [Fact]
    public async Task SetGroupAttributes_SetChangeRemove_VersionsCountAndEventsCarryChanges()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);

        var first = await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { topic = "hi", seat1 = "ann" } });
        Assert.Equal(1, Attr(first, "topic").Long("version"));
        Assert.Equal("hi", Attr(first, "topic").Str("value"));
        var evt = await c["m"].WaitForAsync("GroupEvent", Json.OfType("AttributesChanged", groupId));
        Assert.Equal(first.Long("seq"), evt[0].Long("seq"));
        Assert.Equal("ann", evt.Data().GetProperty("changes").GetProperty("seat1").Str("value"));

        var second = await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { topic = "bye" }, remove = new[] { "seat1", "absent" } });
        Assert.Equal(2, Attr(second, "topic").Long("version"));
        Assert.False(second.GetProperty("attributes").TryGetProperty("seat1", out _));
        var removed = await c["m"].WaitForAsync("GroupEvent", a => Json.OfType("AttributesChanged", groupId)(a) && a[0].Long("seq") == second.Long("seq"));
        var changes = removed.Data().GetProperty("changes");
        Assert.Equal(JsonValueKind.Null, changes.GetProperty("seat1").ValueKind);
        Assert.False(changes.TryGetProperty("absent", out _));

        var read = await c["m"].InvokeAsync("GetGroupAttributes", new { groupId });
        Assert.Equal(second.Long("seq"), read.Long("seq"));
        Assert.Equal("bye", Attr(read, "topic").Str("value"));
        var some = await c["m"].InvokeAsync("GetGroupAttributes", new { groupId, keys = new[] { "nope" } });
        Assert.Empty(some.GetProperty("attributes").EnumerateObject());
    }

    [Fact]
    public async Task SetGroupAttributes_ExpectedVersions_ConflictFailsWholeCallNothingChanged()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { a = "1" }, expectedVersions = new { a = 0 } });
        var before = await c["o"].InvokeAsync("GetGroupAttributes", new { groupId });

        await Expect.HubError(ErrorCode.VersionConflict, () => c["o"].InvokeAsync("SetGroupAttributes",
            new { groupId, set = new { a = "2", b = "x" }, expectedVersions = new { a = 0 } }));
        await Expect.HubError(ErrorCode.VersionConflict, () => c["o"].InvokeAsync("SetGroupAttributes",
            new { groupId, set = new { b = "x" }, expectedVersions = new { a = 2 } }));
        await Expect.HubError(ErrorCode.VersionConflict, () => c["o"].InvokeAsync("SetGroupAttributes",
            new { groupId, remove = new[] { "a" }, expectedVersions = new { zz = 1 } }));
        var after = await c["o"].InvokeAsync("GetGroupAttributes", new { groupId });
        Assert.Equal(before.GetRawText(), after.GetRawText());

        var ok = await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { a = "2" }, expectedVersions = new { a = 1, b = 0 } });
        Assert.Equal(2, Attr(ok, "a").Long("version"));
    }

    [Fact]
    public async Task SetGroupAttributes_LimitsAtTheirEdges()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var key64 = new string('k', 64);
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new Dictionary<string, string> { [key64] = new string('é', 4096) } });
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes",
            new { groupId, set = new Dictionary<string, string> { [key64 + "k"] = "v" } }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes",
            new { groupId, set = new Dictionary<string, string> { ["x"] = new string('v', 4097) } }));
        foreach (var bad in new[] { "", "a b", "a/b", "ключ", "a\u00e9" })
            await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes",
                new { groupId, set = new Dictionary<string, string> { [bad] = "v" } }));
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, remove = new[] { key64 } });

        // 32 keys after the call: the 32nd fits, a 33rd is refused (and a call that removes one while adding one fits).
        var thirtyTwo = Enumerable.Range(0, 32).ToDictionary(i => $"k{i}", _ => "v");
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = thirtyTwo });
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { k32 = "v" } }));
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { k32 = "v" }, remove = new[] { "k0" } });

        // 16 KiB of values in all: 4 × 4096 bytes fit exactly, one more byte does not.
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, remove = Enumerable.Range(1, 32).Select(i => $"k{i}").ToArray() });
        var full = Enumerable.Range(0, 4).ToDictionary(i => $"big{i}", _ => new string('b', 4096));
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = full });
        var msg = await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { one = "x" } }));
        Assert.Contains("16384", msg);
        var state = await c["o"].InvokeAsync("GetGroupAttributes", new { groupId });
        Assert.Equal(4, state.GetProperty("attributes").EnumerateObject().Count());

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes", new { groupId }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SetGroupAttributes",
            new { groupId, set = new { a = "1" }, remove = new[] { "a" } }));
    }

    [Theory]
    [InlineData("Private", "m", true)]
    [InlineData("Public", "m", false)]
    [InlineData("Public", "admin", true)]
    [InlineData("ChatRoom", "m", false)]
    [InlineData("AVChatRoom", "m", false)]
    [InlineData("AVChatRoom", "admin", true)]
    [InlineData("BChatRoom", "m", false)]
    [InlineData("BChatRoom", "admin", true)]
    public async Task SetGroupAttributes_WhoWrites_OwnerAndAdminsPrivateAnyMember(string type, string caller, bool allowed)
    {
        var c = await world.CastAsync("o", "m", "admin", "out");
        var groupId = type is "AVChatRoom" or "BChatRoom" ? await c.GroupAsync(type, []) : await c.GroupAsync(type, ["m", "admin"]);
        if (type is "AVChatRoom" or "BChatRoom")
        {
            await c["m"].InvokeAsync("ApplyToJoin", new { groupId });
            await c["admin"].InvokeAsync("ApplyToJoin", new { groupId });
        }
        if (type != "Private") await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("admin"), role = "Admin" });

        Task Set() => c[caller].InvokeAsync("SetGroupAttributes", new { groupId, set = new { k = caller } });
        if (allowed) await Set();
        else await Expect.HubError(ErrorCode.PermissionDenied, Set);
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { owner = "yes" } });
        // Members read; a non-member reads nothing (a Private group looks absent).
        await c["m"].InvokeAsync("GetGroupAttributes", new { groupId });
        await Expect.HubError(type == "Private" ? ErrorCode.GroupNotFound : ErrorCode.NotMember,
            () => c["out"].InvokeAsync("GetGroupAttributes", new { groupId }));
        await Expect.HubError(type == "Private" ? ErrorCode.GroupNotFound : ErrorCode.NotMember,
            () => c["out"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { k = "v" } }));
    }

    [Fact]
    public async Task SetGroupAttributes_DisabledGroup_RefusedReadsStillServed()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        await world.SetDisabledAsync(groupId, true);
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { k = "v" } }));
        await c["o"].InvokeAsync("GetGroupAttributes", new { groupId });
        await Expect.HubError(ErrorCode.GroupNotFound, () => c["o"].InvokeAsync("GetGroupAttributes", new { groupId = "nope-" + Guid.NewGuid().ToString("N")[..8] }));
    }

    [Fact]
    public async Task GetGroupAttributes_SnapshotPlusLaterEvents_EqualsStateForALateJoiner()
    {
        var c = await world.CastAsync("o", "late");
        var groupId = await c.GroupAsync("ChatRoom", [], new { applyJoinOption = "FreeAccess" });
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
                await c["o"].InvokeAsync("SetGroupAttributes", i % 3 == 2
                    ? new { groupId, set = (object?)null, remove = new[] { $"k{i % 5}" } } as object
                    : new { groupId, set = new Dictionary<string, string> { [$"k{i % 5}"] = $"v{i}" } });
        });
        // Joins and takes its snapshot while the owner writes.
        await c["late"].InvokeAsync("ApplyToJoin", new { groupId });
        var snapshot = await c["late"].InvokeAsync("GetGroupAttributes", new { groupId });
        await writer;
        var final = await c["o"].InvokeAsync("GetGroupAttributes", new { groupId });

        var state = snapshot.GetProperty("attributes").EnumerateObject()
            .ToDictionary(p => p.Name, p => (p.Value.Str("value"), p.Value.Long("version")));
        var sync = await c["late"].InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = snapshot.Long("seq") }, limit = 1000 });
        foreach (var e in sync.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray())
        {
            if (e.Str("type") != "AttributesChanged") continue;
            foreach (var change in e.GetProperty("data").GetProperty("changes").EnumerateObject())
                if (change.Value.ValueKind == JsonValueKind.Null) state.Remove(change.Name);
                else state[change.Name] = (change.Value.Str("value"), change.Value.Long("version"));
        }
        var expected = final.GetProperty("attributes").EnumerateObject().ToDictionary(p => p.Name, p => (p.Value.Str("value"), p.Value.Long("version")));
        Assert.Equal(expected.OrderBy(x => x.Key), state.OrderBy(x => x.Key));
    }

    [Fact]
    public async Task SetGroupAttributes_RequestIdRepeated_FirstAnswerNothingChanged()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var first = await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { a = "1" }, requestId = "r1" });
        var again = await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { a = "1" }, requestId = "r1" });
        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(1, Attr(await c["o"].InvokeAsync("GetGroupAttributes", new { groupId }), "a").Long("version"));
    }
}
