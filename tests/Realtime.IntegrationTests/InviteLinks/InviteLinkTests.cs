using System.Text.Json;
using Dapper;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.InviteLinks;

/// <summary>Invite links (SPEC §9) over real WebSockets: who creates, lists and revokes them, and every rule of a join by link.</summary>
public sealed class InviteLinkTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static Task<JsonElement> LinkAsync(TestTerminal t, string groupId, object? settings = null) =>
        t.InvokeAsync("CreateInviteLink", settings is null ? new { groupId } : Merge(new { groupId }, settings));

    private static JsonElement Merge(object a, object b)
    {
        var merged = JsonSerializer.SerializeToNode(a)!.AsObject();
        foreach (var (k, v) in JsonSerializer.SerializeToNode(b)!.AsObject()) merged[k] = v?.DeepClone();
        return JsonSerializer.SerializeToElement(merged);
    }

    private static Task<JsonElement> JoinAsync(TestTerminal t, string code, string? message = null) =>
        t.InvokeAsync("JoinByInviteLink", new { code, message });

    private async Task<JsonElement> GroupInfoAsync(TestTerminal member, string groupId) =>
        (await member.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0];

    [Fact]
    public async Task CreateInviteLink_Defaults_UnlimitedSevenDaysAndARandomCodeOfAtLeast128Bits()
    {
        var owner = Unique("o");
        await using var o = await Node.ConnectAsync(owner);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "links" })).Str("groupId");

        var link = await LinkAsync(o, groupId);
        var other = await LinkAsync(o, groupId);

        Assert.Matches("^[A-Za-z0-9_-]{22,64}$", link.Str("code"));
        Assert.NotEqual(link.Str("code"), other.Str("code"));
        Assert.Equal(groupId, link.Str("groupId"));
        Assert.Equal(owner, link.Str("createdBy"));
        Assert.Equal(JsonValueKind.Null, link.GetProperty("maxUses").ValueKind);
        Assert.Equal(0, link.Int("uses"));
        Assert.False(link.Bool("needsApproval"));
        Assert.False(link.Bool("revoked"));
        Assert.Equal(TimeSpan.FromDays(7), link.GetProperty("expiresAt").GetDateTime() - link.GetProperty("createdAt").GetDateTime());
    }

    [Fact]
    public async Task CreateInviteLink_WhoMay_ByInviteOptionOwnerAndAdminsAlways()
    {
        var (owner, admin, member, outsider) = (Unique("o"), Unique("a"), Unique("m"), Unique("x"));
        await using var o = await Node.ConnectAsync(owner);
        await using var a = await Node.ConnectAsync(admin);
        await using var m = await Node.ConnectAsync(member);
        await using var x = await Node.ConnectAsync(outsider);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "who", members = new[] { admin, member } })).Str("groupId");
        await o.InvokeAsync("UpdateMember", new { groupId, userId = admin, role = "Admin" });

        // Public defaults to AdminsOnly.
        await Expect.HubError(ErrorCode.InviteNotAllowed, () => LinkAsync(m, groupId));
        Assert.Equal(admin, (await LinkAsync(a, groupId)).Str("createdBy"));
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, inviteOption = "Anyone" });
        Assert.Equal(member, (await LinkAsync(m, groupId)).Str("createdBy"));
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, inviteOption = "Disabled" });
        await Expect.HubError(ErrorCode.InviteNotAllowed, () => LinkAsync(m, groupId));
        await LinkAsync(o, groupId);
        await LinkAsync(a, groupId);
        await Expect.HubError(ErrorCode.NotMember, () => LinkAsync(x, groupId));

        var priv = (await o.InvokeAsync("CreateGroup", new { type = "Private", name = "priv", members = new[] { member } })).Str("groupId");
        await LinkAsync(m, priv); // a Private group's inviteOption is Anyone
        await Expect.HubError(ErrorCode.GroupNotFound, () => LinkAsync(x, priv));
        var av = (await o.InvokeAsync("CreateGroup", new { type = "AVChatRoom", name = "av" })).Str("groupId");
        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => LinkAsync(o, av));
        var b = (await o.InvokeAsync("CreateGroup", new { type = "BChatRoom", name = "b" })).Str("groupId");
        await Expect.HubError(ErrorCode.UnsupportedForGroupType, () => LinkAsync(o, b));
    }

    [Theory]
    [InlineData("""{"maxUses":0}""", "maxUses")]
    [InlineData("""{"maxUses":100001}""", "maxUses")]
    [InlineData("""{"expiresInSeconds":59}""", "expiresInSeconds")]
    [InlineData("""{"expiresInSeconds":2592001}""", "expiresInSeconds")]
    [InlineData("""{"needsApproval":"yes"}""", "needsApproval")]
    public async Task CreateInviteLink_OutOfRange_InvalidArgumentNamingField(string settings, string field)
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "bounds" })).Str("groupId");

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => LinkAsync(o, groupId, JsonDocument.Parse(settings).RootElement));

        Assert.Contains(field, message);
        Assert.Empty((await o.InvokeAsync("GetInviteLinks", new { groupId })).EnumerateArray());
    }

    [Fact]
    public async Task CreateInviteLink_Bounds_Accepted()
    {
        await using var o = await Node.ConnectAsync(Unique("o"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "edges" })).Str("groupId");

        var low = await LinkAsync(o, groupId, new { maxUses = 1, expiresInSeconds = 60 });
        var high = await LinkAsync(o, groupId, new { maxUses = 100000, expiresInSeconds = 2592000, needsApproval = true });

        Assert.Equal(1, low.Int("maxUses"));
        Assert.Equal(TimeSpan.FromSeconds(60), low.GetProperty("expiresAt").GetDateTime() - low.GetProperty("createdAt").GetDateTime());
        Assert.Equal(100000, high.Int("maxUses"));
        Assert.Equal(TimeSpan.FromDays(30), high.GetProperty("expiresAt").GetDateTime() - high.GetProperty("createdAt").GetDateTime());
        Assert.True(high.Bool("needsApproval"));
    }

    [Fact]
    public async Task JoinByInviteLink_NeedPermissionAndPrivateGroups_JoinedWithTheCreatorAsInviter()
    {
        var (owner, admin, joiner, second) = (Unique("o"), Unique("a"), Unique("j"), Unique("k"));
        await using var o = await Node.ConnectAsync(owner);
        await using var a = await Node.ConnectAsync(admin);
        await using var j = await Node.ConnectAsync(joiner);
        await using var k = await Node.ConnectAsync(second);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "gate", members = new[] { admin } })).Str("groupId");
        await o.InvokeAsync("UpdateMember", new { groupId, userId = admin, role = "Admin" });
        var code = (await LinkAsync(a, groupId)).Str("code");

        var result = await JoinAsync(j, code);

        Assert.Equal("Joined", result.Str("result"));
        Assert.Equal(groupId, result.Str("groupId"));
        var joined = (await o.WaitForAsync("GroupEvent", a => a[0].Str("type") == "MembersJoined" && a[0].Str("groupId") == groupId
            && a[0].GetProperty("data").GetProperty("userIds")[0].GetString() == joiner))[0];
        Assert.Equal(admin, joined.GetProperty("data").Str("inviter"));
        var system = (await j.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId)))[0];
        Assert.Equal(admin, system.GetProperty("data").Str("inviter"));
        Assert.Equal(joined.Long("seq") - 1, system.GetProperty("data").Long("joinSeq"));
        Assert.Equal(1, (await o.InvokeAsync("GetInviteLinks", new { groupId }))[0].Int("uses"));
        // Members now: it reads the group and its events from its join on.
        Assert.Equal(3, (await GroupInfoAsync(j, groupId)).Int("memberCount"));

        // A Private group, which nobody may apply to: the link admits its holder all the same.
        var priv = (await o.InvokeAsync("CreateGroup", new { type = "Private", name = "hidden" })).Str("groupId");
        await Expect.HubError(ErrorCode.ApplyNotAllowed, () => k.InvokeAsync("ApplyToJoin", new { groupId = priv }));
        Assert.Equal("Joined", (await JoinAsync(k, (await LinkAsync(o, priv)).Str("code"))).Str("result"));
        Assert.Equal(2, (await GroupInfoAsync(k, priv)).Int("memberCount"));
    }

    [Fact]
    public async Task JoinByInviteLink_UnknownRevokedExpiredUsedUp_TheSameInviteLinkInvalid()
    {
        var owner = Unique("o");
        await using var o = await Node.ConnectAsync(owner);
        var users = new List<TestTerminal>();
        for (var i = 0; i < 5; i++) users.Add(await Node.ConnectAsync(Unique($"u{i}")));
        try
        {
            var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "dead" })).Str("groupId");
            var revoked = (await LinkAsync(o, groupId)).Str("code");
            await o.InvokeAsync("RevokeInviteLink", new { code = revoked });
            var expired = (await LinkAsync(o, groupId)).Str("code");
            await using (var db = await fixture.Database.OpenAsync())
                await db.ExecuteAsync("UPDATE invite_links SET expires_at = now() - interval '1 second' WHERE code = @expired", new { expired });
            var single = (await LinkAsync(o, groupId, new { maxUses = 1 })).Str("code");
            Assert.Equal("Joined", (await JoinAsync(users[0], single)).Str("result"));
            var dissolvedGroup = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "gone" })).Str("groupId");
            var ofDissolved = (await LinkAsync(o, dissolvedGroup)).Str("code");
            await o.InvokeAsync("DissolveGroup", dissolvedGroup);

            var answers = new List<string>();
            foreach (var (code, user) in new[] { ("NoSuchCodeAtAll0123456789", users[1]), (revoked, users[1]), (expired, users[2]), (single, users[3]), (ofDissolved, users[4]) })
                answers.Add(await Expect.HubError(ErrorCode.InviteLinkInvalid, () => JoinAsync(user, code)));

            Assert.Single(answers.Distinct());
            Assert.DoesNotContain(groupId, answers[0]);
            Assert.Equal(2, (await GroupInfoAsync(o, groupId)).Int("memberCount"));
        }
        finally
        {
            foreach (var u in users) await u.DisposeAsync();
        }
    }

    [Fact]
    public async Task JoinByInviteLink_BlocklistedCapacityJoinedLimitAlreadyMemberDisabled_EachAnswered()
    {
        var (owner, blocked, member, late) = (Unique("o"), Unique("b"), Unique("m"), Unique("l"));
        await using var o = await Node.ConnectAsync(owner);
        await using var b = await Node.ConnectAsync(blocked);
        await using var m = await Node.ConnectAsync(member);
        await using var l = await Node.ConnectAsync(late);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "rules", maxMembers = 2 })).Str("groupId");
        await o.InvokeAsync("AddToBlocklist", new { groupId, userIds = new[] { blocked } });
        var code = (await LinkAsync(o, groupId)).Str("code");

        await Expect.HubError(ErrorCode.Blocked, () => JoinAsync(b, code));
        Assert.Equal("Joined", (await JoinAsync(m, code)).Str("result"));
        await Expect.HubError(ErrorCode.AlreadyMember, () => JoinAsync(m, code));
        await Expect.HubError(ErrorCode.GroupFull, () => JoinAsync(l, code));
        Assert.Equal(1, (await o.InvokeAsync("GetInviteLinks", new { groupId }))[0].Int("uses"));

        var open = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "off" })).Str("groupId");
        var openCode = (await LinkAsync(o, open)).Str("code");
        using var rest = RestClient.Admin(Node);
        (await rest.PostAsync($"/chatgroups/{Uri.EscapeDataString(open)}/disable")).Ok();
        await Expect.HubError(ErrorCode.GroupDisabled, () => JoinAsync(l, openCode));
    }

    [Fact]
    public async Task JoinByInviteLink_AtTheJoinedGroupLimit_JoinedGroupLimit()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Realtime:JoinedGroupLimit"] = "1",
        });
        await using var o = await node.ConnectAsync("owner");
        await using var o2 = await node.ConnectAsync("owner2");
        await using var u = await node.ConnectAsync("user");
        var first = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "one" })).Str("groupId");
        var second = (await o2.InvokeAsync("CreateGroup", new { type = "Public", name = "two" })).Str("groupId");
        Assert.Equal("Joined", (await JoinAsync(u, (await LinkAsync(o, first)).Str("code"))).Str("result"));

        var code = (await LinkAsync(o2, second)).Str("code");
        await Expect.HubError(ErrorCode.JoinedGroupLimit, () => JoinAsync(u, code));
        Assert.Equal(0, (await o2.InvokeAsync("GetInviteLinks", new { groupId = second }))[0].Int("uses"));
    }

    [Fact]
    public async Task JoinByInviteLink_NeedsApproval_AJoinRequestThatJoinsWithTheCreatorAsInviter()
    {
        var (owner, admin, member, joiner) = (Unique("o"), Unique("a"), Unique("m"), Unique("j"));
        await using var o = await Node.ConnectAsync(owner);
        await using var a = await Node.ConnectAsync(admin);
        await using var m = await Node.ConnectAsync(member);
        await using var j = await Node.ConnectAsync(joiner);
        var groupId = (await o.InvokeAsync("CreateGroup", new
        {
            type = "Public", name = "approve", members = new[] { admin, member }, inviteOption = "Anyone",
        })).Str("groupId");
        await o.InvokeAsync("UpdateMember", new { groupId, userId = admin, role = "Admin" });
        var code = (await LinkAsync(m, groupId, new { needsApproval = true, maxUses = 5 })).Str("code");

        var result = await JoinAsync(j, code, "let me in");
        var again = await JoinAsync(j, code);

        Assert.Equal("Pending", result.Str("result"));
        Assert.Equal(result.Str("pendingId"), again.Str("pendingId"));
        var request = (await a.WaitForAsync("SystemMessage", Json.OfType("JoinRequestReceived", groupId)))[0].GetProperty("data");
        Assert.Equal(joiner, request.Str("applicant"));
        Assert.Equal("let me in", request.Str("message"));
        Assert.Equal(member, request.Str("inviter"));
        Assert.Equal(1, (await o.InvokeAsync("GetInviteLinks", new { groupId }))[0].Int("uses"));
        Assert.Equal(3, (await GroupInfoAsync(o, groupId)).Int("memberCount"));

        await a.InvokeAsync("HandlePendingItem", new { pendingId = result.Str("pendingId"), approve = true });

        var joined = (await o.WaitForAsync("GroupEvent", a => a[0].Str("type") == "MembersJoined" && a[0].Str("groupId") == groupId
            && a[0].GetProperty("data").GetProperty("userIds")[0].GetString() == joiner))[0];
        Assert.Equal(member, joined.GetProperty("data").Str("inviter"));
        Assert.Equal(4, (await GroupInfoAsync(o, groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task RevokeAndGetInviteLinks_CreatorOwnerAdminsRevokeOthersSeeTheirOwn()
    {
        var (owner, admin, m1, m2, joiner) = (Unique("o"), Unique("a"), Unique("m"), Unique("n"), Unique("j"));
        await using var o = await Node.ConnectAsync(owner);
        await using var a = await Node.ConnectAsync(admin);
        await using var t1 = await Node.ConnectAsync(m1);
        await using var t2 = await Node.ConnectAsync(m2);
        await using var j = await Node.ConnectAsync(joiner);
        var groupId = (await o.InvokeAsync("CreateGroup", new
        {
            type = "Public", name = "revoke", members = new[] { admin, m1, m2 }, inviteOption = "Anyone",
        })).Str("groupId");
        await o.InvokeAsync("UpdateMember", new { groupId, userId = admin, role = "Admin" });
        var byM1 = (await LinkAsync(t1, groupId)).Str("code");
        var byM2 = (await LinkAsync(t2, groupId)).Str("code");
        var byOwner = (await LinkAsync(o, groupId)).Str("code");

        Assert.Equal([byOwner, byM2, byM1], (await o.InvokeAsync("GetInviteLinks", new { groupId })).EnumerateArray().Select(l => l.Str("code")));
        Assert.Equal(3, (await a.InvokeAsync("GetInviteLinks", new { groupId })).GetArrayLength());
        Assert.Equal([byM1], (await t1.InvokeAsync("GetInviteLinks", new { groupId })).EnumerateArray().Select(l => l.Str("code")));
        await Expect.HubError(ErrorCode.NotMember, () => j.InvokeAsync("GetInviteLinks", new { groupId }));

        await Expect.HubError(ErrorCode.PermissionDenied, () => t2.InvokeAsync("RevokeInviteLink", new { code = byM1 }));
        await Expect.HubError(ErrorCode.PermissionDenied, () => t1.InvokeAsync("RevokeInviteLink", new { code = byOwner }));
        await Expect.HubError(ErrorCode.NotMember, () => j.InvokeAsync("RevokeInviteLink", new { code = byOwner }));
        await Expect.HubError(ErrorCode.InviteLinkInvalid, () => o.InvokeAsync("RevokeInviteLink", new { code = "NoSuchCode" }));
        var revoked = await t1.InvokeAsync("RevokeInviteLink", new { code = byM1 });
        Assert.True(revoked.Bool("revoked"));
        Assert.True((await a.InvokeAsync("RevokeInviteLink", new { code = byM2 })).Bool("revoked"));
        // Revoking again changes nothing and answers the link.
        Assert.True((await o.InvokeAsync("RevokeInviteLink", new { code = byM1 })).Bool("revoked"));

        await Expect.HubError(ErrorCode.InviteLinkInvalid, () => JoinAsync(j, byM1));
        await Expect.HubError(ErrorCode.InviteLinkInvalid, () => JoinAsync(j, byM2));
        Assert.Equal("Joined", (await JoinAsync(j, byOwner)).Str("result"));
        Assert.Equal([false, true, true], (await o.InvokeAsync("GetInviteLinks", new { groupId })).EnumerateArray().Select(l => l.Bool("revoked")));
    }

    [Fact]
    public async Task JoinByInviteLink_CreatorNoLongerMayInvite_LinkStopsAdmitting()
    {
        var (owner, m1, m2, j1, j2) = (Unique("o"), Unique("m"), Unique("n"), Unique("j"), Unique("k"));
        await using var o = await Node.ConnectAsync(owner);
        await using var t1 = await Node.ConnectAsync(m1);
        await using var t2 = await Node.ConnectAsync(m2);
        await using var a1 = await Node.ConnectAsync(j1);
        await using var a2 = await Node.ConnectAsync(j2);
        var groupId = (await o.InvokeAsync("CreateGroup", new
        {
            type = "Public", name = "creator", members = new[] { m1, m2 }, inviteOption = "Anyone",
        })).Str("groupId");
        var kickedLink = (await LinkAsync(t1, groupId)).Str("code");
        var demotedLink = (await LinkAsync(t2, groupId)).Str("code");

        await o.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { m1 } });
        await Expect.HubError(ErrorCode.InviteLinkInvalid, () => JoinAsync(a1, kickedLink));
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, inviteOption = "AdminsOnly" });
        await Expect.HubError(ErrorCode.InviteLinkInvalid, () => JoinAsync(a2, demotedLink));
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, inviteOption = "Anyone" });
        Assert.Equal("Joined", (await JoinAsync(a2, demotedLink)).Str("result"));
    }

    [Fact]
    public async Task JoinByInviteLink_RepeatedRequestId_FirstAnswerAndOneUse()
    {
        var (owner, joiner) = (Unique("o"), Unique("j"));
        await using var o = await Node.ConnectAsync(owner);
        await using var j = await Node.ConnectAsync(joiner);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "rid" })).Str("groupId");
        var code = (await LinkAsync(o, groupId)).Str("code");

        var first = await j.InvokeAsync("JoinByInviteLink", new { code, requestId = "join-1" });
        var repeat = await j.InvokeAsync("JoinByInviteLink", new { code, requestId = "join-1" });

        Assert.Equal("Joined", first.Str("result"));
        Assert.Equal(first.GetRawText(), repeat.GetRawText());
        Assert.Equal(1, (await o.InvokeAsync("GetInviteLinks", new { groupId }))[0].Int("uses"));
    }

    [Theory]
    [InlineData("""{}""", "code")]
    [InlineData("""{"code":""}""", "code")]
    [InlineData("""{"code":"a b"}""", "code")]
    [InlineData("""{"code":5}""", "code")]
    [InlineData("""{"code":"abc","message":5}""", "message")]
    [InlineData("""{"code":"abc","groupId":"g"}""", "groupId")]
    public async Task JoinByInviteLink_BadRequest_InvalidArgumentNamingField(string request, string field)
    {
        await using var c = await Node.ConnectAsync(Unique("u"));

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("JoinByInviteLink", JsonDocument.Parse(request).RootElement));

        Assert.Contains(field, message);
    }
}
