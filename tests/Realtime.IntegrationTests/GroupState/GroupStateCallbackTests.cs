using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.GroupState;

public sealed class GroupStateCallbackTests
{
    [Fact]
    public async Task SetGroupAttributes_AfterCallback_SignedWithTheChanges()
    {
        await using var receiver = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        await using var database = await TestDatabase.CreateAsync();
        await using var node = await RealtimeNode.StartAsync(database.ConnectionString, settings: new Dictionary<string, string?>
        {
            [$"Realtime:Apps:{RealtimeNode.App}:CallbackUrl"] = receiver.CallbackUrl,
            [$"Realtime:Apps:{RealtimeNode.App}:CallbackTimeout"] = "00:00:10",
            ["Realtime:Outbox:RetryBase"] = "00:00:00.200",
            ["Realtime:Outbox:PollInterval"] = "00:00:00.200",
        });
        await using var owner = await node.ConnectAsync("owner");
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "hooks" })).Str("groupId");
        await owner.InvokeAsync("SetGroupAttributes", new { groupId, set = new { topic = "t" } });
        var result = await owner.InvokeAsync("SetGroupAttributes", new { groupId, remove = new[] { "topic" } });

        var removed = await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterGroupAttributesChanged" && r.Body.Long("Seq") == result.Long("seq"));
        Assert.True(removed.SignatureValid);
        Assert.Equal(groupId, removed.Body.Str("GroupId"));
        Assert.Equal("owner", removed.Body.Str("Operator_Account"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, removed.Body.GetProperty("Changes").GetProperty("topic").ValueKind);
        var set = await receiver.WaitForAsync(r => r.Command == "Group.CallbackAfterGroupAttributesChanged" && r.Body.Long("Seq") == result.Long("seq") - 1);
        Assert.Equal("t", set.Body.GetProperty("Changes").GetProperty("topic").Str("value"));
    }
}
