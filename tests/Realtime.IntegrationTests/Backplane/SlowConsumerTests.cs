namespace Realtime.IntegrationTests.Backplane;

/// <summary>A node serves all its connections from one ordered inbox: a stalled client must not hold it up.</summary>
public sealed class SlowConsumerTests : IAsyncLifetime
{
    private readonly string _prefix = "slow-" + Guid.NewGuid().ToString("N")[..8];
    private TestNode _a = null!;
    private TestNode _b = null!;

    public Task InitializeAsync()
    {
        _a = TestNode.WithRedis(TestRedis.Configuration, _prefix, slowConsumerTimeout: TimeSpan.FromMilliseconds(500));
        _b = TestNode.WithRedis(TestRedis.Configuration, _prefix, slowConsumerTimeout: TimeSpan.FromMilliseconds(500));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task SendGroupAsync_MemberStopsReading_ClosedWhileOthersGetEverything()
    {
        var group = "g-" + Guid.NewGuid().ToString("N")[..8];
        var stalled = await _a.ConnectAsync("stalled", reads: false);
        var healthy = await _a.ConnectAsync("healthy");
        await _a.Manager.AddToGroupAsync(stalled.ConnectionId, group).Within();
        await _a.Manager.AddToGroupAsync(healthy.ConnectionId, group).Within();

        // Far more than the stalled client's pipe holds (64 KiB): its writes block after a few.
        var chunk = new string('x', 16 * 1024);
        const int Messages = 40;
        for (var i = 0; i < Messages; i++) await _b.Manager.SendGroupAsync(group, "Chunk", [i, chunk]).Within();

        for (var i = 0; i < Messages; i++)
            Assert.Equal(i.ToString(), (await healthy.NextAsync("Chunk")).Arg(0));
        await Task.Delay(Timeout.Infinite, stalled.Connection.ConnectionAborted).ContinueWith(_ => { }).Within();
        Assert.True(stalled.Connection.ConnectionAborted.IsCancellationRequested);
    }
}
