using System.Text.Json;
using Dapper;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>
/// Read cursors at the largest Public group (6000 members): after 6000 MarkReads, every unread and
/// read count is exact, and each MarkRead wrote one member row (counted by PostgreSQL's statistics).
/// The members are added by SQL (6000 joins through the hub are not what is tested here); every
/// MarkRead is a real call of its member over a WebSocket of its own, many in flight at once.
/// </summary>
public sealed class BigGroupReadTests : IAsyncLifetime
{
    private const int Members = 6000;
    private const int Messages = 10;
    private readonly ServerFixture _server = new();

    private RealtimeNode Node => _server.Node;

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task MarkRead_6000MembersOfAPublicGroup_CountsExactOneRowWrittenPerCall()
    {
        var prefix = $"b{Guid.NewGuid():N}"[..10];
        var owner = prefix + "-owner";
        var users = Enumerable.Range(0, Members - 1).Select(i => $"{prefix}-{i:0000}").ToArray();
        await using var o = await Node.ConnectAsync(owner);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "big", maxMembers = Members })).Str("groupId");
        await using (var c = await _server.Database.OpenAsync())
        {
            var gid = await c.ExecuteScalarAsync<long>("SELECT gid FROM groups WHERE group_id = @groupId AND dissolved_at IS NULL", new { groupId });
            await c.ExecuteAsync("""
                INSERT INTO users (app_id, user_id, joined_count) SELECT @app, u, 1 FROM unnest(@users) u;
                INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq, last_read_seq, read_msgs)
                SELECT g.gid, @app, u, 'Member', now(), g.last_seq, g.last_seq, g.msg_count FROM groups g, unnest(@users) u WHERE g.gid = @gid;
                INSERT INTO member_windows (gid, app_id, user_id, from_seq) SELECT g.gid, @app, u, g.last_seq FROM groups g, unnest(@users) u WHERE g.gid = @gid;
                UPDATE groups SET member_count = member_count + cardinality(@users) WHERE gid = @gid;
                """, new { app = RealtimeNode.App, users, gid });
        }
        var seqs = new long[Messages];
        for (var k = 0; k < Messages; k++) seqs[k] = (await o.InvokeAsync("SendMessage", new { groupId, text = $"m{k}" })).Long("seq");
        Assert.Equal(Members, (await o.InvokeAsync("GetReadCount", new { groupId, seq = seqs[0] })).Int("unread") + 1);

        // The setup's writes reach the statistics first (the owner's insert, 5999 by SQL; one update per message).
        await Expect.EventuallyAsync(async () => await StatsAsync() == (Messages, Members), "the setup's writes are in the statistics");
        var before = await StatsAsync();
        // Member i reads up to message i % 10; the owner (who sent them all) to the last.
        var calls = users.Select((u, i) => (User: u, Seq: seqs[i % Messages], Unread: (long)(Messages - 1 - i % Messages)))
            .Append((User: owner, Seq: seqs[^1], Unread: 0L)).ToArray();
        var next = -1;
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, 48).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < calls.Length)
            {
                var call = calls[i];
                await using var socket = await RawHubSocket.ConnectAsync(Node.HubUrl, TestTokens.Issue(call.User), "reader");
                await socket.HandshakeAsync();
                var answer = await socket.InvokeRawAsync("MarkRead", JsonSerializer.Serialize(new object[] { new { groupId, seq = call.Seq } }));
                var ok = answer.TryGetProperty("result", out var r) && r.Long("lastReadSeq") == call.Seq && r.Long("unread") == call.Unread;
                if (!ok) lock (failures) failures.Add($"{call.User}: {answer.GetRawText()}");
            }
        }));
        Assert.Empty(failures);

        for (var k = 0; k < Messages; k++)
        {
            var readers = users.Where((_, i) => i % Messages >= k).Count() + 1;
            var count = await o.InvokeAsync("GetReadCount", new { groupId, seq = seqs[k] });
            Assert.Equal((readers, Members - readers), (count.Int("read"), count.Int("unread")));
        }
        var unreadOfK3 = await o.InvokeAsync("GetReadMembers", new { groupId, seq = seqs[3], read = false, limit = 500 });
        Assert.Equal(users.Where((_, i) => i % Messages < 3).Count(), unreadOfK3.Int("total"));
        Assert.Equal(users.Where((_, i) => i % Messages < 3).Order(StringComparer.Ordinal).Take(500),
            unreadOfK3.GetProperty("userIds").EnumerateArray().Select(e => e.GetString()!));
        foreach (var i in new[] { 0, 7, 5998 })
        {
            await using var member = await Node.ConnectAsync(users[i]);
            var item = (await member.InvokeAsync("GetJoinedGroups", new { })).GetProperty("groups")[0];
            Assert.Equal((seqs[i % Messages], (long)(Messages - 1 - i % Messages)), (item.Long("lastReadSeq"), item.Long("unread")));
        }

        // One member row written per MarkRead (and nothing inserted there); the only other rows are
        // each call's ReadCursorMoved in the member's own log. Statistics reach the view when each
        // backend flushes them: waited for, not assumed.
        await Expect.EventuallyAsync(async () => (await StatsAsync()).MembersUpdated - before.MembersUpdated >= Members, "the statistics show the updates");
        var after = await StatsAsync();
        Assert.Equal((Members, 0L), (after.MembersUpdated - before.MembersUpdated, after.MembersInserted - before.MembersInserted));
        Assert.Equal(Members, await ScalarAsync("SELECT count(*) FROM system_messages WHERE type = 'ReadCursorMoved'"));
        Assert.Equal(Members, await ScalarAsync("SELECT count(*) FROM group_members WHERE last_read_seq > join_seq"));
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var c = await _server.Database.OpenAsync();
        return await c.ExecuteScalarAsync<long>(sql);
    }

    private async Task<(long MembersUpdated, long MembersInserted)> StatsAsync()
    {
        await using var c = await _server.Database.OpenAsync();
        return await c.QuerySingleAsync<(long, long)>("SELECT n_tup_upd, n_tup_ins FROM pg_stat_user_tables WHERE relname = 'group_members'");
    }
}
