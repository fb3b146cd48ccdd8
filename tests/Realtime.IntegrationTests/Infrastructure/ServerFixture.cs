namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>A test class's own database and one node on it.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;

    public RealtimeNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Node = await RealtimeNode.StartAsync(Database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Database.DisposeAsync();
    }
}
