using Dapper;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Data;

namespace Realtime.IntegrationTests.Foundation;

public sealed class MigrationTests
{
    [Fact]
    public async Task StartAsync_TwoNodesAtOnceOnEmptyDatabase_BothServeAndJournalListsEachMigrationOnce()
    {
        await using var database = await TestDatabase.CreateAsync();

        var starts = new[] { "node-a", "node-b" }.Select(id => RealtimeNode.StartAsync(database.ConnectionString, id)).ToArray();
        var nodes = await Task.WhenAll(starts).WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var node in nodes)
                Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(new Uri(node.BaseUrl, "/readyz"))).StatusCode);

            await using var connection = await database.OpenAsync();
            var journal = (await connection.QueryAsync<int>("SELECT version FROM schema_journal ORDER BY version")).ToList();
            Assert.Equal(Migrator.Scripts.Select(s => s.Version).ToList(), journal);
            Assert.NotEmpty(journal);
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task MigrateAsync_SecondRun_AppliesNothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString);

        var applied = await node.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);

        Assert.Empty(applied);
    }
}
