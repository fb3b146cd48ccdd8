using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

/// <summary>The group routes of SPEC §6 over HTTP, checked against what hub users see.</summary>
public sealed class AdminGroupTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly RestClient _admin = RestClient.Admin(fixture.Node);

    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static string PathOf(string groupId) => $"/chatgroups/{RestClient.Escape(groupId)}";

    private async Task<JsonElement> DetailsAsync(string groupId) => (await _admin.GetAsync(PathOf(groupId))).Ok()[0];

    [Fact]
    public async Task CreateChatGroup_AgoraFields_MapToGroupSettings()
    {
        var (owner, m1, m2) = (Unique("o"), Unique("m"), Unique("m"));

        var groupId = await _admin.CreateGroupAsync(new
        {
            groupname = "  Agora  ", desc = "intro", @public = true, maxusers = 300, allowinvites = true,
            membersonly = false, invite_need_confirm = true, owner, members = new[] { m1, m2 }, custom = "c1",
        });

        Assert.Matches("^@RT#[A-Z2-7]{12}$", groupId);
        var g = await DetailsAsync(groupId);
        Assert.Equal(groupId, g.Str("id"));
        Assert.Equal("Agora", g.Str("name"));
        Assert.Equal("intro", g.Str("description"));
        Assert.True(g.Bool("public"));
        Assert.Equal("Public", g.Str("type"));
        Assert.Equal(300, g.Int("maxusers"));
        Assert.True(g.Bool("allowinvites"));
        Assert.Equal("Anyone", g.Str("inviteOption"));
        Assert.False(g.Bool("membersonly"));
        Assert.Equal("FreeAccess", g.Str("applyJoinOption"));
        Assert.True(g.Bool("invite_need_confirm"));
        Assert.Equal(owner, g.Str("owner"));
        Assert.Equal("c1", g.Str("custom"));
        Assert.False(g.Bool("disabled"));
        Assert.Equal(3, g.Int("affiliations_count"));
        Assert.InRange(g.Long("created"), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        var affiliations = g.GetProperty("affiliations").EnumerateArray().Select(a => a.EnumerateObject().Single()).ToList();
        Assert.Equal(("owner", owner), (affiliations[0].Name, affiliations[0].Value.GetString()));
        Assert.Equal(new[] { m1, m2 }.Order(), affiliations.Skip(1).Where(a => a.Name == "member").Select(a => a.Value.GetString()!).Order());
    }

    [Theory]
    [InlineData(false, null, "Private")]
    [InlineData(true, null, "Public")]
    [InlineData(true, "ChatRoom", "ChatRoom")]
    [InlineData(false, "AVChatRoom", "AVChatRoom")]
    public async Task CreateChatGroup_PublicAndType_TypeWins(bool isPublic, string? type, string expected)
    {
        var groupId = await _admin.CreateGroupAsync(new { groupname = "t", @public = isPublic, type, owner = Unique("o") });

        var g = await DetailsAsync(groupId);
        Assert.Equal(expected, g.Str("type"));
        Assert.Equal(expected != "Private", g.Bool("public"));
    }

    [Fact]
    public async Task CreateChatGroup_OurFields_Accepted()
    {
        var groupId = Unique("custom-");

        var created = await _admin.CreateGroupAsync(new
        {
            groupid = groupId, type = "Public", groupname = "ours", notification = "hello", faceUrl = "https://x.test/a.png",
            description = "via description", owner = Unique("o"),
        });

        Assert.Equal(groupId, created);
        var g = await DetailsAsync(groupId);
        Assert.Equal("hello", g.Str("notification"));
        Assert.Equal("https://x.test/a.png", g.Str("faceUrl"));
        Assert.Equal("via description", g.Str("description"));
        (await _admin.PostAsync("/chatgroups", new { groupid = groupId, type = "Public", groupname = "again", owner = "o" })).Fails(ErrorCode.GroupIdTaken);
    }

    [Fact]
    public async Task CreateChatGroup_OwnerGetsGroupCreatedAndMembersJoinedGroup()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var ownerClient = await Node.ConnectAsync(owner);
        await using var memberClient = await Node.ConnectAsync(member);

        var groupId = await _admin.CreateGroupAsync(new { groupname = "pushed", @public = true, owner, members = new[] { member } });

        await ownerClient.WaitForAsync("SystemMessage", Json.OfType("GroupCreated", groupId));
        await memberClient.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        await memberClient.WaitForAsync("GroupEvent", Json.OfType("MembersJoined", groupId));
    }

    [Theory]
    [InlineData("""{"groupname": "g", "owner": "o"}""", "public")]
    [InlineData("""{"public": true, "owner": "o"}""", "groupname")]
    [InlineData("""{"groupname": "g", "public": true}""", "owner")]
    [InlineData("""{"groupname": "g", "public": true, "owner": "o", "maxusers": 0}""", "maxusers")]
    [InlineData("""{"groupname": "g", "public": true, "owner": "o", "maxusers": "many"}""", "maxusers")]
    [InlineData("""{"groupname": "a/b", "public": true, "owner": "o"}""", "groupname")]
    [InlineData("""{"groupname": "g", "public": true, "owner": "o", "desc": "x", "description": "y"}""", "desc")]
    [InlineData("""{"groupname": "g", "public": true, "owner": "o", "approval": true}""", "approval")]
    [InlineData("""{"groupname": "g", "public": true, "owner": "o", "type": "Channel"}""", "type")]
    [InlineData("""{"groupname": "g", "public": true, "owner": "o", "faceUrl": "ftp://x"}""", "faceUrl")]
    [InlineData("""[1, 2]""", "request")]
    public async Task CreateChatGroup_BadField_InvalidArgumentNamingIt(string body, string field)
    {
        var description = (await _admin.PostAsync("/chatgroups", body)).Fails(ErrorCode.InvalidArgument);

        Assert.Contains(field, description);
    }

    [Fact]
    public async Task CreateChatGroup_MoreThan100Members_InvalidArgument()
    {
        var members = Enumerable.Range(0, 101).Select(i => $"u{i}").ToArray();

        var description = (await _admin.PostAsync("/chatgroups", new { groupname = "big", @public = true, owner = "o", members })).Fails(ErrorCode.InvalidArgument);

        Assert.Contains("members", description);
    }

    [Fact]
    public async Task GetChatGroups_SeveralIds_ListInOrderAsked()
    {
        var a = await _admin.CreateGroupAsync(new { groupname = "a", @public = true, owner = Unique("o") });
        var b = await _admin.CreateGroupAsync(new { groupname = "b", @public = false, owner = Unique("o") });

        var data = (await _admin.GetAsync($"/chatgroups/{RestClient.Escape(b)},{RestClient.Escape(a)}")).Ok();

        Assert.Equal(JsonValueKind.Array, data.ValueKind);
        Assert.Equal([b, a], data.EnumerateArray().Select(g => g.Str("id")).ToArray());
    }

    [Fact]
    public async Task GetChatGroups_OneMissing_GroupNotFoundNamingIt()
    {
        var a = await _admin.CreateGroupAsync(new { groupname = "a", @public = true, owner = Unique("o") });

        var description = (await _admin.GetAsync($"/chatgroups/{RestClient.Escape(a)},missing-one")).Fails(ErrorCode.GroupNotFound);

        Assert.Contains("missing-one", description);
        Assert.DoesNotContain(a, description);
    }

    [Fact]
    public async Task GetChatGroups_Unlimited_MaxusersNull()
    {
        var groupId = await _admin.CreateGroupAsync(new { groupname = "av", type = "AVChatRoom", owner = Unique("o") });

        Assert.Equal(JsonValueKind.Null, (await DetailsAsync(groupId)).GetProperty("maxusers").ValueKind);
    }

    [Theory]
    [InlineData("Private", "membersonly", true)]
    [InlineData("Private", "membersonly", false)]
    [InlineData("AVChatRoom", "allowinvites", true)]
    [InlineData("BChatRoom", "allowinvites", false)]
    public async Task CreateChatGroup_SettingFixedByType_IgnoredWhileHubOptionRefused(string type, string field, bool value)
    {
        var owner = Unique("o");
        await using var hub = await Node.ConnectAsync(owner);
        var body = new Dictionary<string, object?> { ["groupname"] = "fixed", ["type"] = type, ["owner"] = owner, [field] = value };

        var groupId = await _admin.CreateGroupAsync(body);

        var g = await DetailsAsync(groupId);
        Assert.Equal(type == "Private" ? "DisableApply" : "FreeAccess", g.Str("applyJoinOption"));
        Assert.Equal(type == "Private" ? "Anyone" : "Disabled", g.Str("inviteOption"));
        // The hub's explicit option for the fixed setting is still refused.
        var option = field == "membersonly"
            ? new Dictionary<string, object?> { ["applyJoinOption"] = value ? "NeedPermission" : "FreeAccess" }
            : new Dictionary<string, object?> { ["inviteOption"] = value ? "Anyone" : "AdminsOnly" };
        option["type"] = type;
        option["name"] = "fixed";
        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => hub.InvokeAsync("CreateGroup", option));
    }

    [Theory]
    [InlineData("Private", "membersonly", true)]
    [InlineData("AVChatRoom", "allowinvites", true)]
    [InlineData("BChatRoom", "allowinvites", false)]
    public async Task ModifyChatGroup_SettingFixedByType_IgnoredWhileHubOptionRefused(string type, string field, bool value)
    {
        var owner = Unique("o");
        await using var hub = await Node.ConnectAsync(owner);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "fixed", type, owner });
        var before = await DetailsAsync(groupId);

        var data = (await _admin.PutAsync(PathOf(groupId), new Dictionary<string, object?> { [field] = value, ["custom"] = "c2" })).Ok();

        Assert.True(data.Bool(field));
        var g = await DetailsAsync(groupId);
        Assert.Equal((before.Str("applyJoinOption"), before.Str("inviteOption")), (g.Str("applyJoinOption"), g.Str("inviteOption")));
        Assert.Equal(("c2", before.Int("version") + 1), (g.Str("custom"), g.Int("version")));
        var option = field == "membersonly"
            ? new Dictionary<string, object?> { ["groupId"] = groupId, ["applyJoinOption"] = "NeedPermission" }
            : new Dictionary<string, object?> { ["groupId"] = groupId, ["inviteOption"] = value ? "Anyone" : "AdminsOnly" };
        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => hub.InvokeAsync("UpdateGroupProfile", option));
    }

    [Fact]
    public async Task ModifyChatGroup_Fields_TruePerFieldAndProfileChangedInHubNames()
    {
        var owner = Unique("o");
        await using var ownerClient = await Node.ConnectAsync(owner);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "before", @public = true, owner });

        var data = (await _admin.PutAsync(PathOf(groupId), new
        {
            groupname = "after", description = "d2", maxusers = 500, membersonly = false, allowinvites = true,
            invite_need_confirm = true, custom = "c2", notification = "n2",
        })).Ok();

        Assert.Equal(
            new[] { "allowinvites", "custom", "description", "groupname", "invite_need_confirm", "maxusers", "membersonly", "notification" },
            data.EnumerateObject().Select(p => p.Name).Order().ToArray());
        Assert.All(data.EnumerateObject(), p => Assert.True(p.Value.GetBoolean()));
        var evt = (await ownerClient.WaitForAsync("GroupEvent", Json.OfType("ProfileChanged", groupId)))[0];
        var changes = evt.GetProperty("data").GetProperty("changes");
        Assert.Equal("after", changes.Str("name"));
        Assert.Equal("d2", changes.Str("introduction"));
        Assert.Equal(500, changes.Int("maxMembers"));
        Assert.Equal("FreeAccess", changes.Str("applyJoinOption"));
        Assert.Equal("Anyone", changes.Str("inviteOption"));
        var g = await DetailsAsync(groupId);
        Assert.Equal(("after", "d2", 500, 2), (g.Str("name"), g.Str("description"), g.Int("maxusers"), g.Int("version")));
    }

    [Theory]
    [InlineData("""{"groupname": "x", "owner": "someone"}""", "owner")]
    [InlineData("""{"desc": "x"}""", "desc")]
    [InlineData("""{}""", "request")]
    [InlineData("""{"maxusers": -1}""", "maxusers")]
    [InlineData("""{"groupname": ""}""", "groupname")]
    public async Task ModifyChatGroup_BadOrUnknownField_InvalidArgumentAndUnchanged(string body, string field)
    {
        var groupId = await _admin.CreateGroupAsync(new { groupname = "keep", @public = true, owner = Unique("o") });

        var description = (await _admin.PutAsync(PathOf(groupId), body)).Fails(ErrorCode.InvalidArgument);

        Assert.Contains(field, description);
        var g = await DetailsAsync(groupId);
        Assert.Equal(("keep", 1), (g.Str("name"), g.Int("version")));
    }

    [Fact]
    public async Task ModifyChatGroup_BChatRoom_AppAdminMay()
    {
        var groupId = await _admin.CreateGroupAsync(new { groupname = "b", type = "BChatRoom", owner = Unique("o") });

        (await _admin.PutAsync(PathOf(groupId), new { groupname = "renamed" })).Ok();

        Assert.Equal("renamed", (await DetailsAsync(groupId)).Str("name"));
    }

    [Fact]
    public async Task ModifyChatGroup_MissingGroup_GroupNotFound()
    {
        (await _admin.PutAsync("/chatgroups/nope", new { groupname = "x" })).Fails(ErrorCode.GroupNotFound);
    }

    [Fact]
    public async Task DissolveChatGroup_Live_SuccessAndMembersToldThenGone()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var memberClient = await Node.ConnectAsync(member);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "bye", @public = false, owner, members = new[] { member } });

        var data = (await _admin.DeleteAsync(PathOf(groupId))).Ok();

        Assert.True(data.Bool("success"));
        Assert.Equal(groupId, data.Str("groupid"));
        await memberClient.WaitForAsync("SystemMessage", Json.OfType("GroupDissolved", groupId));
        (await _admin.GetAsync(PathOf(groupId))).Fails(ErrorCode.GroupNotFound);
        (await _admin.DeleteAsync(PathOf(groupId))).Fails(ErrorCode.GroupNotFound);
    }

    [Fact]
    public async Task DisableChatGroup_ThenEnable_MembersToldAndCommandsFollow()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var ownerClient = await Node.ConnectAsync(owner);
        await using var memberClient = await Node.ConnectAsync(member);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "dis", @public = true, owner, members = new[] { member } });

        Assert.True((await _admin.PostAsync($"{PathOf(groupId)}/disable")).Ok().Bool("disabled"));

        foreach (var client in new[] { ownerClient, memberClient })
            await client.WaitForAsync("SystemMessage", Json.OfType("GroupDisabled", groupId));
        var g = await DetailsAsync(groupId);
        Assert.True(g.Bool("disabled"));
        Assert.Equal(2, g.Int("version"));
        // A disabled group refuses its members' commands but serves reads and the app admin.
        await Expect.HubError(ErrorCode.GroupDisabled, () => ownerClient.InvokeAsync("UpdateGroupProfile", new { groupId, name = "by owner" }));
        Assert.Equal(groupId, (await ownerClient.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Str("groupId"));
        (await _admin.PutAsync(PathOf(groupId), new { groupname = "by admin" })).Ok();

        Assert.False((await _admin.PostAsync($"{PathOf(groupId)}/enable")).Ok().Bool("disabled"));

        await memberClient.WaitForAsync("SystemMessage", Json.OfType("GroupEnabled", groupId));
        await ownerClient.InvokeAsync("UpdateGroupProfile", new { groupId, name = "by owner" });
        Assert.False((await DetailsAsync(groupId)).Bool("disabled"));
    }

    [Fact]
    public async Task DisableChatGroup_Twice_SecondChangesNothing()
    {
        var groupId = await _admin.CreateGroupAsync(new { groupname = "dis2", @public = true, owner = Unique("o") });

        (await _admin.PostAsync($"{PathOf(groupId)}/disable")).Ok();
        Assert.True((await _admin.PostAsync($"{PathOf(groupId)}/disable")).Ok().Bool("disabled"));

        Assert.Equal(2, (await DetailsAsync(groupId)).Int("version"));
    }

    [Fact]
    public async Task DisableChatGroup_MissingGroup_GroupNotFound()
    {
        (await _admin.PostAsync("/chatgroups/nope/disable")).Fails(ErrorCode.GroupNotFound);
        (await _admin.PostAsync("/chatgroups/nope/enable")).Fails(ErrorCode.GroupNotFound);
    }

    [Fact]
    public async Task TransferChatGroup_ToMember_NewOwnerTold()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var memberClient = await Node.ConnectAsync(member);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "tr", @public = true, owner, members = new[] { member } });

        Assert.True((await _admin.PutAsync($"{PathOf(groupId)}/owner", new { newowner = member })).Ok().Bool("newowner"));

        await memberClient.WaitForAsync("SystemMessage", Json.OfType("OwnershipTransferred", groupId));
        Assert.Equal(member, (await DetailsAsync(groupId)).Str("owner"));
    }

    [Theory]
    [InlineData("""{"newowner": "stranger"}""", ErrorCode.NotMember, "stranger")]
    [InlineData("""{"newowner": "bad id!"}""", ErrorCode.InvalidArgument, "newowner")]
    [InlineData("""{"newowner": "x", "keepadmin": true}""", ErrorCode.InvalidArgument, "keepadmin")]
    public async Task TransferChatGroup_BadTarget_Fails(string body, ErrorCode code, string mentioned)
    {
        var owner = Unique("o");
        var groupId = await _admin.CreateGroupAsync(new { groupname = "tr", @public = true, owner });

        Assert.Contains(mentioned, (await _admin.PutAsync($"{PathOf(groupId)}/owner", body)).Fails(code));
        Assert.Equal(owner, (await DetailsAsync(groupId)).Str("owner"));
    }

    [Fact]
    public async Task GetJoinedChatGroups_Paged_PagesInJoinOrder()
    {
        var user = Unique("u");
        var groups = new List<string>();
        for (var i = 0; i < 5; i++)
            groups.Add(await _admin.CreateGroupAsync(new { groupname = $"j{i}", @public = true, owner = Unique("o"), members = new[] { user } }));

        var all = await _admin.GetAsync($"/users/{user}/joined_chatgroups");
        var page2 = await _admin.GetAsync($"/users/{user}/joined_chatgroups?pagesize=2&pagenum=2");
        var page3 = await _admin.GetAsync($"/users/{user}/joined_chatgroups?pagesize=2&pagenum=3");

        Assert.Equal(groups, all.Ok().EnumerateArray().Select(g => g.Str("groupid")));
        Assert.Equal(5, all.Body.Int("count"));
        Assert.Equal(groups.Skip(2).Take(2), page2.Ok().EnumerateArray().Select(g => g.Str("groupid")));
        Assert.Equal(2, page2.Body.Int("count"));
        Assert.Equal([groups[4]], page3.Ok().EnumerateArray().Select(g => g.Str("groupid")));
        var first = all.Data[0];
        Assert.Equal(("j0", "Member", "Public", 2), (first.Str("groupname"), first.Str("role"), first.Str("type"), first.Int("affiliations")));
    }

    [Theory]
    [InlineData("?pagesize=0")]
    [InlineData("?pagesize=1001")]
    [InlineData("?pagenum=0")]
    [InlineData("?pagesize=abc")]
    public async Task GetJoinedChatGroups_PageOutOfRange_InvalidArgument(string query)
    {
        var description = (await _admin.GetAsync($"/users/u1/joined_chatgroups{query}")).Fails(ErrorCode.InvalidArgument);

        Assert.Contains(query[1..query.IndexOf('=')], description);
    }

    [Fact]
    public async Task GetJoinedChatGroups_BadUserId_InvalidArgument()
    {
        (await _admin.GetAsync("/users/bad%20user/joined_chatgroups")).Fails(ErrorCode.InvalidArgument);
    }

    public void Dispose() => _admin.Dispose();
}
