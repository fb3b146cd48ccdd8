using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;
using Realtime.Server.WebPush;

namespace Realtime.IntegrationTests.WebPush;

/// <summary>
/// Web Push end to end (SPEC §7): subscriptions registered through the hub, pushes through the outbox to a push
/// service on loopback that checks each VAPID JWT and decrypts each body with the subscription's private key.
/// </summary>
public sealed partial class WebPushTests
{
    private static readonly (string PublicKey, string PrivateKey) Vapid = VapidKeys.Generate();

    private static Dictionary<string, string?> Settings(bool allowLoopback = true) => new()
    {
        [$"Realtime:Apps:{RealtimeNode.App}:WebPush:PublicKey"] = Vapid.PublicKey,
        [$"Realtime:Apps:{RealtimeNode.App}:WebPush:PrivateKey"] = Vapid.PrivateKey,
        [$"Realtime:Apps:{RealtimeNode.App}:WebPush:Subject"] = "mailto:ops@example.com",
        ["Realtime:WebPush:AllowLoopbackHttp"] = allowLoopback ? "true" : "false",
        ["Realtime:Outbox:PollInterval"] = "00:00:00.200",
        ["Realtime:Outbox:RetryBase"] = "00:00:00.200",
        ["Realtime:Outbox:MaxRetryDelay"] = "00:00:00.500",
        // A node stopped while it holds a row: another takes it over soon.
        ["Realtime:Outbox:Lease"] = "00:00:02",
    };

    /// <summary>Registers a new subscription for the user from a terminal that then goes offline; waits until presence says so.</summary>
    private static async Task<TestPushSubscription> SubscribeOfflineAsync(RealtimeNode node, TestDatabase database, LocalPushService push, string user)
    {
        var sub = push.Subscribe();
        await using (var terminal = await node.ConnectAsync(user, "browser"))
        {
            var result = await terminal.InvokeAsync("RegisterPushSubscription", sub.Registration());
            Assert.Equal(sub.Endpoint, result.Str("endpoint"));
        }
        await WaitOfflineAsync(database, user);
        return sub;
    }

    private static Task WaitOfflineAsync(TestDatabase database, string user) => Expect.EventuallyAsync(async () =>
    {
        await using var c = await database.OpenAsync();
        return await c.ExecuteScalarAsync<long>("SELECT count(*) FROM terminals WHERE user_id = @user", new { user }) == 0;
    }, $"{user} is offline");

    private static async Task<long> CountAsync(TestDatabase database, string sql, object? args = null)
    {
        await using var c = await database.OpenAsync();
        return await c.ExecuteScalarAsync<long>(sql, args);
    }

    [Fact]
    public async Task WebPush_OfflineMembers_GetVapidSignedPushesTheirPrivateKeyDecrypts()
    {
        await using var push = await LocalPushService.StartAsync(Vapid.PublicKey);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings());
        using var http = new HttpClient { BaseAddress = node.BaseUrl };
        var offline = await SubscribeOfflineAsync(node, database, push, "offline");
        var offline2 = push.Subscribe(); // a second browser of the same user
        var quiet = await SubscribeOfflineAsync(node, database, push, "quiet");
        await using var owner = await node.ConnectAsync("owner");
        await using var online = await node.ConnectAsync("online");
        var onlineSub = push.Subscribe();
        await online.InvokeAsync("RegisterPushSubscription", onlineSub.Registration());
        await using (var second = await node.ConnectAsync("offline", "browser2"))
            await second.InvokeAsync("RegisterPushSubscription", offline2.Registration());
        await WaitOfflineAsync(database, "offline");

