using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Membership;

/// <summary>Invitations, applications and pending items (SPEC §4 InviteMembers, ApplyToJoin, PendingItem).</summary>
public sealed class JoinTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    [Fact]
    public async Task InviteMembers_MixedUsers_ReportsEachOutcome()
    {
        var c = await world.CastAsync("o", "m", "b", "x");
        var groupId = await c.GroupAsync("Private", ["m"]);
        await c["o"].InvokeAsync("AddToBlocklist", new { groupId, userIds = c.IdsOf("b") });

        var results = await c["m"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("m", "b", "x") });

        Assert.Equal(3, results.GetArrayLength());
        Assert.Equal((c.Id("m"), "AlreadyMember"), (results[0].Str("userId"), results[0].Str("result")));
        Assert.Equal((c.Id("b"), "Failed", "Blocked"), (results[1].Str("userId"), results[1].Str("result"), results[1].Str("code")));
        Assert.Equal((c.Id("x"), "Joined"), (results[2].Str("userId"), results[2].Str("result")));
        Assert.False(results[2].TryGetProperty("code", out _));
        Assert.Equal(3, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task InviteMembers_Joined_NewMemberGetsJoinedGroupAndEveryoneGetsMembersJoined()
    {
        var c = await world.CastAsync("o", "m", "x");
        var x2 = await world.AddAsync(c, "x", "d2");
        var groupId = await c.GroupAsync("Private", ["m"]);
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        await c["m"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });

        foreach (var terminal in new[] { c["x"], x2 })
        {
            var joined = await terminal.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
            Assert.Equal(lastSeq, joined.Data().Long("joinSeq"));
            Assert.Equal(c.Id("m"), joined.Data().Str("inviter"));
        }
        foreach (var member in new[] { c["o"], c["m"], c["x"], x2 })
        {
            var evt = await member.WaitForAsync("GroupEvent", Push.Joined(groupId, c.Id("x")));
            Assert.Equal(c.Id("m"), evt.Data().Str("inviter"));
            Assert.Equal(lastSeq + 1, evt[0].Long("seq"));
        }
    }

    [Fact]
    public async Task InviteMembers_BeyondMaxMembers_FailsWithGroupFullAndChangesNothing()
    {
        var c = await world.CastAsync("o", "m", "x", "y");
        var groupId = await c.GroupAsync("Private", ["m"], new { maxMembers = 3 });
        var before = await c.GroupInfoAsync(groupId);

        await Expect.HubError(ErrorCode.GroupFull, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x", "y") }));

        var after = await c.GroupInfoAsync(groupId);
        Assert.Equal((2, before.Long("lastSeq")), (after.Int("memberCount"), after.Long("lastSeq")));
        Assert.Equal(2, (await c.MembersAsync(groupId)).Int("total"));
        var one = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });
        Assert.Equal("Joined", one[0].Str("result"));
    }

    [Fact]
    public async Task InviteMembers_RepeatedRequestId_ReturnsFirstResultAndChangesNothing()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Private", []);
        var first = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x"), requestId = "inv-1" });
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        var again = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x"), requestId = "inv-1" });

        Assert.Equal("Joined", again[0].Str("result"));
        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(lastSeq, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));
    }

    [Fact]
    public async Task InviteMembers_MalformedUserId_FailsWholeCallWithInvalidArgument()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Private", []);

        var message = await Expect.HubError(ErrorCode.InvalidArgument,
            () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = new[] { c.Id("x"), "bad id!" } }));

        Assert.Contains("userIds", message);
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task InviteMembers_InviteOptionDisabled_FailsForEveryoneWithInviteNotAllowed()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", [], new { inviteOption = "Disabled" });

        await Expect.HubError(ErrorCode.InviteNotAllowed, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") }));

        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task InviteMembers_NeedsConfirm_InviteeAcceptsAndEveryoneIsTold()
    {
        var c = await world.CastAsync("o", "m", "x");
        var groupId = await c.GroupAsync("Private", ["m"], new { inviteNeedsConfirm = true });

        var results = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x"), message = "join us" });
        Assert.Equal("Invited", results[0].Str("result"));
        Assert.Equal(2, (await c.GroupInfoAsync(groupId)).Int("memberCount"));

        var received = await c["x"].WaitForAsync("SystemMessage", Json.OfType("InvitationReceived", groupId));
        var pendingId = received.Data().Str("pendingId");
        Assert.Equal((c.Id("o"), "join us"), (received.Data().Str("inviter"), received.Data().Str("message")));
        var seenByInvitee = Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { }));
        Assert.Equal((pendingId, "Invitation", "Pending", c.Id("o"), c.Id("x")),
            (seenByInvitee.PendingId, seenByInvitee.Type, seenByInvitee.Status, seenByInvitee.FromUser, seenByInvitee.ToUser));
        Assert.Contains(await c["o"].InvokeAsync<PendingView[]>("GetPendingItems", new { }), p => p.PendingId == pendingId);
        Assert.DoesNotContain(await c["m"].InvokeAsync<PendingView[]>("GetPendingItems", new { }), p => p.PendingId == pendingId);

        // Only the invitee handles an invitation: a stranger does not even see it.
        await Expect.HubError(ErrorCode.PendingNotFound, () => c["m"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));
        await Expect.HubError(ErrorCode.PermissionDenied, () => c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));

        var handled = await c["x"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true });
        Assert.Equal(("Approved", c.Id("x")), (handled.Str("status"), handled.Str("handledBy")));

        var answer = await c["o"].WaitForAsync("SystemMessage", Json.OfType("InvitationHandled", groupId));
        Assert.Equal((pendingId, true, c.Id("x")), (answer.Data().Str("pendingId"), answer.Data().Bool("approved"), answer.Data().Str("invitee")));
        var joined = await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        Assert.Equal(c.Id("o"), joined.Data().Str("inviter"));
        foreach (var member in new[] { c["o"], c["m"], c["x"] })
            await member.WaitForAsync("GroupEvent", Push.Joined(groupId, c.Id("x")));
        Assert.Equal(3, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task InviteMembers_NeedsConfirmWithOpenInvitation_ReusesItWithoutNewItemOrMessage()
    {
        var c = await world.CastAsync("o", "m", "x", "y");
        var groupId = await c.GroupAsync("Private", ["m"], new { inviteNeedsConfirm = true });
        await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });
        var first = await c["x"].WaitForAsync("SystemMessage", Json.OfType("InvitationReceived", groupId));

        // Invited again, by the same inviter and by another member, alongside a fresh invitee.
        var again = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });
        var byOther = await c["m"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x", "y") });

        Assert.Equal("Invited", again[0].Str("result"));
        Assert.Equal(("Invited", "Invited"), (byOther[0].Str("result"), byOther[1].Str("result")));
        await c["y"].WaitForAsync("SystemMessage", Json.OfType("InvitationReceived", groupId));
        var open = Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { }));
        Assert.Equal((first.Data().Str("pendingId"), "Pending"), (open.PendingId, open.Status));

        // x's next system message follows the first invitation's seq directly: no second InvitationReceived.
        await c["x"].InvokeAsync("HandlePendingItem", new { pendingId = open.PendingId, approve = true });
        var joined = await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        Assert.Equal(first[0].Long("seq") + 1, joined[0].Long("seq"));
        Assert.Single(c["x"].Received, r => r.Target == "SystemMessage" && Json.OfType("InvitationReceived", groupId)(r.Args));
    }

    [Fact]
    public async Task HandlePendingItem_InvitationRejected_InviterToldWithReasonAndNobodyJoins()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Private", [], new { inviteNeedsConfirm = true });
        await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });
        var pendingId = (await c["x"].WaitForAsync("SystemMessage", Json.OfType("InvitationReceived", groupId))).Data().Str("pendingId");

        var handled = await c["x"].InvokeAsync("HandlePendingItem", new { pendingId, approve = false, reason = "busy" });

        Assert.Equal(("Rejected", "busy"), (handled.Str("status"), handled.Str("reason")));
        var answer = await c["o"].WaitForAsync("SystemMessage", Json.OfType("InvitationHandled", groupId));
        Assert.Equal((false, "busy"), (answer.Data().Bool("approved"), answer.Data().Str("reason")));
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        await Expect.HubError(ErrorCode.PendingAlreadyHandled, () => c["x"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));
    }

    [Fact]
    public async Task ApplyToJoin_NeedPermission_StaffGetRequestAndApplicantGetsAnswer()
    {
        var c = await world.CastAsync("o", "a", "m", "x");
        var groupId = await c.GroupAsync("Public", ["a", "m"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), role = "Admin" });

        var applied = await c["x"].InvokeAsync("ApplyToJoin", new { groupId, message = "hi" });

        Assert.Equal("Pending", applied.Str("result"));
        var pendingId = applied.Str("pendingId");
        foreach (var staff in new[] { c["o"], c["a"] })
        {
            var request = await staff.WaitForAsync("SystemMessage", Json.OfType("JoinRequestReceived", groupId));
            Assert.Equal((pendingId, c.Id("x"), "hi"), (request.Data().Str("pendingId"), request.Data().Str("applicant"), request.Data().Str("message")));
        }
        // Applying again answers the same open request.
        Assert.Equal(pendingId, (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId"));
        Assert.DoesNotContain(await c["m"].InvokeAsync<PendingView[]>("GetPendingItems", new { }), p => p.PendingId == pendingId);
        await Expect.HubError(ErrorCode.PendingNotFound, () => c["m"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));
        await Expect.HubError(ErrorCode.PermissionDenied, () => c["x"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));
        Assert.Contains(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { }), p => p.PendingId == pendingId && p.Status == "Pending");

        await c["a"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true });

        var answer = await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinRequestHandled", groupId));
        Assert.Equal((pendingId, true), (answer.Data().Str("pendingId"), answer.Data().Bool("approved")));
        await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        foreach (var member in new[] { c["o"], c["a"], c["m"], c["x"] })
            await member.WaitForAsync("GroupEvent", Push.Joined(groupId, c.Id("x")));
        Assert.Equal(4, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task HandlePendingItem_JoinRequestRejected_ApplicantToldWithReason()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");

        await c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = false, reason = "full of friends" });

        var answer = await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinRequestHandled", groupId));
        Assert.Equal((false, "full of friends"), (answer.Data().Bool("approved"), answer.Data().Str("reason")));
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
    }

    [Fact]
    public async Task HandlePendingItem_AfterSevenDays_IsExpiredAndCannotBeHandled()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");
        var item = Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { }));
        Assert.Equal(TimeSpan.FromDays(7), item.ExpiresAt - item.CreatedAt);
        await world.ExecuteAsync("UPDATE pending_items SET expires_at = now() - interval '1 second' WHERE pending_id = @id", new { id = Guid.Parse(pendingId) });

        await Expect.HubError(ErrorCode.PendingAlreadyHandled, () => c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));

        Assert.Equal("Expired", Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { })).Status);
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        // A new application is possible once the old one expired.
        Assert.NotEqual(pendingId, (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId"));
    }

    [Fact]
    public async Task ApplyToJoin_ThenInvitedDirectly_RequestIsCanceled()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");

        await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });

        Assert.Equal("Canceled", Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { }), p => p.PendingId == pendingId).Status);
        await Expect.HubError(ErrorCode.PendingAlreadyHandled, () => c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));
    }

    [Fact]
    public async Task DissolveGroup_WithOpenRequest_CancelsIt()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");

        await c["o"].InvokeAsync("DissolveGroup", groupId);

        Assert.Equal("Canceled", Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { })).Status);
    }

    [Fact]
    public async Task ApplyToJoin_FreeAccess_JoinsAtOnce()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("ChatRoom", []);

        var applied = await c["x"].InvokeAsync("ApplyToJoin", new { groupId });

        Assert.Equal("Joined", applied.Str("result"));
        Assert.False(applied.TryGetProperty("pendingId", out _));
        var joined = await c["x"].WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId));
        Assert.False(joined.Data().TryGetProperty("inviter", out _));
        Assert.Equal(c.IdsOf("x"), (await c["o"].WaitForAsync("GroupEvent", Json.OfType("MembersJoined", groupId))).UserIds());
    }

    [Fact]
    public async Task ApplyToJoin_DisableApply_FailsWithApplyNotAllowed()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", [], new { applyJoinOption = "DisableApply" });

        await Expect.HubError(ErrorCode.ApplyNotAllowed, () => c["x"].InvokeAsync("ApplyToJoin", new { groupId }));

        Assert.Empty(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { }));
    }

    [Fact]
    public async Task ApplyToJoin_AfterBlocklisted_FailsWithBlockedUntilRemovedFromList()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("ChatRoom", []);
        await c["x"].InvokeAsync("ApplyToJoin", new { groupId });

        var list = await c["o"].InvokeAsync<string[]>("AddToBlocklist", new { groupId, userIds = c.IdsOf("x") });

        Assert.Equal(c.IdsOf("x"), list);
        Assert.Equal(EmptyObject, (await c["x"].WaitForAsync("SystemMessage", Json.OfType("Kicked", groupId))).Data().GetRawText());
        Assert.Equal(1, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        await Expect.HubError(ErrorCode.Blocked, () => c["x"].InvokeAsync("ApplyToJoin", new { groupId }));
        var invited = await c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") });
        Assert.Equal(("Failed", "Blocked"), (invited[0].Str("result"), invited[0].Str("code")));

        Assert.Empty(await c["o"].InvokeAsync<string[]>("RemoveFromBlocklist", new { groupId, userIds = c.IdsOf("x") }));
        Assert.Equal("Joined", (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("result"));
    }

    [Fact]
    public async Task AddToBlocklist_OpenJoinRequest_IsCanceled()
    {
        var c = await world.CastAsync("o", "x");
        var groupId = await c.GroupAsync("Public", []);
        var pendingId = (await c["x"].InvokeAsync("ApplyToJoin", new { groupId })).Str("pendingId");

        await c["o"].InvokeAsync("AddToBlocklist", new { groupId, userIds = c.IdsOf("x") });

        await Expect.HubError(ErrorCode.PendingAlreadyHandled, () => c["o"].InvokeAsync("HandlePendingItem", new { pendingId, approve = true }));
        Assert.Equal("Canceled", Assert.Single(await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { })).Status);
    }

    [Fact]
    public async Task GetPendingItems_Paged_ReturnsNewestFirstWithoutOverlap()
    {
        var c = await world.CastAsync("o", "x");
        var groups = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var groupId = await c.GroupAsync("Public", []);
            await c["x"].InvokeAsync("ApplyToJoin", new { groupId });
            groups.Add(groupId);
        }

        var first = await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { limit = 2 });
        var rest = await c["x"].InvokeAsync<PendingView[]>("GetPendingItems", new { limit = 2, before = first[^1].PendingId });

        Assert.Equal(Enumerable.Reverse(groups), first.Concat(rest).Select(p => p.GroupId));
    }

    private const string EmptyObject = "{}";

    private sealed record PendingView(
        string PendingId, string Type, string GroupId, string FromUser, string? ToUser, string Message, string Status,
        DateTime CreatedAt, DateTime ExpiresAt, string? HandledBy, string? Reason);
}
