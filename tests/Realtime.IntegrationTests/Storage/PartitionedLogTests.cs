using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Apps;
using Realtime.Server.Data;
using Realtime.Server.Operations;

namespace Realtime.IntegrationTests.Storage;

/// <summary>The log partitioned by day (migration 0007): converting an old database, and retention by partition.</summary>
public sealed class PartitionedLogTests
{
    private const int PartitionedFrom = 7;

    private static long[] Seqs(JsonElement items) => items.EnumerateArray().Select(i => i.Long("seq")).ToArray();

    private static async Task<List<string>> RowsAsync(TestDatabase database, string table, string key)
    {
        await using var c = await database.OpenAsync();
        return (await c.QueryAsync<string>($"SELECT row_to_json(t)::text FROM (SELECT * FROM {table} ORDER BY {key}) t")).ToList();
    }

    [Fact]
    public async Task Migrate_OldLayoutWithRowsTwoNodesAtOnce_AppliedOnceEveryRowAndSeqKept()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using (var c = await database.OpenAsync())
        {
            // The database as the previous release left it: migrations up to 0006, in its journal.
            await c.ExecuteAsync("CREATE TABLE schema_journal (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
            foreach (var (version, name, sql) in Migrator.Scripts.Where(s => s.Version < PartitionedFrom))
            {
                await c.ExecuteAsync(sql);
                await c.ExecuteAsync("INSERT INTO schema_journal (version, name) VALUES (@version, @name)", new { version, name });
            }
            // A group with 3000 events over the last five days and a member's 500 system messages.
            await c.ExecuteAsync("""
                INSERT INTO apps (app_id) VALUES ('app1');
                INSERT INTO users (app_id, user_id, last_seq) VALUES ('app1', 'old', 500);
                INSERT INTO groups (app_id, group_id, type, name, owner_id, apply_join_option, invite_option, created_at, last_modified, member_count, last_seq)
                VALUES ('app1', 'old-group', 'Public', 'old', 'old', 'NeedPermission', 'AdminsOnly', now() - interval '6 days', now(), 1, 3000);
                INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq)
                SELECT gid, 'app1', 'old', 'Owner', now() - interval '6 days', 0 FROM groups;
                INSERT INTO member_windows (gid, app_id, user_id, from_seq) SELECT gid, 'app1', 'old', 0 FROM groups;
                INSERT INTO group_events (gid, seq, id, type, actor, at, data)
                SELECT g.gid, s, gen_random_uuid(), 'Message', 'old', now() - interval '5 days' + s * interval '2 minutes',
                       jsonb_build_object('messageId', gen_random_uuid(), 'sender', 'old', 'text', 'm' || s)
                FROM groups g, generate_series(1, 3000) s;
                INSERT INTO system_messages (app_id, user_id, seq, id, type, group_id, actor, at, data)
                SELECT 'app1', 'old', s, gen_random_uuid(), 'Muted', 'old-group', 'old', now() - interval '5 days' + s * interval '10 minutes', '{}'
                FROM generate_series(1, 500) s;
                """);
        }
        var events = await RowsAsync(database, "group_events", "gid, seq");
        var messages = await RowsAsync(database, "system_messages", "app_id, user_id, seq");
        var today = DateTime.UtcNow.Date;

        var nodes = await Task.WhenAll(new[] { "node-a", "node-b" }.Select(id => RealtimeNode.StartAsync(database.ConnectionString, id)))
            .WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            await using var c = await database.OpenAsync();
            Assert.Equal(1, await c.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_journal WHERE version = @PartitionedFrom", new { PartitionedFrom }));
            Assert.Equal(["p", "p"], await c.QueryAsync<string>(
                "SELECT relkind::text FROM pg_class WHERE relname IN ('group_events', 'system_messages') ORDER BY relname"));
            Assert.Equal(events, await RowsAsync(database, "group_events", "gid, seq"));
            Assert.Equal(messages, await RowsAsync(database, "system_messages", "app_id, user_id, seq"));
            // The old rows are in the legacy partitions, and the days ahead have theirs.
            var partitions = await nodes[0].Services.GetRequiredService<LogPartitions>().ListAsync();
            Assert.Equal(3000, await c.ExecuteScalarAsync<long>("SELECT count(*) FROM group_events_legacy"));
            var lastDay = today.AddDays(nodes[0].Services.GetRequiredService<IOptions<RealtimeOptions>>().Value.LogPartitionsAhead);
            foreach (var table in new[] { "group_events", "system_messages" })
                Assert.Contains(partitions, p => p.Table == table && p.From <= lastDay && p.To > lastDay);

            // Read back through a node, and the log goes on from the last seq.
            await using var old = await nodes[1].ConnectAsync("old");
            await old.InvokeAsync("SendMessage", new { groupId = "old-group", text = "after" });
            var all = new List<long>();
            long next = 0;
            for (var page = 0; page < 10; page++)
            {
                var g = (await old.InvokeAsync("Sync", new { systemSince = 500, groups = new Dictionary<string, long> { ["old-group"] = next }, limit = 1000 }))
                    .GetProperty("groups").GetProperty("old-group");
                all.AddRange(Seqs(g.GetProperty("items")));
                next = g.Long("next");
                if (!g.Bool("hasMore")) break;
            }
            Assert.Equal(Enumerable.Range(1, 3001).Select(i => (long)i), all);
            var system = (await old.InvokeAsync("Sync", new { systemSince = 0, limit = 1000 })).GetProperty("system");
            Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), Seqs(system.GetProperty("items")));
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Retention_PartitionDropped_TooOldExactlyBeforeItsLastSeq()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString);
        await using var o = await node.ConnectAsync("owner");
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "r", members = new[] { "bob" } })).Str("groupId");
        for (var i = 2; i <= 6; i++) await o.InvokeAsync("SendMessage", new { groupId, text = $"m{i}" });
        // Seqs 1-3 as written on the last minutes of one day, 4-6 on the first of the next: two
        // daily partitions ahead, one boundary between seq 3 and seq 4.
        var day = DateTime.UtcNow.Date.AddDays(3);
        Assert.Equal(4, await node.Services.GetRequiredService<LogPartitions>().EnsureAsync(day, day.AddDays(1)));
        await using (var c = await database.OpenAsync())
        {
            await c.ExecuteAsync("""
                UPDATE group_events SET at = @boundary + (seq - 4) * interval '1 minute'
                WHERE gid = (SELECT gid FROM groups WHERE group_id = @groupId)
                """, new { boundary = day.AddDays(1), groupId });
            Assert.Equal([$"group_events_p{day:yyyyMMdd}", $"group_events_p{day.AddDays(1):yyyyMMdd}"], await c.QueryAsync<string>(
                "SELECT DISTINCT tableoid::regclass::text FROM group_events ORDER BY 1"));
        }

        // A round as it would run once the first of the two days is older than the retention age.
        var later = new ShiftedClock(day.AddDays(1).AddMinutes(1) + TimeSpan.FromDays(7) - DateTime.UtcNow);
        var retention = ActivatorUtilities.CreateInstance<RetentionService>(node.Services, (TimeProvider)later);
        Assert.True(await retention.TrimAsync());

        var partitions = await node.Services.GetRequiredService<LogPartitions>().ListAsync();
        Assert.DoesNotContain(partitions, p => p.Name == $"group_events_p{day:yyyyMMdd}" || p.Name == "group_events_legacy");
        Assert.Contains(partitions, p => p.Name == $"group_events_p{day.AddDays(1):yyyyMMdd}");
        var before = (await o.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 2 } })).GetProperty("groups").GetProperty(groupId);
        var at = (await o.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 3 } })).GetProperty("groups").GetProperty(groupId);
        Assert.True(before.Bool("tooOld"));
        Assert.Equal([4L, 5L, 6L], Seqs(before.GetProperty("items")));
        Assert.False(at.Bool("tooOld"));
        Assert.Equal([4L, 5L, 6L], Seqs(at.GetProperty("items")));
        // The owner's system messages were in the legacy partition (today): gone, and said so.
        Assert.True((await o.InvokeAsync("Sync", new { systemSince = 0 })).GetProperty("system").Bool("tooOld"));
    }

    [Fact]
    public async Task Retention_CountRuleWithPartitions_DeletesOnlyOverTheCountByKey()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Realtime:RetentionEventsPerGroup"] = "4",
        });
        await using var o = await node.ConnectAsync("owner");
        var big = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "big", members = new[] { "bob" } })).Str("groupId");
        var small = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "small", members = new[] { "bob" } })).Str("groupId");
        for (var i = 2; i <= 10; i++) await o.InvokeAsync("SendMessage", new { groupId = big, text = $"m{i}" });
        await o.InvokeAsync("SendMessage", new { groupId = small, text = "one" });

        Assert.True(await node.Services.GetRequiredService<RetentionService>().TrimAsync());
        Assert.True(await node.Services.GetRequiredService<RetentionService>().TrimAsync());

        var groups = (await o.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [big] = 6, [small] = 0 } })).GetProperty("groups");
        Assert.Equal([7L, 8L, 9L, 10L], Seqs(groups.GetProperty(big).GetProperty("items")));
        Assert.False(groups.GetProperty(big).Bool("tooOld"));
        Assert.Equal([1L, 2L], Seqs(groups.GetProperty(small).GetProperty("items")));
        var old = (await o.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [big] = 5 } })).GetProperty("groups").GetProperty(big);
        Assert.True(old.Bool("tooOld"));
    }

    /// <summary>The real clock moved by a fixed amount: a retention round "days from now".</summary>
    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }
}
