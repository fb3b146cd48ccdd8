namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>Several real nodes on one test database and one Redis, with their own channel prefix.</summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly List<RealtimeNode?> _nodes = [];
    private readonly Dictionary<string, string?> _settings;

    private Cluster(TestDatabase database, string redis, Dictionary<string, string?> settings)
    {
        Database = database;
        Redis = redis;
        _settings = settings;
    }

    public TestDatabase Database { get; }

    public string Redis { get; }

    /// <summary>The channel prefix every node of this cluster uses (its channels are apart from other tests').</summary>
    public string ChannelPrefix => _settings["Realtime:Redis:ChannelPrefix"]!;

    public RealtimeNode this[int i] => _nodes[i] ?? throw new InvalidOperationException($"node {i} is stopped");

    public static async Task<Cluster> StartAsync(int nodes = 2, string? redis = null, string? postgres = null,
        IDictionary<string, string?>? settings = null)
    {
        var database = await TestDatabase.CreateAsync();
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Realtime:Redis:ChannelPrefix"] = "test-" + Guid.NewGuid().ToString("N")[..8],
        };
        var cluster = new Cluster(database, redis ?? TestEnvironment.Redis, all) { Postgres = postgres };
        for (var i = 0; i < nodes; i++) cluster._nodes.Add(await cluster.StartNodeAsync(i));
        return cluster;
    }

    /// <summary>Overrides the connection string nodes use (e.g. through a proxy), or null for the database's own.</summary>
    public string? Postgres { get; init; }

    public async Task StopNodeAsync(int i)
    {
        var node = this[i];
        _nodes[i] = null;
        await node.DisposeAsync();
    }

    private Task<RealtimeNode> StartNodeAsync(int i) =>
        RealtimeNode.StartAsync(Postgres ?? Database.ConnectionString, $"node-{(char)('a' + i)}", Redis, _settings);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) if (node is not null) await node.DisposeAsync();
        await Database.DisposeAsync();
    }
}
