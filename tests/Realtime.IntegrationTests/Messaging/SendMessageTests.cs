using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.IntegrationTests.Membership;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Messaging;

/// <summary>SendMessage (SPEC §2 send row, §3 body limits, §4): stored and delivered as a Message group event.</summary>
public sealed class SendMessageTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    [Fact]
    public async Task SendMessage_Member_EveryMemberGetsMessageEvent()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        var sent = await c["m"].InvokeAsync("SendMessage", new { groupId, text = "hello", payload = new { kind = "card", n = 1 }, clientMsgId = "c-1" });

        Assert.Equal(lastSeq + 1, sent.Long("seq"));
        foreach (var member in new[] { c["o"], c["m"] })
        {
            var evt = await member.WaitForAsync("GroupEvent", Json.OfType("Message", groupId));
            Assert.Equal(sent.Long("seq"), evt[0].Long("seq"));
            var data = evt.Data();
            Assert.Equal((sent.Str("messageId"), c.Id("m"), "hello", "c-1"), (data.Str("messageId"), data.Str("sender"), data.Str("text"), data.Str("clientMsgId")));
            Assert.Equal("card", data.GetProperty("payload").Str("kind"));
            Assert.Equal(sent.GetProperty("sentAt").GetDateTime(), evt[0].GetProperty("at").GetDateTime());
        }
    }

    [Fact]
    public async Task SendMessage_Sent_UpdatesLastMessageAtOfMemberAndGroup()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);

        var sentAt = (await c["m"].InvokeAsync("SendMessage", new { groupId, text = "hi" })).GetProperty("sentAt").GetDateTime();

        var m = (await c.MembersAsync(groupId)).GetProperty("members").EnumerateArray().Single(e => e.Str("userId") == c.Id("m"));
        Assert.Equal(sentAt, m.GetProperty("lastMessageAt").GetDateTime());
        var groupLast = await world.ScalarAsync<DateTime>("SELECT last_message_at FROM groups WHERE group_id = @groupId AND dissolved_at IS NULL", new { groupId });
        Assert.Equal(sentAt, DateTime.SpecifyKind(groupLast, DateTimeKind.Utc));
    }

    [Fact]
    public async Task SendMessage_SameClientMsgId_ReturnsFirstResultAndStoresOnce()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);

        var first = await c["o"].InvokeAsync("SendMessage", new { groupId, text = "once", clientMsgId = "dup-1" });
        var again = await c["o"].InvokeAsync("SendMessage", new { groupId, text = "once", clientMsgId = "dup-1" });

        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(first.Long("seq"), (await c.GroupInfoAsync(groupId)).Long("lastSeq"));
    }

    [Fact]
    public async Task SendMessage_Muted_FailsWithMemberMutedUntilUnmuted()
    {
        var c = await world.CastAsync("o", "a", "m");
        var groupId = await c.GroupAsync("Public", ["a", "m"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), role = "Admin" });
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), muteSeconds = 3600 });
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), muteSeconds = 3600 });
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        await Expect.HubError(ErrorCode.MemberMuted, () => c["m"].InvokeAsync("SendMessage", new { groupId, text = "let me talk" }));
        await Expect.HubError(ErrorCode.MemberMuted, () => c["a"].InvokeAsync("SendMessage", new { groupId, text = "me too" }));
        Assert.Equal(lastSeq, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));

        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), muteSeconds = 0 });
        Assert.Equal(lastSeq + 2, (await c["m"].InvokeAsync("SendMessage", new { groupId, text = "thanks" })).Long("seq"));
    }

    [Fact]
    public async Task SendMessage_MuteAll_OnlyOwnerAdminsAndAllowlistedSend()
    {
        var c = await world.CastAsync("o", "a", "m", "w");
        var groupId = await c.GroupAsync("Public", ["a", "m", "w"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("a"), role = "Admin" });
        Assert.Equal(c.IdsOf("w"), await c["a"].InvokeAsync<string[]>("AddToAllowlist", new { groupId, userIds = c.IdsOf("w") }));
        await c["o"].InvokeAsync("UpdateGroupProfile", new { groupId, muteAll = true });

        await Expect.HubError(ErrorCode.MemberMuted, () => c["m"].InvokeAsync("SendMessage", new { groupId, text = "m" }));
        foreach (var sender in new[] { "o", "a", "w" })
            await c[sender].InvokeAsync("SendMessage", new { groupId, text = sender });

        Assert.Empty(await c["o"].InvokeAsync<string[]>("RemoveFromAllowlist", new { groupId, userIds = c.IdsOf("w") }));
        await Expect.HubError(ErrorCode.MemberMuted, () => c["w"].InvokeAsync("SendMessage", new { groupId, text = "w again" }));
    }

    [Fact]
    public async Task SendMessage_DisabledGroup_FailsWithGroupDisabledButReadsWork()
    {
        var c = await world.CastAsync("o", "m", "x");
        var groupId = await c.GroupAsync("Public", ["m"]);
        await world.SetDisabledAsync(groupId, true);
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        await Expect.HubError(ErrorCode.GroupDisabled, () => c["m"].InvokeAsync("SendMessage", new { groupId, text = "anyone?" }));
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["o"].InvokeAsync("InviteMembers", new { groupId, userIds = c.IdsOf("x") }));
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["x"].InvokeAsync("ApplyToJoin", new { groupId }));
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["o"].InvokeAsync("RemoveMembers", new { groupId, userIds = c.IdsOf("m") }));
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["m"].InvokeAsync("QuitGroup", groupId));
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("m"), muteSeconds = 60 }));
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["o"].InvokeAsync("AddToBlocklist", new { groupId, userIds = c.IdsOf("x") }));

        Assert.Equal(2, (await c["m"].InvokeAsync("GetMembers", new { groupId })).Int("total"));
        Assert.Empty(await c["o"].InvokeAsync<string[]>("GetBlocklist", new { groupId }));
        Assert.Equal(lastSeq, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));

        await world.SetDisabledAsync(groupId, false);
        await c["m"].InvokeAsync("SendMessage", new { groupId, text = "back" });
    }

    [Fact]
    public async Task SendMessage_BChatRoomMember_FailsWithPermissionDenied()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = (await c["o"].InvokeAsync("CreateGroup", new { type = "BChatRoom", name = "broadcast" })).Str("groupId");
        await c["m"].InvokeAsync("ApplyToJoin", new { groupId });

        await Expect.HubError(ErrorCode.PermissionDenied, () => c["m"].InvokeAsync("SendMessage", new { groupId, text = "can I?" }));

        await c["o"].InvokeAsync("SendMessage", new { groupId, text = "announcement" });
        Assert.Equal("announcement", (await c["m"].WaitForAsync("GroupEvent", Json.OfType("Message", groupId))).Data().Str("text"));
    }

    [Fact]
    public async Task SendMessage_TextOf4000CodePoints_PassesAnd4001Fails()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SendMessage", new { groupId, text = new string('t', 4001) }));
        Assert.Contains("text", message);
        Assert.Equal(lastSeq, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));

        await c["o"].InvokeAsync("SendMessage", new { groupId, text = new string('t', 4000) });
        await c["o"].InvokeAsync("SendMessage", new { groupId, text = string.Concat(Enumerable.Repeat("😀", 4000)) });
        Assert.Equal(lastSeq + 2, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));
    }

    [Fact]
    public async Task SendMessage_PayloadOf8KiB_PassesAndOneByteMoreFails()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var lastSeq = (await c.GroupInfoAsync(groupId)).Long("lastSeq");
        // A JSON string of n ASCII chars is n + 2 bytes compact.
        var exact = new string('p', 8 * 1024 - 2);

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SendMessage", new { groupId, payload = exact + "p" }));
        Assert.Contains("payload", message);
        Assert.Equal(lastSeq, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));

        await c["o"].InvokeAsync("SendMessage", new { groupId, payload = exact });
        Assert.Equal(lastSeq + 1, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));
    }

    [Fact]
    public async Task SendMessage_NoTextNorPayload_FailsWithInvalidArgument()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);

        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SendMessage", new { groupId }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SendMessage", new { groupId, text = "" }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["o"].InvokeAsync("SendMessage", new { groupId, text = "x", clientMsgId = new string('c', 65) }));

        Assert.Equal(0, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));
        var payloadOnly = await c["o"].InvokeAsync("SendMessage", new { groupId, payload = JsonDocument.Parse("[1,2]").RootElement });
        Assert.Equal(1, payloadOnly.Long("seq"));
    }
}
