using System.Net;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>A node whose app1 has small buckets refilling too slowly (one token per 100 s) to matter within a test.</summary>
public sealed class RateLimitedNodeFixture : ServerFixture
{
    public const int MessagesBurst = 3, CreatesBurst = 2, RestBurst = 5;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Realtime:Apps:app1:RateLimits:MessagesPerSecond"] = "0.01",
        ["Realtime:Apps:app1:RateLimits:MessagesBurst"] = $"{MessagesBurst}",
        ["Realtime:Apps:app1:RateLimits:CreatesPerSecond"] = "0.01",
        ["Realtime:Apps:app1:RateLimits:CreatesBurst"] = $"{CreatesBurst}",
        ["Realtime:Apps:app1:RateLimits:RestPerSecond"] = "0.01",
        ["Realtime:Apps:app1:RateLimits:RestBurst"] = $"{RestBurst}",
    };
}

/// <summary>Per-user command rates and per-app REST rates answer RateLimited with a retry hint (issue "Hardening" 7).</summary>
public sealed class RateLimitTests(RateLimitedNodeFixture fixture) : IClassFixture<RateLimitedNodeFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task SendMessage_PipelinedPastTheBurst_RestRateLimitedAndNotStored()
    {
        var (owner, other) = (Unique("o"), Unique("p"));
        await using var o = await Node.ConnectAsync(owner);
        await using var p = await Node.ConnectAsync(other);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "flood", members = new[] { other } })).Str("groupId");
        var lastSeq = (await o.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Long("lastSeq");

        var sends = Enumerable.Range(0, 10).Select(i => o.InvokeAsync("SendMessage", new { groupId, text = $"m{i}" })).ToList();
        var outcomes = new List<string>();
        foreach (var send in sends)
        {
            try
            {
                await send;
                outcomes.Add("ok");
            }
            catch (HubErrorException e)
            {
                Assert.StartsWith("[RateLimited]", e.HubMessage);
                Assert.Contains("retry after", e.HubMessage);
                outcomes.Add("limited");
            }
        }

        Assert.Equal(RateLimitedNodeFixture.MessagesBurst, outcomes.Count(x => x == "ok"));
        var after = (await o.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0].Long("lastSeq");
        Assert.Equal(lastSeq + RateLimitedNodeFixture.MessagesBurst, after);

        // Another member has a bucket of their own.
        await p.InvokeAsync("SendMessage", new { groupId, text = "mine" });
    }

    [Fact]
    public async Task CreateGroup_PastTheBurst_RateLimitedSoOneUserCannotSpendTheAppsQuota()
    {
        await using var u = await Node.ConnectAsync(Unique("c"));
        for (var i = 0; i < RateLimitedNodeFixture.CreatesBurst; i++) await u.InvokeAsync("CreateGroup", new { type = "Public", name = $"g{i}" });

        var e = await Assert.ThrowsAsync<HubErrorException>(() => u.InvokeAsync("CreateGroup", new { type = "Public", name = "one too many" }));
        Assert.StartsWith("[RateLimited]", e.HubMessage);
        Assert.Equal(RateLimitedNodeFixture.CreatesBurst, (await u.InvokeAsync("GetJoinedGroups", new { })).Int("total"));
    }

    [Fact]
    public async Task AdminApi_PastTheAppsBurst_429WithSpecBodyAndRetryAfter()
    {
        using var rest = RestClient.Admin(Node);
        RestResponse last = null!;
        for (var i = 0; i <= RateLimitedNodeFixture.RestBurst; i++) last = await rest.GetAsync("/chatgroups?limit=1");

        Assert.Equal(HttpStatusCode.TooManyRequests, last.Status);
        Assert.Contains("retry after", last.Fails(ErrorCode.RateLimited));

        // A caller without a valid token spends nothing of the app's budget: it is refused before.
        using var anonymous = new RestClient(Node, token: null);
        (await anonymous.GetAsync("/chatgroups")).Fails(ErrorCode.Unauthorized);
    }
}
