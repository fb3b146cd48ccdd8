using System.Text.Json;
using Realtime.IntegrationTests.Groups;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Membership;

/// <summary>
/// Every cell of SPEC §2 that membership and messaging touch, for all five types and the roles
/// owner "o", admin "a", member "m" and non-member "n". Targets: "p" a plain member (promoted to
/// admin where the cell is about admins), "x" a user who never joined.
/// </summary>
public sealed class MembershipPermissionTests(GroupWorld world) : IClassFixture<GroupWorld>
{
    private static readonly string[] Types = ["Private", "Public", "ChatRoom", "AVChatRoom", "BChatRoom"];

    /// <summary>Actions that change nothing the owner can see when they succeed (msgRecvOption is private).</summary>
    private static readonly HashSet<string> Reads = ["GetMembers", "GetBlocklist"];

    /// <summary>(type, caller, action) → null for success, or the expected code.</summary>
    public static TheoryData<string, string, string, string?> Cells()
    {
        var data = new TheoryData<string, string, string, string?>();
        foreach (var type in Types)
        {
            var hasAdmins = type != "Private";
            foreach (var role in new[] { "o", "a", "m", "n" })
            {
                if (!hasAdmins && role == "a") continue; // Private groups have no admins
                var outsider = role == "n" ? (type == "Private" ? "GroupNotFound" : "NotMember") : null;
                var staff = role is "o" or "a" ? null : "PermissionDenied";
                var ownerOnly = role == "o" ? null : "PermissionDenied";
                void Add(string action, string? expected) => data.Add(type, role, action, outsider ?? expected);

                Add("KickMember", staff);
                if (hasAdmins) Add("KickAdmin", ownerOnly);
                Add("KickOwner", "PermissionDenied");
                Add("MuteMember", staff);
                if (hasAdmins) Add("MuteAdmin", ownerOnly);
                Add("MuteOwner", "PermissionDenied");
                Add("SetAdmin", hasAdmins ? ownerOnly : "UnsupportedForGroupType");
                Add("UnsetAdmin", hasAdmins ? ownerOnly : "UnsupportedForGroupType");
                Add("Blocklist", staff);
                Add("BlocklistMember", staff);
                Add("Allowlist", staff);
                Add("GetBlocklist", staff);
                Add("Send", type == "BChatRoom" ? staff : null);
                Add("Quit", role == "o" ? "OwnerCannotQuit" : null);
                Add("Invite", type switch
                {
                    "Private" => null,
                    "Public" or "ChatRoom" => role == "m" ? "InviteNotAllowed" : null,
                    _ => "UnsupportedForGroupType",
                });
                // Private refuses applications before looking at who asks (the type check comes first).
                data.Add(type, role, "Apply", type == "Private" ? "ApplyNotAllowed" : role == "n" ? null : "AlreadyMember");
                Add("NameCardOfMember", staff);
                if (hasAdmins) Add("NameCardOfAdmin", ownerOnly);
                Add("NameCardOfOwner", ownerOnly);
                Add("OwnNameCard", null);
                Add("RecvOptionOfOther", "PermissionDenied");
                Add("OwnRecvOption", null);
                Add("GetMembers", null);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task MembershipAction_ByRole_FollowsMatrix(string type, string caller, string action, string? expected)
    {
        var groupId = await world.NewGroupAsync(type);
        await world.AddMemberAsync(groupId, type, "p");
        if (action is "KickAdmin" or "MuteAdmin" or "NameCardOfAdmin") await world.MakeAdminAsync(groupId, "p");
        var client = world[caller];
        var before = await SnapshotAsync(groupId);

        Func<Task> call = action switch
        {
            "KickMember" or "KickAdmin" => () => client.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { "p" } }),
            "KickOwner" => () => client.InvokeAsync("RemoveMembers", new { groupId, userIds = new[] { "o" } }),
            "MuteMember" or "MuteAdmin" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "p", muteSeconds = 60 }),
            "MuteOwner" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "o", muteSeconds = 60 }),
            "SetAdmin" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "p", role = "Admin" }),
            "UnsetAdmin" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "a", role = "Member" }),
            "Blocklist" => () => client.InvokeAsync("AddToBlocklist", new { groupId, userIds = new[] { "x" } }),
            "BlocklistMember" => () => client.InvokeAsync("AddToBlocklist", new { groupId, userIds = new[] { "p" } }),
            "Allowlist" => () => client.InvokeAsync("AddToAllowlist", new { groupId, userIds = new[] { "x" } }),
            "GetBlocklist" => () => client.InvokeAsync("GetBlocklist", new { groupId }),
            "Send" => () => client.InvokeAsync("SendMessage", new { groupId, text = $"hello from {caller}" }),
            "Quit" => () => client.InvokeAsync("QuitGroup", groupId),
            "Invite" => () => client.InvokeAsync("InviteMembers", new { groupId, userIds = new[] { "x" } }),
            "Apply" => () => client.InvokeAsync("ApplyToJoin", new { groupId }),
            "NameCardOfMember" or "NameCardOfAdmin" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "p", nameCard = $"by {caller}" }),
            "NameCardOfOwner" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "o", nameCard = $"by {caller}" }),
            "OwnNameCard" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = caller, nameCard = $"by {caller}" }),
            "RecvOptionOfOther" => () => client.InvokeAsync("UpdateMember", new { groupId, userId = "p", msgRecvOption = "Discard" }),
            "OwnRecvOption" => async () =>
            {
                var me = await client.InvokeAsync("UpdateMember", new { groupId, userId = caller, msgRecvOption = "ReceiveNoNotify" });
                Assert.Equal("ReceiveNoNotify", me.Str("msgRecvOption"));
            },
            "GetMembers" => async () => Assert.Equal(4, (await client.InvokeAsync("GetMembers", new { groupId })).Int("total")),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };

        if (expected is null)
            await call();
        else
            await Expect.HubError(Enum.Parse<ErrorCode>(expected), call);

        var after = await SnapshotAsync(groupId);
        if (action == "OwnRecvOption" && expected is null)
            return; // checked by the call itself: the owner's view shows only the owner's own option
        if (expected is not null || Reads.Contains(action))
            Assert.Equal(before, after); // refused (or read-only) commands change nothing
        else
            Assert.NotEqual(before, after);
    }

    /// <summary>What the owner can see of the group: members, seq, lists and pending requests.</summary>
    private async Task<string> SnapshotAsync(string groupId)
    {
        var o = world["o"];
        var group = (await o.InvokeAsync("GetGroups", (object)new[] { groupId })).GetProperty("groups")[0];
        var parts = new[]
        {
            $"{group.Long("lastSeq")}/{group.Int("memberCount")}/{group.Int("version")}",
            (await o.InvokeAsync("GetMembers", new { groupId, limit = 500 })).GetRawText(),
            (await o.InvokeAsync("GetBlocklist", new { groupId })).GetRawText(),
            (await o.InvokeAsync("GetAllowlist", new { groupId })).GetRawText(),
            string.Join(",", (await o.InvokeAsync("GetPendingItems", new { limit = 100 })).EnumerateArray()
                .Where(i => i.Str("groupId") == groupId).Select(i => i.GetRawText())),
        };
        return string.Join("\n", parts);
    }
}
