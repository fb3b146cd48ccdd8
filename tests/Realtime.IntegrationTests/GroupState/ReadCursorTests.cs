using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.IntegrationTests.Membership;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>Read cursors (SPEC §9): forward only, clamped, ReadCursorMoved on every terminal, unread and read counts exact.</summary>
public sealed class ReadCursorTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    private static async Task<JsonElement> JoinedItem(TestTerminal t, string groupId) =>
        (await t.InvokeAsync("GetJoinedGroups", new { limit = 1000 })).GetProperty("groups").EnumerateArray().Single(g => g.Str("groupId") == groupId);

    [Fact]
    public async Task MarkRead_ForwardOnlyClamped_UnreadExcludesOwnMessagesAndNonMessages()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var joinSeq = (await JoinedItem(c["m"], groupId)).Long("lastReadSeq");
        Assert.Equal(0, (await JoinedItem(c["m"], groupId)).Long("unread"));

        var s1 = (await c["o"].InvokeAsync("SendMessage", new { groupId, text = "1" })).Long("seq");
        var own = (await c["m"].InvokeAsync("SendMessage", new { groupId, text = "mine" })).Long("seq");
        await c["o"].InvokeAsync("SetGroupAttributes", new { groupId, set = new { k = "v" } });
        var s3 = (await c["o"].InvokeAsync("SendMessage", new { groupId, text = "3" })).Long("seq");
        var item = await JoinedItem(c["m"], groupId);
        Assert.Equal(2, item.Long("unread"));
        Assert.True(item.Long("lastReadSeq") == joinSeq);

        var r1 = await c["m"].InvokeAsync("MarkRead", new { groupId, seq = s1 });
        Assert.Equal((s1, 1L), (r1.Long("lastReadSeq"), r1.Long("unread")));
        // Behind the cursor: nothing changes.
        var back = await c["m"].InvokeAsync("MarkRead", new { groupId, seq = joinSeq });
        Assert.Equal((s1, 1L), (back.Long("lastReadSeq"), back.Long("unread")));
        // Past the group's lastSeq: clamped to it.
        var end = await c["m"].InvokeAsync("MarkRead", new { groupId, seq = s3 + 1000 });
        Assert.Equal((s3, 0L), (end.Long("lastReadSeq"), end.Long("unread")));
        Assert.Equal(0, (await JoinedItem(c["m"], groupId)).Long("unread"));

        // The owner marks read before m's own message: m's message is unread for the owner.
        var o = await c["o"].InvokeAsync("MarkRead", new { groupId, seq = own - 1 });
        Assert.Equal(1, o.Long("unread"));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["m"].InvokeAsync("MarkRead", new { groupId, seq = -1 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["m"].InvokeAsync("MarkRead", new { groupId }));
    }

    [Fact]
    public async Task MarkRead_MovesCursor_ReadCursorMovedOnEveryTerminalOfTheMemberOnly()
    {
        var c = await world.CastAsync("o", "m");
        var second = await world.AddAsync(c, "m", "d2");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var seq = (await c["o"].InvokeAsync("SendMessage", new { groupId, text = "x" })).Long("seq");
        await c["m"].InvokeAsync("MarkRead", new { groupId, seq });
        bool Moved(JsonElement[] a) => a[0].Str("type") == "ReadCursorMoved" && a[0].Str("groupId") == groupId
                                       && a[0].GetProperty("data").Long("seq") == seq && a[0].GetProperty("data").Str("groupId") == groupId;
        await c["m"].WaitForAsync("SystemMessage", Moved);
        await second.WaitForAsync("SystemMessage", Moved);
        // A repeat moves nothing and tells no one; the owner's later event proves its pushes have come.
        await c["m"].InvokeAsync("MarkRead", new { groupId, seq });
        var later = (await c["o"].InvokeAsync("SendMessage", new { groupId, text = "y" })).Long("seq");
        await c["m"].WaitForAsync("GroupEvent", a => a[0].Long("seq") == later && a[0].Str("groupId") == groupId);
        Assert.Single(c["m"].Received, r => r.Target == "SystemMessage" && Moved(r.Args));
        Expect.NoneReceived(c["o"], "SystemMessage", a => a[0].Str("type") == "ReadCursorMoved");
    }

    [Fact]
    public async Task GetReadCount_SenderCountsAsReadMembersListedOnEachSide()
    {
        var c = await world.CastAsync("o", "a", "b", "s", "out");
        var groupId = await c.GroupAsync("Public", ["a", "b", "s"]);
        var seq = (await c["s"].InvokeAsync("SendMessage", new { groupId, text = "hello" })).Long("seq");
        var count = await c["a"].InvokeAsync("GetReadCount", new { groupId, seq });
        Assert.Equal((1, 3), (count.Int("read"), count.Int("unread")));

        await c["a"].InvokeAsync("MarkRead", new { groupId, seq });
        await c["o"].InvokeAsync("MarkRead", new { groupId, seq = seq + 5 });
        count = await c["b"].InvokeAsync("GetReadCount", new { groupId, seq });
        Assert.Equal((3, 1), (count.Int("read"), count.Int("unread")));
        var read = await c["b"].InvokeAsync("GetReadMembers", new { groupId, seq, read = true });
        Assert.Equal(3, read.Int("total"));
        Assert.Equal(c.IdsOf("a", "o", "s").Order(StringComparer.Ordinal), read.GetProperty("userIds").EnumerateArray().Select(e => e.GetString()!));
        var unread = await c["b"].InvokeAsync("GetReadMembers", new { groupId, seq, read = false, limit = 1 });
        Assert.Equal(1, unread.Int("total"));
        Assert.Equal([c.Id("b")], unread.GetProperty("userIds").EnumerateArray().Select(e => e.GetString()!));

        // A member who leaves no longer counts; not a message (or no such seq) is an argument error.
        await c["b"].InvokeAsync("QuitGroup", groupId);
        count = await c["a"].InvokeAsync("GetReadCount", new { groupId, seq });
        Assert.Equal((3, 0), (count.Int("read"), count.Int("unread")));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["a"].InvokeAsync("GetReadCount", new { groupId, seq = 1 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["a"].InvokeAsync("GetReadCount", new { groupId, seq = seq + 100 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["a"].InvokeAsync("GetReadMembers", new { groupId, seq }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => c["a"].InvokeAsync("GetReadMembers", new { groupId, seq, read = true, limit = 501 }));
        await Expect.HubError(ErrorCode.NotMember, () => c["out"].InvokeAsync("GetReadCount", new { groupId, seq }));
        await Expect.HubError(ErrorCode.NotMember, () => c["out"].InvokeAsync("MarkRead", new { groupId, seq }));
    }

    [Fact]
    public async Task Unread_MessagesAndJoinsInOneBatch_JoinerCountsOnlyLaterMessages()
    {
        var c = await world.CastAsync("o", "j");
        var groupId = await c.GroupAsync("ChatRoom", [], new { applyJoinOption = "FreeAccess" });
        // Pipelined: the messages and the join may commit in one transaction (GroupCommit).
        var sends = Enumerable.Range(0, 5).Select(i => c["o"].InvokeAsync("SendMessage", new { groupId, text = $"{i}" })).ToList();
        var join = c["j"].InvokeAsync("ApplyToJoin", new { groupId });
        var after = Enumerable.Range(0, 3).Select(i => c["o"].InvokeAsync("SendMessage", new { groupId, text = $"after {i}" })).ToList();
        await Task.WhenAll(sends.Concat(after).Append(join));
        var item = await JoinedItem(c["j"], groupId);
        var expected = 0;
        foreach (var s in sends.Concat(after)) if ((await s).Long("seq") > item.Long("lastReadSeq")) expected++;
        Assert.Equal(expected, item.Long("unread"));
        Assert.Equal(expected, (await c["j"].InvokeAsync("MarkRead", new { groupId, seq = 0 })).Long("unread"));
    }

    [Fact]
    public async Task MarkRead_PipelinedWithOwnMessagesAndOthers_UnreadStaysExact()
    {
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);
        for (var round = 0; round < 5; round++)
        {
            // Sent at once, one terminal's calls keep their order and may share a transaction.
            var calls = new List<Task<JsonElement>>
            {
                c["o"].InvokeAsync("SendMessage", new { groupId, text = "o1" }),
                c["m"].InvokeAsync("SendMessage", new { groupId, text = "m1" }),
                c["m"].InvokeAsync("MarkRead", new { groupId, seq = long.MaxValue }),
                c["m"].InvokeAsync("SendMessage", new { groupId, text = "m2" }),
                c["o"].InvokeAsync("SendMessage", new { groupId, text = "o2" }),
                c["o"].InvokeAsync("MarkRead", new { groupId, seq = 1 }),
            };
            await Task.WhenAll(calls);
            var marked = await calls[2];
            // m's unread: o's messages after m's cursor (m's own never count).
            var o1 = (await calls[0]).Long("seq");
            var o2 = (await calls[4]).Long("seq");
            var expected = new[] { o1, o2 }.Count(seq => seq > marked.Long("lastReadSeq"));
            var item = await JoinedItem(c["m"], groupId);
            Assert.Equal(marked.Long("lastReadSeq"), item.Long("lastReadSeq"));
            Assert.Equal(expected, item.Long("unread"));
            Assert.Equal(expected, (await c["m"].InvokeAsync("MarkRead", new { groupId, seq = 0 })).Long("unread"));
            await c["m"].InvokeAsync("MarkRead", new { groupId, seq = long.MaxValue });
            Assert.Equal(0, (await JoinedItem(c["m"], groupId)).Long("unread"));
            // o never marked beyond the start in this round: every message of m is unread for o.
            var oItem = await JoinedItem(c["o"], groupId);
            Assert.Equal(await world.ScalarAsync<long>("""
                SELECT count(*) FROM group_events e JOIN groups g USING (gid)
                WHERE g.group_id = @groupId AND g.dissolved_at IS NULL AND e.type = 'Message' AND e.actor <> @o AND e.seq > @cursor
                """, new { groupId, o = c.Id("o"), cursor = oItem.Long("lastReadSeq") }), oItem.Long("unread"));
        }
    }

    [Fact]
    public async Task MarkRead_DisabledGroup_RefusedCountsStillRead()
    {
        var c = await world.CastAsync("o");
        var groupId = await c.GroupAsync("Public", []);
        var seq = (await c["o"].InvokeAsync("SendMessage", new { groupId, text = "x" })).Long("seq");
        await world.SetDisabledAsync(groupId, true);
        await Expect.HubError(ErrorCode.GroupDisabled, () => c["o"].InvokeAsync("MarkRead", new { groupId, seq }));
        Assert.Equal(1, (await c["o"].InvokeAsync("GetReadCount", new { groupId, seq })).Int("read"));
    }
}
