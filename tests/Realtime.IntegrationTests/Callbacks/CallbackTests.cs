using Dapper;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Callbacks;

public sealed class CallbackTests
{
    /// <summary>A generous callback timeout unless a test is about timeouts: a loaded machine is slow to make the first request.</summary>
    private static Dictionary<string, string?> Settings(WebhookReceiver receiver, bool failClosed = false, string timeout = "00:00:10") => new()
    {
        [$"Realtime:Apps:{RealtimeNode.App}:CallbackUrl"] = receiver.CallbackUrl,
        [$"Realtime:Apps:{RealtimeNode.App}:CallbackTimeout"] = timeout,
        [$"Realtime:Apps:{RealtimeNode.App}:CallbackFailClosed"] = failClosed ? "true" : "false",
        ["Realtime:Outbox:RetryBase"] = "00:00:00.200",
        ["Realtime:Outbox:PollInterval"] = "00:00:00.200",
    };

    [Fact]
    public async Task Callbacks_EveryRequest_IsSignedWithTheAppSecret()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings(receiver));
        await using var owner = await node.ConnectAsync("owner");
        await using var member = await node.ConnectAsync("member");

        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "hooks", members = new[] { "member" } })).Str("groupId");
        await owner.InvokeAsync("UpdateGroupProfile", new { groupId, name = "hooks 2" });
        await owner.InvokeAsync("SendMessage", new { groupId, text = "hi" });
        await member.InvokeAsync("QuitGroup", groupId);
        await owner.InvokeAsync("DissolveGroup", groupId);

        foreach (var command in new[] { "BeforeCreateGroup", "AfterCreateGroup", "AfterGroupInfoChanged", "BeforeSendMsg", "AfterSendMsg", "AfterMemberExit", "AfterGroupDestroyed" })
        {
            var r = await receiver.WaitForAsync(x => x.Command == "Group.Callback" + command);
            Assert.True(r.SignatureValid, command);
            Assert.Equal(RealtimeNode.App, r.Body.Str("AppId"));
        }
        Assert.All(receiver.All, r => Assert.True(r.SignatureValid));
    }

    [Fact]
    public async Task BeforeCallback_RepeatedRequestId_AnsweredFromTheFirstRunWithoutAskingAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings(receiver));
        await using var owner = await node.ConnectAsync("owner");
        var first = await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "once", requestId = "r-1" });

        // The app would now refuse: a repeat must still answer the first result.
        receiver.BeforeAnswer = _ => new { ActionStatus = "FAIL", ErrorCode = 1, ErrorInfo = "closed" };
        var again = await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "once", requestId = "r-1" });

        Assert.Equal(first.Str("groupId"), again.Str("groupId"));
        await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterCreateGroup");
        Assert.Single(receiver.All, r => r.Command == "Group.CallbackBeforeCreateGroup");
    }

    [Fact]
    public async Task AfterGroupInfoChanged_EnumSetting_SentByName()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings(receiver));
        await using var owner = await node.ConnectAsync("owner");
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "enums" })).Str("groupId");

        await owner.InvokeAsync("UpdateGroupProfile", new { groupId, applyJoinOption = "FreeAccess" });

        var changed = await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterGroupInfoChanged");
        Assert.Equal("FreeAccess", changed.Body.GetProperty("Changes").Str("applyJoinOption"));
        Assert.Equal("Public", changed.Body.Str("Type"));
    }

    [Fact]
    public async Task BeforeCallback_ErrorCodeOne_CallbackRejectedAndNothingChanged()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        receiver.BeforeAnswer = body => body.Str("CallbackCommand") == "Group.CallbackBeforeCreateGroup" && body.Str("Name").Contains("forbidden")
            ? new { ActionStatus = "FAIL", ErrorCode = 1, ErrorInfo = "name not allowed" }
            : new { ActionStatus = "OK", ErrorCode = 0 };
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings(receiver));
        await using var owner = await node.ConnectAsync("owner");

        var message = await Expect.HubError(ErrorCode.CallbackRejected, () => owner.InvokeAsync("CreateGroup", new { type = "Public", name = "forbidden words" }));

        Assert.Contains("name not allowed", message);
        await using var db = await database.OpenAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM groups"));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM system_messages"));
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox"));
        await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "fine" });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BeforeCallback_TimesOut_FollowsTheAppsPolicy(bool failClosed)
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        receiver.BeforeDelay = TimeSpan.FromSeconds(3);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: Settings(receiver, failClosed, timeout: "00:00:00.500"));
        await using var owner = await node.ConnectAsync("owner");

        if (failClosed)
            await Expect.HubError(ErrorCode.CallbackRejected, () => owner.InvokeAsync("CreateGroup", new { type = "Public", name = "slow" }));
        else
            Assert.StartsWith("@RT#", (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "slow" })).Str("groupId"));

        await receiver.WaitForAsync(r => r.Command == "Group.CallbackBeforeCreateGroup");
        Assert.Equal(failClosed ? 0 : 1, (await owner.InvokeAsync("GetJoinedGroups", new { })).Int("total"));
    }

    [Fact]
    public async Task AfterCallback_ReceiverFailsTwiceAndServerRestarts_DeliveredOnceWithOneDeliveryId()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        receiver.FailFirstAttempts = 2;
        await using var database = await TestDatabase.CreateAsync();
        var settings = Settings(receiver);

        var first = await RealtimeNode.StartAsync(database.ConnectionString, "node-a", settings: settings);
        Guid deliveryId;
        await using (var owner = await first.ConnectAsync("owner"))
        {
            await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "durable" });
            deliveryId = (await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterCreateGroup")).DeliveryId;
        }
        await first.DisposeAsync();

        // Another node (a restart) finds the row in the outbox and carries on.
        await using var second = await RealtimeNode.StartAsync(database.ConnectionString, "node-b", settings: settings);
        var acked = await receiver.WaitForAsync(r => r.DeliveryId == deliveryId && r.Acknowledged);
        Assert.Equal(3, acked.Attempt);

        // A later callback gets through, and the acknowledged one was not sent again before it.
        receiver.FailFirstAttempts = 0;
        await using var owner2 = await second.ConnectAsync("owner");
        await owner2.InvokeAsync("CreateGroup", new { type = "Public", name = "later" });
        await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterCreateGroup" && r.DeliveryId != deliveryId);
        var attempts = receiver.All.Where(r => r.DeliveryId == deliveryId).ToList();
        Assert.Equal(3, attempts.Count);
        Assert.Single(attempts, r => r.Acknowledged);
        Assert.All(attempts, r => Assert.True(r.SignatureValid));
        Assert.Single(attempts.Select(r => r.Body.GetRawText()).Distinct());

        await using var db = await database.OpenAsync();
        var row = await db.QuerySingleAsync<(int Attempts, bool Delivered)>(
            "SELECT attempts, delivered_at IS NOT NULL FROM outbox WHERE delivery_id = @deliveryId", new { deliveryId });
        Assert.Equal((3, true), row);
    }

    [Fact]
    public async Task AfterCallback_NodeStopsWhileDelivering_AnotherNodeDeliversWithoutWaitingOutTheLease()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        receiver.HoldAnswers = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var database = await TestDatabase.CreateAsync();
        // A lease far longer than the test may wait: only a row handed back at shutdown gets through in time.
        var settings = new Dictionary<string, string?>(Settings(receiver)) { ["Realtime:Outbox:Lease"] = "00:10:00" };

        var first = await RealtimeNode.StartAsync(database.ConnectionString, "node-a", settings: settings);
        await using (var owner = await first.ConnectAsync("owner"))
        {
            await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "held" });
        }
        var held = await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterCreateGroup");
        await first.DisposeAsync(); // its request is still waiting for an answer

        receiver.HoldAnswers = null;
        await using var second = await RealtimeNode.StartAsync(database.ConnectionString, "node-b", settings: settings);
        var delivered = await receiver.WaitForAsync(r => r.DeliveryId == held.DeliveryId && r.Attempt == 2);
        Assert.True(delivered.Acknowledged);
    }

    [Fact]
    public async Task OfflinePush_OnlyForUsersWithNoTerminalOnline()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            [$"Realtime:Apps:{RealtimeNode.App}:PushUrl"] = receiver.PushUrl,
            ["Realtime:Outbox:PollInterval"] = "00:00:00.200",
        });
        await using var owner = await node.ConnectAsync("owner");
        await using var online = await node.ConnectAsync("online");
        var quietOffline = "quiet";

        // JoinedGroup system messages: pushed for the offline users only.
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "push", members = new[] { "online", "offline", quietOffline } })).Str("groupId");
        var system = await receiver.WaitForAsync(r => r.Kind == "push" && r.Body.Str("kind") == "SystemMessage");
        var pushedUsers = system.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("user")).Order().ToArray();
        Assert.Equal(["offline", quietOffline], pushedUsers);
        Assert.True(system.SignatureValid);

        // The quiet user opts out of message notifications (from a terminal that then goes away).
        await using (var quiet = await node.ConnectAsync(quietOffline))
            await quiet.InvokeAsync("UpdateMember", new { groupId, userId = quietOffline, msgRecvOption = "ReceiveNoNotify" });

        await owner.InvokeAsync("SendMessage", new { groupId, text = "hello everyone" });
        var message = await receiver.WaitForAsync(r => r.Kind == "push" && r.Body.Str("kind") == "GroupMessage");
        Assert.Equal(["offline"], message.Body.GetProperty("users").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal("hello everyone", message.Body.GetProperty("message").GetProperty("data").Str("text"));
    }
}
