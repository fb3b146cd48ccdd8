using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Groups;

/// <summary>Every cell of SPEC §2 that the group lifecycle touches, for all five types and all four roles.</summary>
public sealed class GroupPermissionTests(GroupWorld world) : IClassFixture<GroupWorld>
{
    private static readonly string[] Types = ["Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom"];

    /// <summary>(type, caller, action) → null for success, or the expected code.</summary>
    public static TheoryData<string, string, string, string?> Cells()
    {
        var data = new TheoryData<string, string, string, string?>();
        foreach (var type in Types)
        {
            foreach (var role in new[] { "o", "a", "m", "n" })
            {
                if (type == "Private" && role == "a") continue; // Private groups have no admins
                var outsider = role == "n" ? (type == "Private" ? "GroupNotFound" : "NotMember") : null;

                data.Add(type, role, "Modify", outsider ?? (type switch
                {
                    "Private" => null,
                    "Public" or "ChatRoom" => role is "o" or "a" ? null : "PermissionDenied",
                    "AVChatRoom" => role == "o" ? null : "PermissionDenied",
                    _ => "PermissionDenied", // BChatRoom: app admin only
                }));
                data.Add(type, role, "Dissolve", outsider ?? (type is "Private" or "BChatRoom" ? "PermissionDenied" : role == "o" ? null : "PermissionDenied"));
                data.Add(type, role, "Transfer", outsider ?? (role == "o" ? null : "PermissionDenied"));
                data.Add(type, role, "Read", outsider);
                data.Add(type, role, "Search", role == "n" && type == "Private" ? "GroupNotFound" : null);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Action_ByRole_FollowsMatrix(string type, string caller, string action, string? expected)
    {
        var groupId = await world.NewGroupAsync(type);
        var client = world[caller];

        Func<Task> call = action switch
        {
            "Modify" => () => client.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = $"by {caller}" }),
            "Dissolve" => () => client.InvokeAsync("DissolveGroup", groupId),
            "Transfer" => () => client.InvokeAsync("TransferOwnership", groupId, caller == "m" ? "a" : "m"),
            "Search" => () => client.InvokeAsync("SearchGroup", groupId),
            _ => async () =>
            {
                var result = await client.InvokeAsync("GetGroups", (object)new[] { groupId });
                var failed = result.GetProperty("failed");
                if (failed.GetArrayLength() > 0) throw new HubErrorException($"[{failed[0].Str("code")}] read failed");
                Assert.Equal(groupId, result.GetProperty("groups")[0].Str("groupId"));
            },
        };

        if (expected is null)
            await call();
        else
            await Expect.HubError(Enum.Parse<ErrorCode>(expected), call);

        // A refused command changed nothing: the group is still there, at version 1, owned by o.
        if (expected is not null)
        {
            var info = (await world["o"].InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0];
            Assert.Equal(1, info.Int("version"));
            Assert.Equal("o", info.Str("owner"));
        }
    }

    [Fact]
    public async Task SearchGroup_NonMember_SeesOnlyPublicProfile()
    {
        var groupId = await world.NewGroupAsync("Public");

        var info = await world["n"].InvokeAsync("SearchGroup", groupId);

        var fields = info.EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(["applyJoinOption", "faceUrl", "groupId", "introduction", "maxMembers", "memberCount", "name", "type"], fields);
        Assert.Equal(3, info.Int("memberCount"));
    }
}
