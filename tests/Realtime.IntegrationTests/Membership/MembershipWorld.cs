using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Membership;

/// <summary>
/// One node for a test class; each test takes its own cast of fresh user ids, so tests share
/// the node without seeing each other's pushes.
/// </summary>
public class MembershipWorld : IAsyncLifetime
{
    private readonly ConcurrentBag<TestTerminal> _clients = [];
    private readonly IDictionary<string, string?>? _settings;
    private TestDatabase _database = null!;

    public MembershipWorld() : this(null) { }

    protected MembershipWorld(IDictionary<string, string?>? settings) => _settings = settings;

    public RealtimeNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        Node = await RealtimeNode.StartAsync(_database.ConnectionString, settings: _settings);
    }

    /// <summary>Connects one terminal of each named user; names map to fresh ids ("o" → "o-1a2b…").</summary>
    public async Task<Cast> CastAsync(params string[] names)
    {
        var cast = new Cast();
        foreach (var name in names) await AddAsync(cast, name);
        return cast;
    }

    public async Task<TestTerminal> AddAsync(Cast cast, string name, string device = "d1")
    {
        if (!cast.Ids.TryGetValue(name, out var id)) cast.Ids[name] = id = $"{name}-{Guid.NewGuid():N}"[..24];
        var client = await Node.ConnectAsync(id, device);
        _clients.Add(client);
        if (device == "d1") cast.Clients[name] = client;
        return client;
    }

    /// <summary>A connection of the test's own to the node's database (e.g. to hold a lock the node must wait for).</summary>
    public Task<Npgsql.NpgsqlConnection> OpenAsync() => _database.OpenAsync();

    public async Task ExecuteAsync(string sql, object args)
    {
        await using var c = await _database.OpenAsync();
        await c.ExecuteAsync(sql, args);
    }

    public async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var c = await _database.OpenAsync();
        return (await c.ExecuteScalarAsync<T>(sql, args))!;
    }

    /// <summary>Until the REST disable exists, tests flip the flag in the database.</summary>
    public Task SetDisabledAsync(string groupId, bool disabled) =>
        ExecuteAsync("UPDATE groups SET disabled = @disabled WHERE group_id = @groupId AND dissolved_at IS NULL", new { groupId, disabled });

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await Node.DisposeAsync();
        await _database.DisposeAsync();
    }
}

/// <summary>A test's users: short names, their fresh ids and their first terminals.</summary>
public sealed class Cast
{
    public Dictionary<string, string> Ids { get; } = [];

    public Dictionary<string, TestTerminal> Clients { get; } = [];

    public TestTerminal this[string name] => Clients[name];

    public string Id(string name) => Ids[name];

    public string[] IdsOf(params string[] names) => names.Select(Id).ToArray();

    /// <summary>o creates a group of the type with the named members; answers its id.</summary>
    public async Task<string> GroupAsync(string type, string[] members, object? extra = null)
    {
        var request = new Dictionary<string, object?> { ["type"] = type, ["name"] = $"{type} group", ["members"] = IdsOf(members) };
        if (extra is not null)
            foreach (var p in JsonSerializer.SerializeToElement(extra, TestTerminal.JsonOptions).EnumerateObject()) request[p.Name] = p.Value;
        return (await this["o"].InvokeAsync("CreateGroup", request)).Str("groupId");
    }

    public async Task<JsonElement> GroupInfoAsync(string groupId, string viewer = "o") =>
        (await this[viewer].InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0];

    public async Task<JsonElement> MembersAsync(string groupId, string viewer = "o") =>
        await this[viewer].InvokeAsync("GetMembers", new { groupId, limit = 500 });
}

public static class Push
{
    public static JsonElement Data(this JsonElement[] args) => args[0].GetProperty("data");

    /// <summary>The user ids of a MembersJoined / MembersKicked payload.</summary>
    public static string[] UserIds(this JsonElement[] args) =>
        args.Data().GetProperty("userIds").EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>A MembersJoined of the group that announces exactly these users.</summary>
    public static Func<JsonElement[], bool> Joined(string groupId, params string[] userIds) =>
        args => Json.OfType("MembersJoined", groupId)(args) && args.UserIds().SequenceEqual(userIds);

    /// <summary>Group events of the group this client received with seq ≥ the given one.</summary>
    public static IEnumerable<JsonElement> GroupEventsFrom(this TestTerminal client, string groupId, long seq) =>
        client.Received.Where(r => r.Target == "GroupEvent" && r.Args[0].Str("groupId") == groupId && r.Args[0].Long("seq") >= seq)
            .Select(r => r.Args[0]);
}
