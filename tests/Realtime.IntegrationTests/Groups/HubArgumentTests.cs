using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Groups;

/// <summary>
/// The shape of hub arguments (SPEC §3, §4): every object argument takes an optional requestId and
/// refuses unknown fields; a plain string argument of the wrong JSON type is an InvalidArgument
/// naming the field.
/// </summary>
public sealed class HubArgumentTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    public static TheoryData<string> ReadMethods() =>
        new() { "GetJoinedGroups", "GetMembers", "GetPendingItems", "GetBlocklist", "GetAllowlist", "Sync" };

    [Theory]
    [MemberData(nameof(ReadMethods))]
    public async Task ReadMethod_WithRequestId_AcceptedAndUnknownFieldStillRejected(string method)
    {
        await using var owner = await Node.ConnectAsync(Unique("o"));
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "reads" })).Str("groupId");
        Dictionary<string, object?> Request(params (string Name, object? Value)[] extra)
        {
            var request = new Dictionary<string, object?>();
            if (method is "GetMembers" or "GetBlocklist" or "GetAllowlist") request["groupId"] = groupId;
            if (method == "Sync") request["systemSince"] = 0;
            foreach (var (name, value) in extra) request[name] = value;
            return request;
        }

        var plain = await owner.InvokeAsync(method, Request());
        var withRequestId = await owner.InvokeAsync(method, Request(("requestId", "read-1")));
        var again = await owner.InvokeAsync(method, Request(("requestId", "read-1")));

        // A read ignores requestId: the same answer as without one, every time.
        Assert.Equal(plain.GetRawText(), withRequestId.GetRawText());
        Assert.Equal(plain.GetRawText(), again.GetRawText());
        Assert.Contains("requestId", await Expect.HubError(ErrorCode.InvalidArgument,
            () => owner.InvokeAsync(method, Request(("requestId", new string('r', 65))))));
        Assert.Contains("bogus", await Expect.HubError(ErrorCode.InvalidArgument,
            () => owner.InvokeAsync(method, Request(("requestId", "read-2"), ("bogus", 1)))));
    }

    public static TheoryData<string, string, string> StringArguments()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var bad in new[] { "number", "object" })
        {
            data.Add("SearchGroup", "groupId", bad);
            data.Add("DissolveGroup", "groupId", bad);
            data.Add("TransferOwnership", "groupId", bad);
            data.Add("TransferOwnership", "newOwnerId", bad);
            data.Add("QuitGroup", "groupId", bad);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StringArguments))]
    public async Task StringArgumentMethod_NonStringArgument_FailsWithInvalidArgumentNamingField(string method, string field, string bad)
    {
        var (ownerId, memberId) = (Unique("o"), Unique("m"));
        await using var owner = await Node.ConnectAsync(ownerId);
        await using var member = await Node.ConnectAsync(memberId);
        var groupId = (await owner.InvokeAsync("CreateGroup", new { type = "Public", name = "strings", members = new[] { memberId } })).Str("groupId");
        object badValue = bad == "number" ? 42 : new { groupId };
        var caller = method == "QuitGroup" ? member : owner;
        object?[] Args(bool valid)
        {
            var good = method == "TransferOwnership" ? new object?[] { groupId, memberId } : [groupId];
            if (!valid) good[field == "newOwnerId" ? 1 : 0] = badValue;
            return good;
        }

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => caller.InvokeAsync(method, Args(valid: false)));

        Assert.Contains($"{field}: must be a string", message);
        // The same call with strings still works (and the refused one changed nothing for it to trip on).
        await caller.InvokeAsync(method, Args(valid: true));
    }
}
