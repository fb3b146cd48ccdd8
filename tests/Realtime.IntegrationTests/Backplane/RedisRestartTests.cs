using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>The backplane survives Redis going away and coming back, without new managers.</summary>
[Collection(SerialCollection.Name)]
public sealed class RedisRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);
    private readonly RedisServerProcess _redis = new();
    private readonly string _prefix = $"restart-{Guid.NewGuid():N}";
    private TestNode? _a;
    private TestNode? _b;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_a is not null)
        {
            await _a.DisposeAsync();
        }

        if (_b is not null)
        {
            await _b.DisposeAsync();
        }

        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task SendGroupAsync_AfterRedisRestart_DeliversAgainWithoutNewManagers()
    {
        await _redis.StartAsync();
        var (a, b) = CreateNodes();
        var group = $"g-{Guid.NewGuid():N}";
        var user = $"u-{Guid.NewGuid():N}";
        var client = await a.ConnectAsync(user);
        await a.Manager.AddToGroupAsync(client.ConnectionId, group).Within();
        await b.Manager.SendGroupAsync(group, "Probe", [-1]).Within();
        Assert.Equal("-1", (await client.NextAsync("Probe")).Arg(0));

        await _redis.StopAsync();
        // Best effort while Redis is down: the caller gets control back, no exception.
        var publishesBefore = b.Redis.PublishCount;
        await b.Manager.SendGroupAsync(group, "Lost", []).WaitAsync(OperationTimeout * 3);
        await b.UserGroups.AddUserToGroupAsync(user, $"g-{Guid.NewGuid():N}").WaitAsync(OperationTimeout * 3);
        // The send, then the attach: its fence on the group's channel and the attach itself.
        Assert.Equal(publishesBefore + 3, b.Redis.PublishCount);

        await _redis.StartAsync();

        // The group, user and connection subscriptions were made before the restart; only the
        // multiplexer can have restored them.
        await EventuallyReceivesAsync(client, n => b.Manager.SendGroupAsync(group, "Probe", [n]));
        await EventuallyReceivesAsync(client, n => b.Manager.SendUserAsync(user, "Probe", [n]));
        await EventuallyReceivesAsync(client, n => b.Manager.SendConnectionAsync(client.ConnectionId, "Probe", [n]));
        await EventuallyReceivesAsync(client, n => b.Manager.SendAllAsync("Probe", [n]));

        // Acknowledged group changes work again too (needs b's ack channel back).
        var newGroup = $"g-{Guid.NewGuid():N}";
        await b.UserGroups.AddUserToGroupAsync(user, newGroup).Within();
        await b.Manager.SendGroupAsync(newGroup, "Probe", [1000]).Within();
        Assert.Equal("1000", (await client.NextAsync("Probe")).Arg(0));
    }

    [Fact]
    public async Task OnConnectedAsync_RedisDownAtStartup_DeliversOnceRedisIsUp()
    {
        var (a, b) = CreateNodes();
        var group = $"g-{Guid.NewGuid():N}";
        var client = await a.ConnectAsync($"u-{Guid.NewGuid():N}");
        await a.Manager.AddToGroupAsync(client.ConnectionId, group).Within();

        await _redis.StartAsync();

        await EventuallyReceivesAsync(client, n => b.Manager.SendGroupAsync(group, "Probe", [n]));
    }

    private (TestNode A, TestNode B) CreateNodes()
    {
        _a = TestNode.WithRedis(_redis.Configuration, _prefix, OperationTimeout);
        _b = TestNode.WithRedis(_redis.Configuration, _prefix, OperationTimeout);
        return (_a, _b);
    }

    // Redis gives no signal for "subscriptions restored", so probe: send numbered probes until one
    // arrives. Each wait is on the message itself; older probes arriving late are skipped.
    private static async Task EventuallyReceivesAsync(TestClient client, Func<int, Task> sendProbe)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Recovery;
        for (var n = 0; DateTime.UtcNow < deadline; n++)
        {
            await sendProbe(n).WaitAsync(TestTimeouts.Message);
            try
            {
                while (true)
                {
                    var received = await client.NextAsync("Probe", TimeSpan.FromMilliseconds(500));
                    if (received.Arg(0) == n.ToString())
                    {
                        return;
                    }
                }
            }
            catch (TimeoutException)
            {
                // Not restored yet: the next probe.
            }
        }

        Assert.Fail($"No probe reached {client.ConnectionId} within {TestTimeouts.Recovery} after Redis came back.");
    }
}
