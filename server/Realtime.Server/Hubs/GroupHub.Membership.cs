using System.Text.Json;
using Realtime.Server.Membership;

namespace Realtime.Server.Hubs;

public sealed partial class GroupHub
{
    public Task<IReadOnlyList<InviteResult>> InviteMembers(JsonElement request) =>
        Joins.InviteAsync(Actor, RealtimeJson.Bind<InviteMembersRequest>(request), ct: Context.ConnectionAborted);

    public Task<ApplyResult> ApplyToJoin(JsonElement request) =>
        Joins.ApplyAsync(Actor, RealtimeJson.Bind<ApplyToJoinRequest>(request), Context.ConnectionAborted, Context.ConnectionId);

    public Task<IReadOnlyList<PendingItem>> GetPendingItems(JsonElement request) =>
        Joins.GetPendingAsync(Actor, RealtimeJson.Bind<GetPendingItemsRequest>(request), Context.ConnectionAborted);

    public Task<PendingItem> HandlePendingItem(JsonElement request) =>
        Joins.HandlePendingAsync(Actor, RealtimeJson.Bind<HandlePendingItemRequest>(request), Context.ConnectionAborted);

    public Task RemoveMembers(JsonElement request) =>
        Members.RemoveAsync(Actor, RealtimeJson.Bind<RemoveMembersRequest>(request), Context.ConnectionAborted);

    public Task QuitGroup(JsonElement groupId) =>
        Members.QuitAsync(Actor, RealtimeJson.String(groupId, "groupId"), Context.ConnectionAborted);

    public Task<MembersResult> GetMembers(JsonElement request) =>
        Members.GetMembersAsync(Actor, RealtimeJson.Bind<GetMembersRequest>(request), Context.ConnectionAborted);

    public Task<MemberInfo> UpdateMember(JsonElement request) =>
        Members.UpdateMemberAsync(Actor, RealtimeJson.Bind<UpdateMemberRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> AddToBlocklist(JsonElement request) =>
        Lists.AddAsync(Actor, UserList.Blocklist, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> RemoveFromBlocklist(JsonElement request) =>
        Lists.RemoveAsync(Actor, UserList.Blocklist, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> GetBlocklist(JsonElement request) =>
        Lists.GetAsync(Actor, UserList.Blocklist, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> AddToAllowlist(JsonElement request) =>
        Lists.AddAsync(Actor, UserList.Allowlist, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> RemoveFromAllowlist(JsonElement request) =>
        Lists.RemoveAsync(Actor, UserList.Allowlist, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> GetAllowlist(JsonElement request) =>
        Lists.GetAsync(Actor, UserList.Allowlist, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);
}