        // System messages (JoinedGroup): to each offline user's browsers, urgently, only their own items.
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "web push", members = new[] { "online", "offline", "quiet" } })).Str("groupId");
        foreach (var (sub, user) in new[] { (offline, "offline"), (offline2, "offline"), (quiet, "quiet") })
        {
            var p = await push.WaitForAsync(r => r.Token == sub.Token && r.Body.ValueKind != default && r.Body.Str("kind") == "SystemMessage");
            Assert.Null(p.VapidProblem);
            Assert.Null(p.DecryptProblem);
            Assert.Equal("high", p.Urgency);
            Assert.InRange(int.Parse(p.Ttl), 86_000, 86_400);
            Assert.Equal(RealtimeNode.App, p.Body.Str("appId"));
            var item = Assert.Single(p.Body.GetProperty("items").EnumerateArray());
            Assert.Equal(user, item.Str("user"));
            Assert.Equal("JoinedGroup", item.GetProperty("message").Str("type"));
            Assert.Equal(groupId, item.GetProperty("message").Str("groupId"));
        }

        // A group message goes to members who want notifications; the quiet one has opted out.
        await using (var q = await node.ConnectAsync("quiet"))
            await q.InvokeAsync("UpdateMember", new { groupId, userId = "quiet", msgRecvOption = "ReceiveNoNotify" });
        await WaitOfflineAsync(database, "quiet");
        var text = "héllo 你好 " + new string('x', 3000) + " 🎉" + string.Concat(Enumerable.Repeat("字", 900));
        await owner.InvokeAsync("SendMessage", new { groupId, text, payload = new { big = new string('p', 6000) } });
        foreach (var sub in new[] { offline, offline2 })
        {
            var p = await push.WaitForAsync(r => r.Token == sub.Token && r.Body.ValueKind != default && r.Body.Str("kind") == "GroupMessage");
            Assert.Null(p.VapidProblem);
            Assert.Null(p.DecryptProblem);
            Assert.Equal("normal", p.Urgency);
            Assert.Equal(["offline"], p.Body.GetProperty("users").EnumerateArray().Select(u => u.GetString()));
            // Trimmed to fit one 4096-byte record: the payload went, the text was cut at a code point, and it says so.
            Assert.True(p.BodyBytes <= 4096, $"{p.BodyBytes} bytes on the wire");
            Assert.True(Encoding.UTF8.GetByteCount(p.Text!) <= WebPushPayload.MaxBytes);
            Assert.True(p.Body.GetProperty("truncated").GetBoolean());
            var data = p.Body.GetProperty("message").GetProperty("data");
            Assert.False(data.TryGetProperty("payload", out _));
            Assert.StartsWith(data.Str("text"), text, StringComparison.Ordinal);
            Assert.StartsWith("héllo 你好 xxx", data.Str("text"), StringComparison.Ordinal);
            Assert.Equal("owner", data.Str("sender"));
        }

        // Every web push of that message was queued in one statement before any was sent: nothing for the quiet
        // member, and never anything for the online user or the sender.
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM outbox WHERE kind = 'WebPush' AND payload->>'user' IN ('online', 'owner')"));
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM outbox WHERE kind = 'WebPush' AND payload->>'user' = 'quiet'"));
        Assert.DoesNotContain(push.All, r => r.Token == onlineSub.Token);
        Assert.DoesNotContain(push.All, r => r.VapidProblem is not null || r.DecryptProblem is not null);

        var metrics = await http.GetStringAsync("/metrics");
        Assert.True(Counter(metrics, "realtime_webpush_sent_total") >= 5, metrics);
    }

    [Fact]
    public async Task WebPush_PushServiceAnswers410_SubscriptionDeleted_400_PushDroppedAndKept()
    {
        await using var push = await LocalPushService.StartAsync(Vapid.PublicKey);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings());
        using var http = new HttpClient { BaseAddress = node.BaseUrl };
        var gone = await SubscribeOfflineAsync(node, database, push, "gone");
        gone.Answer = _ => 410;
        var refused = await SubscribeOfflineAsync(node, database, push, "refused");
        refused.Answer = _ => 400;
        await using var owner = await node.ConnectAsync("owner");

        await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "gone", members = new[] { "gone", "refused" } });

        await push.WaitForAsync(r => r.Token == gone.Token && r.Status == 410);
        await push.WaitForAsync(r => r.Token == refused.Token && r.Status == 400);
        await Expect.EventuallyAsync(async () => await CountAsync(database,
            "SELECT count(*) FROM outbox WHERE kind = 'WebPush' AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL)") == 2, "both pushes are settled");
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM push_subscriptions WHERE user_id = 'gone'"));
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM push_subscriptions WHERE user_id = 'refused'"));
        // Neither is retried: one attempt each, both given up.
        Assert.Equal(2, await CountAsync(database, "SELECT count(*) FROM outbox WHERE kind = 'WebPush' AND attempts = 1 AND failed_at IS NOT NULL"));
        Assert.Equal(1, gone.Attempts);
        Assert.Equal(1, refused.Attempts);

        var metrics = await http.GetStringAsync("/metrics");
        Assert.Equal(1, Counter(metrics, "realtime_webpush_subscriptions_dropped_total"));
        Assert.Equal(1, Counter(metrics, "realtime_webpush_failed_total{reason=\"rejected\"}"));
    }

    [Fact]
    public async Task WebPush_PushServiceDownAndNodeRestarts_QueuedPushDeliveredOnce()
    {
        await using var push = await LocalPushService.StartAsync(Vapid.PublicKey);
        await using var database = await TestDatabase.CreateAsync();
        var first = await RealtimeNode.StartAsync(database.ConnectionString, "node-a", settings: Settings());
        var sub = await SubscribeOfflineAsync(first, database, push, "sleeper");
        var down = true;
        sub.Answer = _ => Volatile.Read(ref down) ? 503 : 201;
        await using (var owner = await first.ConnectAsync("owner"))
            await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "restart", members = new[] { "sleeper" } });
        var failed = await push.WaitForAsync(r => r.Token == sub.Token && r.Status == 503);
        await first.DisposeAsync();

        // The push service is back, and another node (a restart) finds the push in the outbox.
        Volatile.Write(ref down, false);
        await using var second = await RealtimeNode.StartAsync(database.ConnectionString, "node-b", settings: Settings());
        var delivered = await push.WaitForAsync(r => r.Token == sub.Token && r.Status == 201);

        Assert.Null(delivered.DecryptProblem);
        Assert.Null(delivered.VapidProblem);
        Assert.Equal(failed.Body.Str("deliveryId"), delivered.Body.Str("deliveryId"));
        Assert.Equal("JoinedGroup", delivered.Body.GetProperty("items")[0].GetProperty("message").Str("type"));
        await Expect.EventuallyAsync(async () => await CountAsync(database,
            "SELECT count(*) FROM outbox WHERE kind = 'WebPush' AND delivered_at IS NOT NULL") == 1, "the push is marked delivered");
        Assert.Single(push.All, r => r.Token == sub.Token && r.Status == 201);
    }

    [Fact]
    public async Task RegisterPushSubscription_LimitsOwnershipAndUnregister()
    {
        await using var push = await LocalPushService.StartAsync(Vapid.PublicKey);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings());
        await using var alice = await node.ConnectAsync("alice");
        await using var bob = await node.ConnectAsync("bob");

        var subs = Enumerable.Range(0, PushSubscriptionRules.MaxPerUser + 1).Select(_ => push.Subscribe()).ToList();
        for (var i = 0; i < PushSubscriptionRules.MaxPerUser; i++)
        {
            var r = await alice.InvokeAsync("RegisterPushSubscription", subs[i].Registration());
            Assert.Equal(i + 1, r.Int("subscriptions"));
            Assert.True(r.GetProperty("changed").GetBoolean());
        }
        // The same subscription again changes nothing and does not count twice.
        var again = await alice.InvokeAsync("RegisterPushSubscription", subs[0].Registration());
        Assert.False(again.GetProperty("changed").GetBoolean());
        Assert.Equal(PushSubscriptionRules.MaxPerUser, again.Int("subscriptions"));
        // The eleventh is refused, and nothing is stored.
        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => alice.InvokeAsync("RegisterPushSubscription", subs[^1].Registration()));
        Assert.Contains("endpoint", message);
        Assert.Equal(PushSubscriptionRules.MaxPerUser, await CountAsync(database, "SELECT count(*) FROM push_subscriptions WHERE user_id = 'alice'"));

        // Bob signs in on the browser of Alice's first subscription: it is his now.
        var taken = await bob.InvokeAsync("RegisterPushSubscription", subs[0].Registration());
        Assert.True(taken.GetProperty("changed").GetBoolean());
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM push_subscriptions WHERE endpoint = @e AND user_id = 'bob'", new { e = subs[0].Endpoint }));
        Assert.Equal(PushSubscriptionRules.MaxPerUser - 1, await CountAsync(database, "SELECT count(*) FROM push_subscriptions WHERE user_id = 'alice'"));

        // Alice cannot remove Bob's; she removes her own.
        var notHers = await alice.InvokeAsync("UnregisterPushSubscription", new { endpoint = subs[0].Endpoint });
        Assert.False(notHers.GetProperty("changed").GetBoolean());
        var removed = await alice.InvokeAsync("UnregisterPushSubscription", new { endpoint = subs[1].Endpoint, requestId = "u-1" });
        Assert.True(removed.GetProperty("changed").GetBoolean());
        Assert.Equal(PushSubscriptionRules.MaxPerUser - 2, removed.Int("subscriptions"));
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM push_subscriptions WHERE endpoint = @e", new { e = subs[0].Endpoint }));

        Assert.Equal(Vapid.PublicKey, (await alice.InvokeAsync("GetWebPushKey")).Str("publicKey"));
    }

    [Theory]
    [InlineData("http://push.example.com/x", true)]
    [InlineData("https://10.1.2.3/x", true)]
    [InlineData("https://169.254.169.254/latest/meta-data", true)]
    [InlineData("https://[fd00::1]/x", true)]
    [InlineData("https://localhost/x", true)]
    [InlineData("https://user:pw@push.example.com/x", true)]
    [InlineData("http://127.0.0.1:9/x", false)]
    [InlineData("https://127.0.0.1/x", false)]
    public async Task RegisterPushSubscription_EndpointAnAppServerMustNotCall_InvalidArgumentAndNothingStored(string endpoint, bool allowLoopback)
    {
        await using var push = await LocalPushService.StartAsync(Vapid.PublicKey);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings(allowLoopback));
        await using var alice = await node.ConnectAsync("alice");
        var sub = push.Subscribe();
        var keys = System.Text.Json.JsonSerializer.SerializeToElement(sub.Registration()).GetProperty("keys");

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => alice.InvokeAsync("RegisterPushSubscription", new { endpoint, keys }));

        Assert.StartsWith("[InvalidArgument] endpoint:", message);
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM push_subscriptions"));
    }

    [Fact]
    public async Task RegisterPushSubscription_AppWithoutVapidKeys_PermissionDenied()
    {
        await using var push = await LocalPushService.StartAsync(Vapid.PublicKey);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?> { ["Realtime:WebPush:AllowLoopbackHttp"] = "true" });
        await using var alice = await node.ConnectAsync("alice");

        await Expect.HubError(ErrorCode.PermissionDenied, () => alice.InvokeAsync("RegisterPushSubscription", push.Subscribe().Registration()));
        Assert.False((await alice.InvokeAsync("GetWebPushKey")).TryGetProperty("publicKey", out _));
    }

    private static double Counter(string metrics, string name)
    {
        var m = Regex.Match(metrics, "^" + Regex.Escape(name) + @"(?:\{[^}]*\})? (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
