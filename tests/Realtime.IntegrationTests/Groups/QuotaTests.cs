using Dapper;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Groups;

public sealed class QuotaTests
{
    [Fact]
    public async Task CreateGroup_FortyRacingAgainstDailyQuotaOf25_ExactlyTwentyFiveAndDissolveFreesOne()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            [$"Realtime:Apps:{RealtimeNode.App}:DailyGroupQuota"] = "25",
        });
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => node.ConnectAsync($"creator{i}")));
        try
        {
            var attempts = Enumerable.Range(0, 40).Select(async i =>
            {
                try
                {
                    return (await clients[i % 4].InvokeAsync("CreateGroup", new { type = "Public", name = $"g{i}" })).Str("groupId");
                }
                catch (HubErrorException e) when (e.Message.StartsWith($"[{ErrorCode.QuotaExceeded}]"))
                {
                    return null;
                }
            });
            var created = (await Task.WhenAll(attempts)).Where(id => id is not null).ToList();

            Assert.Equal(25, created.Count);
            await using var db = await database.OpenAsync();
            Assert.Equal(25, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM groups WHERE dissolved_at IS NULL"));
            await Expect.HubError(ErrorCode.QuotaExceeded, () => clients[0].InvokeAsync("CreateGroup", new { type = "Public", name = "one more" }));

            var owner = clients.Single(c => c.Received.Any(r => r.Target == "SystemMessage" && r.Args[0].Str("groupId") == created[0]));
            await owner.InvokeAsync("DissolveGroup", created[0]);

            await clients[1].InvokeAsync("CreateGroup", new { type = "Public", name = "freed slot" });
            await Expect.HubError(ErrorCode.QuotaExceeded, () => clients[2].InvokeAsync("CreateGroup", new { type = "Public", name = "still full" }));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task CreateGroup_TotalQuota_NeverOvershot()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            [$"Realtime:Apps:{RealtimeNode.App}:TotalGroupQuota"] = "5",
        });
        await using var a = await node.ConnectAsync("a");
        await using var b = await node.ConnectAsync("b");

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            try { await (i % 2 == 0 ? a : b).InvokeAsync("CreateGroup", new { type = "ChatRoom", name = $"t{i}" }); return true; }
            catch (HubErrorException e) when (e.Message.StartsWith("[QuotaExceeded]")) { return false; }
        }));

        Assert.Equal(5, results.Count(ok => ok));
        // Another app's quota is its own.
        await using var other = await node.ConnectAsync("a", app: RealtimeNode.OtherApp);
        await other.InvokeAsync("CreateGroup", new { type = "Public", name = "app2 is not counted" });
    }
}
