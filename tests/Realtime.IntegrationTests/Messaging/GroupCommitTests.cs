using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.IntegrationTests.Membership;
using Realtime.Server.Commands;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Messaging;

/// <summary>
/// Group commit (DESIGN "Throughput on one group"): commands to one group that arrive while its
/// transaction runs commit together, each checked and answered on its own, with every guarantee
/// of SPEC §5. To make a batch form on demand, a test holds the group's row lock in a transaction
/// of its own: the node's next command waits for it in the database, and the ones after it queue.
/// </summary>
public sealed class GroupCommitTests(MembershipWorld world) : IClassFixture<MembershipWorld>
{
    private GroupCommit Commit => world.Node.Services.GetRequiredService<GroupCommit>();

    [Fact]
    public async Task Batch_MixedOutcomes_EachAnsweredAloneSeqsGaplessOneTransaction()
    {
        var c = await world.CastAsync("o", "m1", "m2", "muted", "d");
        var groupId = await c.GroupAsync("Public", ["m1", "m2", "muted", "d"]);
        await c["o"].InvokeAsync("UpdateMember", new { groupId, userId = c.Id("muted"), muteSeconds = 3600 });
        var before = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        var metricsBefore = await TransactionMetricsAsync();
        Task<JsonElement> first, a, muted, b, dup, tooLong, dupAgain, last;
        await using (var hold = await HoldAsync(groupId))
        {
            first = c["o"].InvokeAsync("SendMessage", new { groupId, text = "first" });
            await hold.WaitForWaiterAsync();
            a = await QueueAsync(() => c["m1"].InvokeAsync("SendMessage", new { groupId, text = "a" }));
            muted = await QueueAsync(() => c["muted"].InvokeAsync("SendMessage", new { groupId, text = "x" }));
            b = await QueueAsync(() => c["m2"].InvokeAsync("SendMessage", new { groupId, text = "b" }));
            dup = await QueueAsync(() => c["d"].InvokeAsync("SendMessage", new { groupId, text = "c", clientMsgId = "dup" }));
            tooLong = await QueueAsync(() => c["m1"].InvokeAsync("SendMessage", new { groupId, text = new string('x', 100_000) }));
            dupAgain = await QueueAsync(() => c["d"].InvokeAsync("SendMessage", new { groupId, text = "c", clientMsgId = "dup" }));
            last = await QueueAsync(() => c["m2"].InvokeAsync("SendMessage", new { groupId, text = "d" }));
        }

        Assert.Equal(before + 1, (await first).Long("seq"));
        Assert.Equal(before + 2, (await a).Long("seq"));
        await Expect.HubError(ErrorCode.MemberMuted, () => muted);
        Assert.Equal(before + 3, (await b).Long("seq"));
        Assert.Equal(before + 4, (await dup).Long("seq"));
        await Expect.HubError(ErrorCode.InvalidArgument, () => tooLong);
        Assert.Equal((await dup).GetRawText(), (await dupAgain).GetRawText());
        Assert.Equal(before + 5, (await last).Long("seq"));
        Assert.Equal(before + 5, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));
        // A transaction's commands share its clock: two transactions wrote these events.
        Assert.Equal(2, await world.ScalarAsync<long>("""
            SELECT count(DISTINCT e.at) FROM group_events e JOIN groups g USING (gid)
            WHERE g.group_id = @groupId AND g.dissolved_at IS NULL AND e.seq > @before
            """, new { groupId, before }));

        // The first command ran alone; the seven queued behind it ran in one transaction.
        var metricsAfter = await TransactionMetricsAsync();
        Assert.Equal((2, 8, 1), (metricsAfter.Count - metricsBefore.Count, metricsAfter.Sum - metricsBefore.Sum, metricsAfter.Alone - metricsBefore.Alone));

