using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>A terminal lives no longer than its token (issue "Hardening" 6).</summary>
public sealed class TokenLifetimeTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    [Fact]
    public async Task Connection_TokenExpires_ClosedWhileALongerTokensStaysOpen()
    {
        var user = $"u{Guid.NewGuid():N}"[..20];
        // Long enough to outlive the connect on a loaded machine (the connect waits until the terminal serves).
        var lifetime = TimeSpan.FromSeconds(10);
        await using var shortLived = await TestTerminal.ConnectAsync(Node.HubUrl, TestTokens.Issue(user, lifetime: lifetime), "short");
        await using var longLived = await TestTerminal.ConnectAsync(Node.HubUrl, TestTokens.Issue(user), "long");

        await shortLived.Closed.WaitAsync(lifetime + TestTerminal.DefaultTimeout);

        Assert.Equal(user, (await longLived.InvokeAsync("WhoAmI")).Str("userId"));
        Assert.False(longLived.Closed.IsCompleted);
    }

    [Fact]
    public async Task RevokeTokens_SingleNodeWithoutRedis_TerminalsClosed()
    {
        var user = $"v{Guid.NewGuid():N}"[..20];
        await using var phone = await Node.ConnectAsync(user, "phone");
        await using var laptop = await Node.ConnectAsync(user, "laptop");
        using var rest = RestClient.Admin(Node);

        (await rest.PostAsync($"/users/{user}/revoke_tokens")).Ok();

        await phone.Closed.WaitAsync(TestTerminal.DefaultTimeout);
        await laptop.Closed.WaitAsync(TestTerminal.DefaultTimeout);
    }
}
