using System.Text.Json;
using Dapper;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Groups;

public sealed class GroupLifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Theory]
    [InlineData("Private", 200, "DisableApply", "Anyone")]
    [InlineData("Public", 2000, "NeedPermission", "AdminsOnly")]
    [InlineData("ChatRoom", 10000, "FreeAccess", "AdminsOnly")]
    [InlineData("AVChatRoom", null, "FreeAccess", "Disabled")]
    [InlineData("BChatRoom", null, "FreeAccess", "Disabled")]
    public async Task CreateGroup_EachType_HasSpecDefaults(string type, int? maxMembers, string apply, string invite)
    {
        await using var owner = await Node.ConnectAsync(Unique("u"));

        var info = await owner.InvokeAsync("CreateGroup", new { type, name = "  Team  " });

        Assert.Matches("^@RT#[A-Z2-7]{12}$", info.Str("groupId"));
        Assert.Equal(type, info.Str("type"));
        Assert.Equal("Team", info.Str("name"));
        if (maxMembers is null) Assert.Equal(JsonValueKind.Null, info.GetProperty("maxMembers").ValueKind);
        else Assert.Equal(maxMembers, info.Int("maxMembers"));
        Assert.Equal(apply, info.Str("applyJoinOption"));
        Assert.Equal(invite, info.Str("inviteOption"));
        Assert.False(info.Bool("inviteNeedsConfirm"));
        Assert.Equal(1, info.Int("version"));
        Assert.Equal(1, info.Int("memberCount"));
        Assert.Equal(0, info.Long("lastSeq"));
        Assert.EndsWith("Z", info.Str("createdAt"));
    }

    [Fact]
    public async Task CreateGroup_OwnerListedAmongAHundredMembers_NotCountedAndCreated()
    {
        var owner = Unique("u");
        await using var o = await Node.ConnectAsync(owner);
        var members = Enumerable.Range(0, 100).Select(i => $"m{i}-{owner}").ToList();
        Assert.Equal(100, members.Count);

        var info = await o.InvokeAsync("CreateGroup", new { type = "Public", name = "full house", members = members.Prepend(owner).ToArray() });

        Assert.Equal(101, info.Int("memberCount"));
        var e = await Assert.ThrowsAsync<HubErrorException>(() =>
            o.InvokeAsync("CreateGroup", new { type = "Public", name = "too many", members = members.Append($"x-{owner}").ToArray() }));
        Assert.StartsWith("[InvalidArgument] members", e.HubMessage);
    }

    [Fact]
    public async Task CreateGroup_TwoTerminals_BothGetGroupCreated()
    {
        var user = Unique("u");
        await using var phone = await Node.ConnectAsync(user, "phone");
        await using var laptop = await Node.ConnectAsync(user, "laptop");

        var groupId = (await phone.InvokeAsync("CreateGroup", new { type = "Public", name = "two terminals" })).Str("groupId");

        foreach (var terminal in new[] { phone, laptop })
        {
            var msg = (await terminal.WaitForAsync("SystemMessage", Json.OfType("GroupCreated", groupId)))[0];
            Assert.Equal(user, msg.Str("actor"));
            Assert.Equal(0, msg.GetProperty("data").Long("joinSeq"));
        }
    }

    [Fact]
    public async Task CreateGroup_WithMembers_EachGetsJoinedGroupAndMembersJoined()
    {
        var (owner, m1, m2) = (Unique("o"), Unique("m"), Unique("m"));
        await using var o = await Node.ConnectAsync(owner);
        await using var c1 = await Node.ConnectAsync(m1);
        await using var c2 = await Node.ConnectAsync(m2);

        var info = await o.InvokeAsync("CreateGroup", new { type = "Private", name = "with members", members = new[] { m1, m2, m1 } });
        var groupId = info.Str("groupId");

        Assert.Equal(3, info.Int("memberCount"));
        Assert.Equal(1, info.Long("lastSeq"));
        foreach (var c in new[] { o, c1, c2 })
        {
            var evt = (await c.WaitForAsync("GroupEvent", a => a[0].Str("type") == "MembersJoined" && a[0].Str("groupId") == groupId))[0];
            Assert.Equal(1, evt.Long("seq"));
            Assert.Equal([m1, m2], evt.GetProperty("data").GetProperty("userIds").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(owner, evt.GetProperty("data").Str("inviter"));
        }
        foreach (var c in new[] { c1, c2 })
        {
            var joined = (await c.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId)))[0];
            Assert.Equal(0, joined.GetProperty("data").Long("joinSeq"));
        }
    }

    [Fact]
    public async Task CreateGroup_CustomIdTaken_GroupIdTakenUntilDissolved()
    {
        var id = Unique("team.");
        await using var owner = await Node.ConnectAsync(Unique("u"));
        await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "first", groupId = id });

        await Expect.HubError(ErrorCode.GroupIdTaken, () => owner.InvokeAsync("CreateGroup", new { type = "Public", name = "second", groupId = id }));

        await owner.InvokeAsync("DissolveGroup", id);
        var again = await owner.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "third", groupId = id });
        Assert.Equal(id, again.Str("groupId"));
        Assert.Equal(0, again.Long("lastSeq"));
    }

    [Fact]
    public async Task CreateGroup_SameRequestIdRetried_ReturnsSameGroupAndCreatesOne()
    {
        var user = Unique("u");
        await using var a = await Node.ConnectAsync(user, "a");
        await using var b = await Node.ConnectAsync(user, "b");
        var request = new { type = "Public", name = "once", requestId = "req-1" };

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? a : b).InvokeAsync("CreateGroup", request)));

        Assert.Single(results.Select(r => r.Str("groupId")).Distinct());
        var joined = await a.InvokeAsync("GetJoinedGroups", new { });
        Assert.Equal(1, joined.Int("total"));
    }

    public static TheoryData<string, object, bool> EdgeCases() => new()
    {
        { "name", new { type = "Public", name = new string('n', 128) }, true },
        { "name", new { type = "Public", name = new string('n', 129) }, false },
        { "name", new { type = "Public", name = "   " }, false },
        { "name", new { type = "Public", name = "a/b" }, false },
        { "name", new { type = "Public", name = string.Concat(Enumerable.Repeat("😀", 128)) }, true },
        { "introduction", new { type = "Public", name = "x", introduction = new string('i', 512) }, true },
        { "introduction", new { type = "Public", name = "x", introduction = new string('i', 513) }, false },
        { "notification", new { type = "Public", name = "x", notification = new string('i', 1024) }, true },
        { "notification", new { type = "Public", name = "x", notification = new string('i', 1025) }, false },
        { "faceUrl", new { type = "Public", name = "x", faceUrl = "https://x.io/" + new string('f', 499) }, true },
        { "faceUrl", new { type = "Public", name = "x", faceUrl = "https://x.io/" + new string('f', 500) }, false },
        { "faceUrl", new { type = "Public", name = "x", faceUrl = "ftp://x.io/a.png" }, false },
        { "custom", new { type = "Public", name = "x", custom = new string('c', 1024) }, true },
        { "custom", new { type = "Public", name = "x", custom = new string('c', 1025) }, false },
        { "members", new { type = "Public", name = "x", members = Enumerable.Range(0, 100).Select(i => $"edge{i}").ToArray() }, true },
        { "members", new { type = "Public", name = "x", members = Enumerable.Range(0, 101).Select(i => $"edge{i}").ToArray() }, false },
        { "members", new { type = "Public", name = "x", members = new[] { "bad id" } }, false },
        { "maxMembers", new { type = "Private", name = "x", maxMembers = 2000 }, true },
        { "maxMembers", new { type = "Private", name = "x", maxMembers = 2001 }, false },
        { "maxMembers", new { type = "Public", name = "x", maxMembers = 6000 }, true },
        { "maxMembers", new { type = "Public", name = "x", maxMembers = 6001 }, false },
        { "maxMembers", new { type = "ChatRoom", name = "x", maxMembers = 10000 }, true },
        { "maxMembers", new { type = "ChatRoom", name = "x", maxMembers = 10001 }, false },
        { "maxMembers", new { type = "Public", name = "x", maxMembers = 0 }, false },
        { "groupId", new { type = "Public", name = "x", groupId = "@mine" }, false },
        { "groupId", new { type = "Public", name = "x", groupId = new string('g', 49) }, false },
        { "requestId", new { type = "Public", name = "x", requestId = new string('r', 65) }, false },
        { "type", new { name = "x" }, false },
        { "type", new { type = "Team", name = "x" }, false },
    };

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public async Task CreateGroup_LimitEdge_MaxPassesAndBeyondFailsChangingNothing(string field, object request, bool passes)
    {
        var user = Unique("u");
        await using var client = await Node.ConnectAsync(user);
        await client.InvokeAsync("CreateGroup", new { type = "Public", name = "before" });
        var before = (await client.WaitForAsync("SystemMessage", Json.OfType("GroupCreated")))[0].Long("seq");

        if (passes)
        {
            await client.InvokeAsync("CreateGroup", request);
        }
        else
        {
            var message = await Expect.HubError(ErrorCode.InvalidArgument, () => client.InvokeAsync("CreateGroup", request));
            Assert.Contains(field, message);
        }

        // The next message proves what the failed command did not send: its seq follows directly.
        var after = await client.InvokeAsync("CreateGroup", new { type = "Public", name = "after" });
        var next = (await client.WaitForAsync("SystemMessage", Json.OfType("GroupCreated", after.Str("groupId"))))[0].Long("seq");
        Assert.Equal(before + (passes ? 2 : 1), next);
        Assert.Equal(passes ? 3 : 2, (await client.InvokeAsync("GetJoinedGroups", new { })).Int("total"));
    }

    [Fact]
    public async Task UpdateGroupProfile_Changes_EveryMemberGetsProfileChangedAndVersionGrows()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "old", members = new[] { member } })).Str("groupId");

        var info = await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "new", notification = "hello", expectedVersion = 1 });

        Assert.Equal(2, info.Int("version"));
        Assert.Equal(2, info.Long("lastSeq"));
        foreach (var c in new[] { o, m })
        {
            var evt = (await c.WaitForAsync("GroupEvent", a => a[0].Str("type") == "ProfileChanged" && a[0].Str("groupId") == groupId))[0];
            var changes = evt.GetProperty("data").GetProperty("changes");
            Assert.Equal("new", changes.Str("name"));
            Assert.Equal("hello", changes.Str("notification"));
            Assert.Equal(2, changes.EnumerateObject().Count());
        }

        await Expect.HubError(ErrorCode.VersionConflict, () => o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "stale", expectedVersion = 1 }));
        var unchanged = await o.InvokeAsync("UpdateGroupProfile", new { groupId, name = "new" });
        Assert.Equal(2, unchanged.Int("version"));
        Assert.Equal("new", unchanged.Str("name"));
    }

    [Fact]
    public async Task UpdateGroupProfile_FixedSettingOfType_UnsupportedForGroupType()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var priv = (await o.InvokeAsync("CreateGroup", new { type = "Private", name = "p" })).Str("groupId");
        var av = (await o.InvokeAsync("CreateGroup", new { type = "AVChatRoom", name = "av" })).Str("groupId");

        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => o.InvokeAsync("UpdateGroupProfile", new { groupId = priv, applyJoinOption = "FreeAccess" }));
        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => o.InvokeAsync("UpdateGroupProfile", new { groupId = av, inviteOption = "Anyone" }));
        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => o.InvokeAsync("CreateGroup", new { type = "Private", name = "p", applyJoinOption = "FreeAccess" }));
    }

    [Fact]
    public async Task UpdateGroupProfile_MaxMembersBelowMemberCount_InvalidArgument()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "p", members = new[] { "x1", "x2" } })).Str("groupId");

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("UpdateGroupProfile", new { groupId, maxMembers = 2 }));
        Assert.Contains("maxMembers", message);
        Assert.Equal(3, (await o.InvokeAsync("UpdateGroupProfile", new { groupId, maxMembers = 3 })).Int("maxMembers"));
    }

    [Fact]
    public async Task DissolveGroup_Members_EveryTerminalGetsGroupDissolvedWithGaplessSeqs()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var o = await Node.ConnectAsync(owner);
        await using var m1 = await Node.ConnectAsync(member, "phone");
        await using var m2 = await Node.ConnectAsync(member, "laptop");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "doomed", members = new[] { member } })).Str("groupId");
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "soon gone" });

        await o.InvokeAsync("DissolveGroup", groupId);

        foreach (var c in new[] { o, m1, m2 })
        {
            await c.WaitForAsync("SystemMessage", Json.OfType("GroupDissolved", groupId));
            var final = (await c.WaitForAsync("GroupEvent", a => a[0].Str("type") == "GroupDissolved" && a[0].Str("groupId") == groupId))[0];
            Assert.Equal(3, final.Long("seq"));
            var groupSeqs = c.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].Long("seq"));
            Assert.Equal([1L, 2L, 3L], groupSeqs);
            var systemSeqs = c.Received.Where(r => r.Target == "SystemMessage").Select(r => r.Args[0].Long("seq")).ToList();
            Assert.Equal(Enumerable.Range(1, systemSeqs.Count).Select(i => (long)i), systemSeqs);
        }
        Assert.Equal(0, (await m1.InvokeAsync("GetJoinedGroups", new { })).Int("total"));
        await Expect.HubError(ErrorCode.GroupNotFound, () => o.InvokeAsync("DissolveGroup", groupId));
    }

    [Fact]
    public async Task DissolveGroup_IdTakenAgain_OldMembersOpenTerminalHearsNothingOfTheNewGroup()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        var groupId = Unique("reused.");
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "old", groupId, members = new[] { member } });
        await o.InvokeAsync("DissolveGroup", groupId);
        await m.WaitForAsync("GroupEvent", a => a[0].Str("type") == "GroupDissolved");

        await o.InvokeAsync("CreateGroup", new { type = "Public", name = "new", groupId, members = new[] { "someone-else" } });
        await o.InvokeAsync("SendMessage", new { groupId, text = "new group only" });
        await o.WaitForAsync("GroupEvent", a => a[0].Str("type") == "Message" && a[0].Str("groupId") == groupId);

        // Only the old group's two events (MembersJoined, GroupDissolved) ever reached the old member.
        var heard = m.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId).Select(r => r.Args[0].Str("type"));
        Assert.Equal(["MembersJoined", "GroupDissolved"], heard);
    }

    [Fact]
    public async Task TransferOwnership_ToMember_NewOwnerToldAndOldOwnerBecomesMember()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "ChatRoom", name = "handover", members = new[] { member } })).Str("groupId");

        await Expect.HubError(ErrorCode.NotMember, () => o.InvokeAsync("TransferOwnership", groupId, "stranger"));
        await o.InvokeAsync("TransferOwnership", groupId, member);

        var evt = (await o.WaitForAsync("GroupEvent", a => a[0].Str("type") == "OwnerChanged"))[0].GetProperty("data");
        Assert.Equal(owner, evt.Str("oldOwner"));
        Assert.Equal(member, evt.Str("newOwner"));
        await m.WaitForAsync("SystemMessage", Json.OfType("OwnershipTransferred", groupId));
        var roles = (await o.InvokeAsync("GetJoinedGroups", new { })).GetProperty("groups").EnumerateArray().Single(g => g.Str("groupId") == groupId);
        Assert.Equal("Member", roles.Str("role"));
        await Expect.HubError(ErrorCode.PermissionDenied, () => o.InvokeAsync("TransferOwnership", groupId, member));
    }

    [Fact]
    public async Task GetGroups_OtherAppsGroup_LooksNotFound()
    {
        await using var app1 = await Node.ConnectAsync("alice");
        await using var app2 = await Node.ConnectAsync("alice", app: RealtimeNode.OtherApp);
        var groupId = (await app1.InvokeAsync("CreateGroup", new { type = "Public", name = "app1 only" })).Str("groupId");

        var result = await app2.InvokeAsync("GetGroups", (object)new[] { groupId });

        Assert.Equal("GroupNotFound", result.GetProperty("failed")[0].Str("code"));
        await Expect.HubError(ErrorCode.GroupNotFound, () => app2.InvokeAsync("SearchGroup", groupId));
        Assert.DoesNotContain(app2.Received, r => r.Target == "SystemMessage" && r.Args[0].Str("groupId") == groupId);
    }

    [Fact]
    public async Task GetJoinedGroups_LimitOutOfRange_InvalidArgument()
    {
        await using var c = await Node.ConnectAsync(Unique("u"));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("GetJoinedGroups", new { limit = 1001 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("GetJoinedGroups", new { offset = -1 }));
        Assert.Equal(0, (await c.InvokeAsync("GetJoinedGroups", new { limit = 1000 })).Int("total"));
    }

    [Fact]
    public async Task GetGroups_TooMany_InvalidArgument()
    {
        await using var c = await Node.ConnectAsync(Unique("u"));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("GetGroups", (object)Enumerable.Range(0, 101).Select(i => $"g{i}").ToArray()));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("GetGroups", (object)Array.Empty<string>()));
    }

    [Fact]
    public async Task FailedCreate_LeavesNoRow()
    {
        await using var c = await Node.ConnectAsync(Unique("u"));
        await using var db = await fixture.Database.OpenAsync();
        var before = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM groups");

        await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("CreateGroup", new { type = "Public", name = new string('n', 129) }));

        Assert.Equal(before, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM groups"));
    }
}
