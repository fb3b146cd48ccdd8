extern alias ClientLib;

using ClientLib::Realtime.Client;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Client;

/// <summary>Starting against one node: a refused token fails StartAsync at once instead of retrying forever.</summary>
public sealed class RealtimeClientStartTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new();

    private RealtimeNode Node => _server.Node;

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task BadToken_StartFailsWithUnauthorized()
    {
        await using var client = new RealtimeClient(new RealtimeClientOptions
        {
            Urls = [Node.BaseUrl],
            AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Sign("wrong-secret-0123456789abcdefghijklmnop", RealtimeNode.App, "u", DateTime.UtcNow, DateTime.UtcNow.AddHours(1))),
        });
        var e = await Assert.ThrowsAsync<RealtimeHubException>(() => client.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("Unauthorized", e.Code);
        Assert.NotEqual(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected, client.State);
    }
}
