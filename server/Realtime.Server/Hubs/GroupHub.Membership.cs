using System.Text.Json;
using Realtime.Server.Membership;

namespace Realtime.Server.Hubs;

public sealed partial class GroupHub
{
    public Task<IReadOnlyList<InviteResult>> InviteMembers(JsonElement request) =>
        Membership.InviteAsync(Actor, RealtimeJson.Bind<InviteMembersRequest>(request), ct: Context.ConnectionAborted);

    public Task<ApplyResult> ApplyToJoin(JsonElement request) =>
        Membership.ApplyAsync(Actor, RealtimeJson.Bind<ApplyToJoinRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<PendingItem>> GetPendingItems(JsonElement request) =>
        Membership.GetPendingAsync(Actor, RealtimeJson.Bind<GetPendingItemsRequest>(request), Context.ConnectionAborted);

    public Task<PendingItem> HandlePendingItem(JsonElement request) =>
        Membership.HandlePendingAsync(Actor, RealtimeJson.Bind<HandlePendingItemRequest>(request), Context.ConnectionAborted);

    public Task RemoveMembers(JsonElement request) =>
        Membership.RemoveAsync(Actor, RealtimeJson.Bind<RemoveMembersRequest>(request), Context.ConnectionAborted);

    public Task QuitGroup(JsonElement groupId) =>
        Membership.QuitAsync(Actor, RealtimeJson.String(groupId, "groupId"), Context.ConnectionAborted);

    public Task<MembersResult> GetMembers(JsonElement request) =>
        Membership.GetMembersAsync(Actor, RealtimeJson.Bind<GetMembersRequest>(request), Context.ConnectionAborted);

    public Task<MemberInfo> UpdateMember(JsonElement request) =>
        Membership.UpdateMemberAsync(Actor, RealtimeJson.Bind<UpdateMemberRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> AddToBlocklist(JsonElement request) =>
        Membership.AddToListAsync(Actor, Lists.Block, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> RemoveFromBlocklist(JsonElement request) =>
        Membership.RemoveFromListAsync(Actor, Lists.Block, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> GetBlocklist(JsonElement request) =>
        Membership.GetListAsync(Actor, Lists.Block, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> AddToAllowlist(JsonElement request) =>
        Membership.AddToListAsync(Actor, Lists.Allow, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> RemoveFromAllowlist(JsonElement request) =>
        Membership.RemoveFromListAsync(Actor, Lists.Allow, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<string>> GetAllowlist(JsonElement request) =>
        Membership.GetListAsync(Actor, Lists.Allow, RealtimeJson.Bind<UserListRequest>(request), Context.ConnectionAborted);
}
