using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

/// <summary>The member routes of SPEC §6 over HTTP: list, add (silent or not), remove, admins, mute.</summary>
public sealed class AdminMemberTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly RestClient _admin = RestClient.Admin(fixture.Node);

    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static string PathOf(string groupId) => $"/chatgroups/{RestClient.Escape(groupId)}";

    private Task<string> NewGroupAsync(string owner, string type = "Public", params string[] members) =>
        _admin.CreateGroupAsync(new { groupname = "m", type, owner, members });

    private async Task<List<(string Role, string User)>> MembersAsync(string groupId, string query = "")
    {
        var data = (await _admin.GetAsync($"{PathOf(groupId)}/users{query}")).Ok();
        return data.EnumerateArray().Select(m => m.EnumerateObject().Single()).Select(p => (p.Name, p.Value.GetString()!)).ToList();
    }

    [Fact]
    public async Task GetChatGroupMembers_Default_OwnerThenMembersWithCount()
    {
        var (owner, m1) = (Unique("o"), Unique("m"));
        var groupId = await NewGroupAsync(owner, "Public", m1);

        var response = await _admin.GetAsync($"{PathOf(groupId)}/users");

        response.Ok();
        Assert.Equal(2, response.Body.Int("count"));
        Assert.Equal([("owner", owner), ("member", m1)], await MembersAsync(groupId));
    }

    [Fact]
    public async Task GetChatGroupMembers_PagesBeyondHubPageSize_AllMembersOnce()
    {
        var owner = Unique("o");
        var groupId = await NewGroupAsync(owner, "ChatRoom");
        var added = new List<string>();
        for (var batch = 0; batch < 6; batch++)
        {
            var users = Enumerable.Range(0, 100).Select(i => $"u{batch}x{i}").ToArray();
            (await _admin.PostAsync($"{PathOf(groupId)}/users", new { usernames = users, silent = true })).Ok();
            added.AddRange(users);
        }

        var all = await MembersAsync(groupId, "?pagesize=1000");
        var page2 = await MembersAsync(groupId, "?pagesize=250&pagenum=2");
        var last = await MembersAsync(groupId, "?pagesize=600&pagenum=2");

        Assert.Equal(601, all.Count);
        Assert.Equal(("owner", owner), all[0]);
        Assert.Equal(added.Order(), all.Skip(1).Select(m => m.User).Order());
        Assert.Equal(all.Skip(250).Take(250), page2);
        Assert.Equal([all[600]], last);
    }

    [Theory]
    [InlineData("?pagesize=0", "pagesize")]
    [InlineData("?pagesize=1001", "pagesize")]
    [InlineData("?pagenum=0", "pagenum")]
    public async Task GetChatGroupMembers_PageOutOfRange_InvalidArgument(string query, string field)
    {
        var groupId = await NewGroupAsync(Unique("o"));

        Assert.Contains(field, (await _admin.GetAsync($"{PathOf(groupId)}/users{query}")).Fails(ErrorCode.InvalidArgument));
    }

    [Fact]
    public async Task GetChatGroupMembers_MissingGroup_GroupNotFound()
    {
        (await _admin.GetAsync("/chatgroups/nope/users")).Fails(ErrorCode.GroupNotFound);
    }

    [Fact]
    public async Task AddChatGroupMembers_Mixed_PerUserResultsAndPushes()
    {
        var (owner, member, fresh) = (Unique("o"), Unique("m"), Unique("f"));
        await using var memberClient = await Node.ConnectAsync(member);
        await using var freshClient = await Node.ConnectAsync(fresh);
        // inviteNeedsConfirm binds members' invitations, not the app admin's direct add.
        var groupId = await _admin.CreateGroupAsync(new { groupname = "add", @public = true, owner, members = new[] { member }, invite_need_confirm = true });

        var data = (await _admin.PostAsync($"{PathOf(groupId)}/users", new { usernames = new[] { fresh, member } })).Ok();

        Assert.Equal(groupId, data.Str("groupid"));
        Assert.Equal([fresh], data.GetProperty("newmembers").EnumerateArray().Select(u => u.GetString()));
        var results = data.GetProperty("results").EnumerateArray().ToDictionary(r => r.Str("user"), r => r.Str("result"));
        Assert.Equal("Joined", results[fresh]);
        Assert.Equal("AlreadyMember", results[member]);
        await freshClient.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        await memberClient.WaitForAsync("GroupEvent", Json.OfType("MembersJoined", groupId));
        Assert.Contains(("member", fresh), await MembersAsync(groupId));
    }

    [Fact]
    public async Task AddChatGroupMembers_Silent_SystemMessagesButNoLiveGroupEvent()
    {
        var (owner, member, quiet, later) = (Unique("o"), Unique("m"), Unique("q"), Unique("l"));
        await using var memberClient = await Node.ConnectAsync(member);
        await using var quietClient = await Node.ConnectAsync(quiet);
        var groupId = await NewGroupAsync(owner, "Public", member);

        (await _admin.PostAsync($"{PathOf(groupId)}/users", new { usernames = new[] { quiet }, silent = true })).Ok();
        await quietClient.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        // A later, loud add is pushed; the silent one before it must not have been.
        (await _admin.PostAsync($"{PathOf(groupId)}/users", new { usernames = new[] { later } })).Ok();
        await memberClient.WaitForAsync("GroupEvent", args => args[0].Str("type") == "MembersJoined"
            && args[0].GetProperty("data").GetProperty("userIds").EnumerateArray().Any(u => u.GetString() == later));

        Expect.NoneReceived(memberClient, "GroupEvent", args => args[0].Str("type") == "MembersJoined"
            && args[0].GetProperty("data").GetProperty("userIds").EnumerateArray().Any(u => u.GetString() == quiet));
    }

    [Theory]
    [InlineData("""{"usernames": []}""", "usernames")]
    [InlineData("""{"usernames": ["ok", "bad id"]}""", "usernames")]
    [InlineData("""{"usernames": ["ok"], "silent": "yes"}""", "silent")]
    [InlineData("""{"usernames": ["ok"], "reason": "x"}""", "reason")]
    public async Task AddChatGroupMembers_BadBody_InvalidArgumentAndNobodyAdded(string body, string field)
    {
        var groupId = await NewGroupAsync(Unique("o"));

        Assert.Contains(field, (await _admin.PostAsync($"{PathOf(groupId)}/users", body)).Fails(ErrorCode.InvalidArgument));
        Assert.Single(await MembersAsync(groupId));
    }

    [Fact]
    public async Task AddChatGroupMembers_OverMaxusers_GroupFullAndNobodyAdded()
    {
        var groupId = await _admin.CreateGroupAsync(new { groupname = "small", @public = true, owner = Unique("o"), maxusers = 2 });

        (await _admin.PostAsync($"{PathOf(groupId)}/users", new { usernames = new[] { "x1", "x2" } })).Fails(ErrorCode.GroupFull);

        Assert.Single(await MembersAsync(groupId));
    }

    [Fact]
    public async Task RemoveChatGroupMembers_Members_RemovedAndKickedTold()
    {
        var (owner, m1, m2) = (Unique("o"), Unique("m"), Unique("m"));
        await using var m1Client = await Node.ConnectAsync(m1);
        var groupId = await NewGroupAsync(owner, "Public", m1, m2);

        var data = (await _admin.DeleteAsync($"{PathOf(groupId)}/users/{m1},{m2}")).Ok();

        Assert.Equal([m1, m2], data.EnumerateArray().Select(r => r.Str("user")));
        Assert.All(data.EnumerateArray(), r => Assert.True(r.Bool("result")));
        await m1Client.WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId));
        Assert.Equal([("owner", owner)], await MembersAsync(groupId));
    }

    [Fact]
    public async Task RemoveChatGroupMembers_Owner_PermissionDeniedAndNobodyRemoved()
    {
        var (owner, m1) = (Unique("o"), Unique("m"));
        var groupId = await NewGroupAsync(owner, "Public", m1);

        (await _admin.DeleteAsync($"{PathOf(groupId)}/users/{m1},{owner}")).Fails(ErrorCode.PermissionDenied);

        Assert.Equal(2, (await MembersAsync(groupId)).Count);
    }

    [Fact]
    public async Task RemoveChatGroupMembers_NonMember_NotMember()
    {
        var groupId = await NewGroupAsync(Unique("o"));

        (await _admin.DeleteAsync($"{PathOf(groupId)}/users/stranger")).Fails(ErrorCode.NotMember);
    }

    [Fact]
    public async Task SetChatGroupAdmin_ThenUnset_RoleFollowsAndMemberTold()
    {
        var (owner, m1) = (Unique("o"), Unique("m"));
        await using var m1Client = await Node.ConnectAsync(m1);
        var groupId = await NewGroupAsync(owner, "Public", m1);

        var set = (await _admin.PostAsync($"{PathOf(groupId)}/admin", new { newadmin = m1 })).Ok();

        Assert.Equal(("success", m1), (set.Str("result"), set.Str("newadmin")));
        await m1Client.WaitForAsync("SystemMessage", Json.OfType("RoleChanged", groupId));
        Assert.Contains(("admin", m1), await MembersAsync(groupId));

        var unset = (await _admin.DeleteAsync($"{PathOf(groupId)}/admin/{m1}")).Ok();

        Assert.Equal(m1, unset.Str("oldadmin"));
        Assert.Contains(("member", m1), await MembersAsync(groupId));
    }

    [Theory]
    [InlineData("""{"newadmin": "stranger"}""", ErrorCode.NotMember)]
    [InlineData("""{"newadmin": "bad id"}""", ErrorCode.InvalidArgument)]
    [InlineData("""{}""", ErrorCode.InvalidArgument)]
    public async Task SetChatGroupAdmin_BadTarget_Fails(string body, ErrorCode code)
    {
        var groupId = await NewGroupAsync(Unique("o"));

        (await _admin.PostAsync($"{PathOf(groupId)}/admin", body)).Fails(code);
    }

    [Fact]
    public async Task UnsetChatGroupAdmin_Owner_InvalidArgument()
    {
        var owner = Unique("o");
        var groupId = await NewGroupAsync(owner);

        (await _admin.DeleteAsync($"{PathOf(groupId)}/admin/{owner}")).Fails(ErrorCode.InvalidArgument);
        Assert.Equal(("owner", owner), (await MembersAsync(groupId))[0]);
    }

    [Fact]
    public async Task MuteChatGroupMembers_ThenUnmute_ExpiryInMsAndMutedUserCannotSend()
    {
        var (owner, m1) = (Unique("o"), Unique("m"));
        await using var m1Client = await Node.ConnectAsync(m1);
        var groupId = await NewGroupAsync(owner, "Public", m1);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var muted = (await _admin.PostAsync($"{PathOf(groupId)}/mute", new { usernames = new[] { m1 }, mute_duration = 60_000 })).Ok();

        var result = muted[0];
        Assert.Equal(m1, result.Str("user"));
        Assert.True(result.Bool("result"));
        Assert.InRange(result.Long("expire"), before + 59_000, before + 120_000);
        await m1Client.WaitForAsync("SystemMessage", Json.OfType("Muted", groupId));
        await Expect.HubError(ErrorCode.MemberMuted, () => m1Client.InvokeAsync("SendMessage", new { groupId, text = "hi" }));

        var unmuted = (await _admin.DeleteAsync($"{PathOf(groupId)}/mute/{m1}")).Ok();

        Assert.True(unmuted[0].Bool("result"));
        await m1Client.InvokeAsync("SendMessage", new { groupId, text = "hi again" });
    }

    [Fact]
    public async Task MuteChatGroupMembers_OwnerAndStranger_PerUserFailures()
    {
        var (owner, m1) = (Unique("o"), Unique("m"));
        var groupId = await NewGroupAsync(owner, "Public", m1);

        var data = (await _admin.PostAsync($"{PathOf(groupId)}/mute", new { usernames = new[] { m1, owner, "stranger" }, mute_duration = 1000 })).Ok();

        var byUser = data.EnumerateArray().ToDictionary(r => r.Str("user"));
        Assert.True(byUser[m1].Bool("result"));
        Assert.False(byUser[owner].Bool("result"));
        Assert.Equal("PermissionDenied", byUser[owner].Str("error"));
        Assert.Equal("NotMember", byUser["stranger"].Str("error"));
    }

    [Theory]
    [InlineData("""{"usernames": ["u"]}""", "mute_duration")]
    [InlineData("""{"usernames": ["u"], "mute_duration": 0}""", "mute_duration")]
    [InlineData("""{"usernames": ["u"], "mute_duration": 2592000001}""", "mute_duration")]
    [InlineData("""{"mute_duration": 1000}""", "usernames")]
    [InlineData("""{"usernames": ["u"], "mute_duration": 1000, "reason": "x"}""", "reason")]
    public async Task MuteChatGroupMembers_BadBody_InvalidArgument(string body, string field)
    {
        var groupId = await NewGroupAsync(Unique("o"));

        Assert.Contains(field, (await _admin.PostAsync($"{PathOf(groupId)}/mute", body)).Fails(ErrorCode.InvalidArgument));
    }

    [Fact]
    public async Task MemberRoutes_MissingGroup_GroupNotFound()
    {
        (await _admin.PostAsync("/chatgroups/nope/users", new { usernames = new[] { "u" } })).Fails(ErrorCode.GroupNotFound);
        (await _admin.DeleteAsync("/chatgroups/nope/users/u")).Fails(ErrorCode.GroupNotFound);
        (await _admin.PostAsync("/chatgroups/nope/admin", new { newadmin = "u" })).Fails(ErrorCode.GroupNotFound);
        (await _admin.DeleteAsync("/chatgroups/nope/admin/u")).Fails(ErrorCode.GroupNotFound);
        (await _admin.PostAsync("/chatgroups/nope/mute", new { usernames = new[] { "u" }, mute_duration = 1000 })).Fails(ErrorCode.GroupNotFound);
        (await _admin.DeleteAsync("/chatgroups/nope/mute/u")).Fails(ErrorCode.GroupNotFound);
    }

    public void Dispose() => _admin.Dispose();
}
