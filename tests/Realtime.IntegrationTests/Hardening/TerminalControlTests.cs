using System.Text.Json;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>
/// An app revokes a user's tokens, and a user holds a bounded number of terminals (issue "Hardening"
/// 6 and 7): terminals are closed on whichever node they live.
/// </summary>
public sealed class TerminalControlTests : IAsyncLifetime
{
    private Cluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await Cluster.StartAsync(nodes: 2, settings: new Dictionary<string, string?>
    {
        ["Realtime:Apps:app2:RateLimits:TerminalsPerUser"] = "2",
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task RevokeTokens_TerminalsOnBothNodesClosedAndOldTokensRefused()
    {
        var user = Unique("r");
        var oldToken = TestTokens.Issue(user);
        await using var onA = await TestTerminal.ConnectAsync(_cluster[0].HubUrl, oldToken, "a");
        await using var onB = await TestTerminal.ConnectAsync(_cluster[1].HubUrl, oldToken, "b");
        await using var bystander = await _cluster[0].ConnectAsync(Unique("s"));

        using var rest = RestClient.Admin(_cluster[1]);
        var revokedAt = (await rest.PostAsync($"/users/{user}/revoke_tokens")).Ok().Long("revoked_at");

        await onA.Closed.WaitAsync(TestTerminal.DefaultTimeout);
        await onB.Closed.WaitAsync(TestTerminal.DefaultTimeout);
        Assert.False(bystander.Closed.IsCompleted);
        await bystander.InvokeAsync("WhoAmI");

        var refused = await Assert.ThrowsAsync<ConnectRefusedException>(() => RawHubSocket.ConnectAsync(_cluster[0].HubUrl, oldToken, "a"));
        Assert.Equal(401, refused.StatusCode);

        // A token issued after the revocation works.
        var issued = DateTimeOffset.FromUnixTimeMilliseconds(revokedAt).UtcDateTime.AddSeconds(1);
        var fresh = TestTokens.Sign(RealtimeNode.AppSecret, RealtimeNode.App, user, issued, issued.AddHours(1));
        await using var again = await TestTerminal.ConnectAsync(_cluster[0].HubUrl, fresh, "a");
        Assert.Equal(user, (await again.InvokeAsync("WhoAmI")).Str("userId"));
    }

    [Fact]
    public async Task TerminalLimit_ThirdTerminal_OldestToldAndClosedOthersStay()
    {
        var user = Unique("t");
        const string app = RealtimeNode.OtherApp;
        await using var first = await _cluster[0].ConnectAsync(user, "first", app);
        await using var second = await _cluster[1].ConnectAsync(user, "second", app);
        Assert.False(first.Closed.IsCompleted);

        await using var third = await _cluster[1].ConnectAsync(user, "third", app); // closes "first" on the other node

        await first.Closed.WaitAsync(TestTerminal.DefaultTimeout);
        foreach (var t in new[] { second, third })
        {
            var notice = (await t.WaitForAsync("SystemMessage", a => a[0].Str("type") == "TerminalClosed"))[0];
            Assert.Equal("first", notice.GetProperty("data").Str("device"));
            Assert.Equal("TerminalLimit", notice.GetProperty("data").Str("reason"));
            Assert.Equal(JsonValueKind.Null, notice.TryGetProperty("actor", out var actor) ? actor.ValueKind : JsonValueKind.Null);
            await t.InvokeAsync("WhoAmI");
        }
        Assert.False(second.Closed.IsCompleted);
        Assert.False(third.Closed.IsCompleted);
    }
}
