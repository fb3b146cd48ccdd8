using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

/// <summary>
/// The same action through the hub (by the owner) and through REST (by the app admin) answers the
/// same code where the rule binds both: the type's "not supported", arguments, targets, capacity.
/// (Agora's membersonly / allowinvites are the exception: REST ignores them where the type fixes the
/// setting, see AdminGroupTests.)
/// </summary>
public sealed class AdminHubParityTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly RestClient _admin = RestClient.Admin(fixture.Node);

    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    public static TheoryData<string, ErrorCode> Cases() => new()
    {
        { "CreateAVChatRoomWithMembers", ErrorCode.UnsupportedForGroupType },
        { "AdminInPrivateGroup", ErrorCode.UnsupportedForGroupType },
        { "AddToBChatRoom", ErrorCode.UnsupportedForGroupType },
        { "NameWithSlash", ErrorCode.InvalidArgument },
        { "MaxMembersAboveTypeLimit", ErrorCode.InvalidArgument },
        { "TransferToNonMember", ErrorCode.NotMember },
        { "RemoveOwner", ErrorCode.PermissionDenied },
        { "AddBeyondMaxMembers", ErrorCode.GroupFull },
        { "ModifyMissingGroup", ErrorCode.GroupNotFound },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SameAction_HubOwnerAndRestAdmin_SameCode(string action, ErrorCode expected)
    {
        var owner = Unique("o");
        var member = Unique("m");
        await using var hub = await Node.ConnectAsync(owner);
        async Task<string> Group(string type, int? maxusers = null, params string[] members) =>
            await _admin.CreateGroupAsync(new { groupname = action, type, owner, members, maxusers });
        string PathOf(string groupId) => $"/chatgroups/{RestClient.Escape(groupId)}";

        (Func<Task> ByHub, Func<Task<RestResponse>> ByRest) calls;
        switch (action)
        {
            case "CreateAVChatRoomWithMembers":
                calls = (() => hub.InvokeAsync("CreateGroup", new { type = "AVChatRoom", name = "av", members = new[] { member } }),
                    () => _admin.PostAsync("/chatgroups", new { type = "AVChatRoom", groupname = "av", owner, members = new[] { member } }));
                break;
            case "AdminInPrivateGroup":
            {
                var g = await Group("Private", null, member);
                calls = (() => hub.InvokeAsync("UpdateMember", new { groupId = g, userId = member, role = "Admin" }),
                    () => _admin.PostAsync($"{PathOf(g)}/admin", new { newadmin = member }));
                break;
            }
            case "AddToBChatRoom":
            {
                var g = await Group("BChatRoom");
                calls = (() => hub.InvokeAsync("InviteMembers", new { groupId = g, userIds = new[] { member } }),
                    () => _admin.PostAsync($"{PathOf(g)}/users", new { usernames = new[] { member } }));
                break;
            }
            case "NameWithSlash":
            {
                var g = await Group("Public");
                calls = (() => hub.InvokeAsync("UpdateGroupProfile", new { groupId = g, name = "a/b" }),
                    () => _admin.PutAsync(PathOf(g), new { groupname = "a/b" }));
                break;
            }
            case "MaxMembersAboveTypeLimit":
                calls = (() => hub.InvokeAsync("CreateGroup", new { type = "Public", name = "big", maxMembers = 6001 }),
                    () => _admin.PostAsync("/chatgroups", new { @public = true, groupname = "big", owner, maxusers = 6001 }));
                break;
            case "TransferToNonMember":
            {
                var g = await Group("Public");
                calls = (() => hub.InvokeAsync("TransferOwnership", g, member),
                    () => _admin.PutAsync($"{PathOf(g)}/owner", new { newowner = member }));
                break;
            }
            case "RemoveOwner":
            {
                var g = await Group("Public", null, member);
                calls = (() => hub.InvokeAsync("RemoveMembers", new { groupId = g, userIds = new[] { owner } }),
                    () => _admin.DeleteAsync($"{PathOf(g)}/users/{owner}"));
                break;
            }
            case "AddBeyondMaxMembers":
            {
                var g = await Group("Public", 2, member);
                calls = (() => hub.InvokeAsync("InviteMembers", new { groupId = g, userIds = new[] { Unique("x") } }),
                    () => _admin.PostAsync($"{PathOf(g)}/users", new { usernames = new[] { Unique("x") } }));
                break;
            }
            case "ModifyMissingGroup":
                calls = (() => hub.InvokeAsync("UpdateGroupProfile", new { groupId = "no-such-group", name = "x" }),
                    () => _admin.PutAsync("/chatgroups/no-such-group", new { groupname = "x" }));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(action));
        }

        await Expect.HubError(expected, calls.ByHub);
        (await calls.ByRest()).Fails(expected);
    }

    [Fact]
    public async Task DisabledGroup_HubOwnerRefusedRestAdminServed()
    {
        var owner = Unique("o");
        await using var hub = await Node.ConnectAsync(owner);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "d", @public = true, owner });
        (await _admin.PostAsync($"/chatgroups/{RestClient.Escape(groupId)}/disable")).Ok();

        await Expect.HubError(ErrorCode.GroupDisabled, () => hub.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "hub" }));
        (await _admin.PutAsync($"/chatgroups/{RestClient.Escape(groupId)}", new { description = "rest" })).Ok();
    }

    [Fact]
    public async Task DissolvePrivate_HubOwnerRefusedRestAdminServed()
    {
        // "dissolve (hub): app admin only" for Private: the role rule differs, by design of SPEC §2.
        var owner = Unique("o");
        await using var hub = await Node.ConnectAsync(owner);
        var groupId = await _admin.CreateGroupAsync(new { groupname = "p", @public = false, owner });

        await Expect.HubError(ErrorCode.PermissionDenied, () => hub.InvokeAsync("DissolveGroup", groupId));
        (await _admin.DeleteAsync($"/chatgroups/{RestClient.Escape(groupId)}")).Ok();
    }

    public void Dispose() => _admin.Dispose();
}