        var texts = new List<string>();
        for (var seq = before + 1; seq <= before + 5; seq++)
        {
            var s = seq;
            var evt = await c["muted"].WaitForAsync("GroupEvent", args => args[0].Str("groupId") == groupId && args[0].Long("seq") == s);
            texts.Add(evt.Data().Str("text"));
        }
        Assert.Equal(["first", "a", "b", "c", "d"], texts);
    }

    [Fact]
    public async Task JoinBurst_OneTransaction_OneMembersJoinedCapacityAndBlocklistDecidedInOrder()
    {
        var c = await world.CastAsync("o", "a1", "a2", "blocked", "a3", "a4", "a5");
        var groupId = await c.GroupAsync("ChatRoom", [], new { applyJoinOption = "FreeAccess", maxMembers = 4 });
        await c["o"].InvokeAsync("AddToBlocklist", new { groupId, userIds = c.IdsOf("blocked") });

        var applicants = new[] { "a1", "a2", "blocked", "a3", "a4", "a5" };
        var answers = new Dictionary<string, Task<JsonElement>>();
        Task<JsonElement> first;
        await using (var hold = await HoldAsync(groupId))
        {
            first = c["o"].InvokeAsync("SendMessage", new { groupId, text = "first" });
            await hold.WaitForWaiterAsync();
            foreach (var name in applicants)
                answers[name] = await QueueAsync(() => c[name].InvokeAsync("ApplyToJoin", new { groupId }));
        }

        var firstSeq = (await first).Long("seq");
        foreach (var name in new[] { "a1", "a2", "a3" }) Assert.Equal("Joined", (await answers[name]).Str("result"));
        await Expect.HubError(ErrorCode.Blocked, () => answers["blocked"]);
        await Expect.HubError(ErrorCode.GroupFull, () => answers["a4"]);
        await Expect.HubError(ErrorCode.GroupFull, () => answers["a5"]);

        var joined = c.IdsOf("a1", "a2", "a3");
        var announced = await c["o"].WaitForAsync("GroupEvent", Push.Joined(groupId, joined));
        Assert.Equal(firstSeq + 1, announced[0].Long("seq"));
        foreach (var name in new[] { "a1", "a2", "a3" })
        {
            var welcome = await c[name].WaitForAsync("SystemMessage", args => args[0].Str("type") == "JoinedGroup" && args[0].Str("groupId") == groupId);
            Assert.Equal(firstSeq, welcome.Data().Long("joinSeq"));
            await c[name].WaitForAsync("GroupEvent", Push.Joined(groupId, joined));
            var synced = await c[name].InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = firstSeq } });
            var items = synced.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal([firstSeq + 1], items.Select(i => i.Long("seq")));
        }
        Assert.Equal(4, (await c.GroupInfoAsync(groupId)).Int("memberCount"));
        Assert.Equal(firstSeq + 1, (await c.GroupInfoAsync(groupId)).Long("lastSeq"));

        var after = await c["o"].InvokeAsync("SendMessage", new { groupId, text = "welcome" });
        await c["a3"].WaitForAsync("GroupEvent", args => args[0].Str("groupId") == groupId && args[0].Long("seq") == after.Long("seq"));
    }

    [Fact]
    public async Task PipelinedSends_OneTerminal_SequencedInTheOrderSent()
    {
        const int count = 1000;
        var c = await world.CastAsync("o", "m");
        var groupId = await c.GroupAsync("Public", ["m"]);
        var before = (await c.GroupInfoAsync(groupId)).Long("lastSeq");

        await using var raw = await RawHubSocket.ConnectAsync(world.Node.HubUrl, TestTokens.Issue(c.Id("o")), "pipelined");
        await raw.HandshakeAsync();
        var seqs = await PipelineAsync(raw, Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new { groupId, text = $"{i}" })));

        Assert.Equal(Enumerable.Range(1, count).Select(i => before + i), seqs);
        await c["m"].WaitForAsync("GroupEvent", args => args[0].Str("groupId") == groupId && args[0].Long("seq") == before + count);
        var received = c["m"].GroupEventsFrom(groupId, before + 1).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"{i}"), received.Select(e => e.GetProperty("data").Str("text")));
        Assert.Equal(seqs, received.Select(e => e.Long("seq")));
    }

    [Fact]
    public async Task PipelinedSends_TwoNodesFourTerminals_EachSeqOnceEachTerminalInOrder()
    {
        const int perTerminal = 100;
        await using var cluster = await Cluster.StartAsync();
        var users = Enumerable.Range(0, 4).Select(i => $"p{i}-{Guid.NewGuid():N}"[..20]).ToArray();
        await using var owner = await cluster[0].ConnectAsync(users[0], "watch");
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "pipes", members = users[1..] })).Str("groupId");
        await using var listener = await cluster[1].ConnectAsync(users[1], "watch");
        var before = (await owner.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Long("lastSeq");

        var sockets = new List<RawHubSocket>();
        for (var i = 0; i < users.Length; i++)
        {
            var raw = await RawHubSocket.ConnectAsync(cluster[i % 2].HubUrl, TestTokens.Issue(users[i]), "pipelined");
            await raw.HandshakeAsync();
            sockets.Add(raw);
        }
        try
        {
            var answers = await Task.WhenAll(sockets.Select((raw, i) => PipelineAsync(raw,
                Enumerable.Range(0, perTerminal).Select(n => JsonSerializer.Serialize(new { groupId, text = $"{i}:{n}" })))));

            foreach (var seqs in answers) Assert.Equal(seqs.Order(), seqs);
            var all = answers.SelectMany(s => s).Order().ToList();
            Assert.Equal(Enumerable.Range(1, users.Length * perTerminal).Select(i => before + i), all);
            foreach (var watcher in new[] { owner, listener })
            {
                var lastSeq = all[^1];
                var synced = await watcher.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = before }, limit = 1000 });
                var items = synced.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray().ToList();
                Assert.Equal(Enumerable.Range(1, (int)(lastSeq - before)).Select(i => before + i), items.Select(e => e.Long("seq")));
                foreach (var (seqs, i) in answers.Select((s, i) => (s, i)))
                    Assert.Equal(Enumerable.Range(0, perTerminal).Select(n => $"{i}:{n}"),
                        items.Where(e => seqs.Contains(e.Long("seq"))).Select(e => e.GetProperty("data").Str("text")));
            }
        }
        finally
        {
            foreach (var raw in sockets) await raw.DisposeAsync();
        }
    }

    /// <summary>realtime_commands_per_transaction as the node's /metrics shows it: transactions, commands, transactions of one command.</summary>
    private async Task<(long Count, long Sum, long Alone)> TransactionMetricsAsync()
    {
        using var admin = Admin.RestClient.Admin(world.Node);
        var (_, text) = await admin.GetRawAsync("/metrics");
        long Value(string series) => text.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).SingleOrDefault();
        return (Value("realtime_commands_per_transaction_count"), Value("realtime_commands_per_transaction_sum"),
            Value("realtime_commands_per_transaction_bucket{le=\"1\"}"));
    }

    /// <summary>Starts a command and waits until the node has queued it behind the group's running transaction.</summary>
    private async Task<Task<JsonElement>> QueueAsync(Func<Task<JsonElement>> command)
    {
        var waiting = Commit.Waiting;
        var task = command();
        await Expect.EventuallyAsync(() => Task.FromResult(task.IsCompleted || Commit.Waiting > waiting), "the command is queued");
        Assert.False(task.IsCompleted, "the command was answered while its group was locked");
        return task;
    }

    /// <summary>Writes every invocation in one WebSocket message and answers the seqs of their completions, in invocation order.</summary>
    private static async Task<long[]> PipelineAsync(RawHubSocket raw, IEnumerable<string> arguments)
    {
        var frames = new StringBuilder();
        var count = 0;
        foreach (var argument in arguments)
        {
            if (count > 0) frames.Append('\u001e');
            frames.Append($$"""{"type":1,"invocationId":"{{count}}","target":"SendMessage","arguments":[{{argument}}]}""");
            count++;
        }
        await raw.SendFrameAsync(frames.ToString());
        var seqs = new long?[count];
        for (var answered = 0; answered < count;)
        {
            var frame = await raw.NextFrameAsync();
            if (frame.GetProperty("type").GetInt32() != 3) continue;
            Assert.False(frame.TryGetProperty("error", out var error), $"invocation {frame.Str("invocationId")} failed: {error}");
            seqs[int.Parse(frame.Str("invocationId"), System.Globalization.CultureInfo.InvariantCulture)] = frame.GetProperty("result").Long("seq");
            answered++;
        }
        return seqs.Select(s => s!.Value).ToArray();
    }

    private async Task<GroupHold> HoldAsync(string groupId)
    {
        var connection = await world.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SELECT 1 FROM groups WHERE group_id = @groupId AND dissolved_at IS NULL FOR UPDATE", new { groupId }, tx);
        return new GroupHold(connection, tx);
    }

    /// <summary>The group's row lock held by the test; released (committed, nothing changed) on dispose.</summary>
    private sealed class GroupHold(NpgsqlConnection connection, NpgsqlTransaction tx) : IAsyncDisposable
    {
        /// <summary>Until a node's transaction waits for this lock.</summary>
        public Task WaitForWaiterAsync() => Expect.EventuallyAsync(async () =>
        {
            await using var c = new NpgsqlConnection(connection.ConnectionString);
            await c.OpenAsync();
            return await c.ExecuteScalarAsync<long>("""
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE NOT l.granted AND a.datname = current_database()
                """) > 0;
        }, "a node's transaction waits for the group's lock");

        public async ValueTask DisposeAsync()
        {
            await tx.CommitAsync();
            await tx.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
