namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>A test class's own database and one node on it.</summary>
public class ServerFixture : IAsyncLifetime
{
    /// <summary>Configuration of the node beyond RealtimeNode's defaults.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public TestDatabase Database { get; private set; } = null!;

    public RealtimeNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Node = await RealtimeNode.StartAsync(Database.ConnectionString, settings: Settings);
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Database.DisposeAsync();
    }
}
