using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Realtime.Client;

/// <summary>
/// The hub's methods (SPEC §4, §9), one typed call each. A failure the server names comes as
/// <see cref="RealtimeHubException"/> with its code; calls need a live connection (see <see cref="State"/>).
/// </summary>
public sealed partial class RealtimeClient
{
    // ---- groups
    public Task<GroupInfo> CreateGroupAsync(CreateGroupRequest r, CancellationToken ct = default) => InvokeAsync<GroupInfo>("CreateGroup", [r], ct);

    public Task<GetGroupsResult> GetGroupsAsync(IReadOnlyList<string> groupIds, CancellationToken ct = default) => InvokeAsync<GetGroupsResult>("GetGroups", [groupIds], ct);

    public Task<PublicGroupInfo> SearchGroupAsync(string groupId, CancellationToken ct = default) => InvokeAsync<PublicGroupInfo>("SearchGroup", [groupId], ct);

    public Task<GroupInfo> UpdateGroupProfileAsync(UpdateGroupProfileRequest r, CancellationToken ct = default) => InvokeAsync<GroupInfo>("UpdateGroupProfile", [r], ct);

    public Task DissolveGroupAsync(string groupId, CancellationToken ct = default) => InvokeAsync("DissolveGroup", [groupId], ct);

    public Task TransferOwnershipAsync(string groupId, string newOwnerId, CancellationToken ct = default) => InvokeAsync("TransferOwnership", [groupId, newOwnerId], ct);

    public Task<JoinedGroupsResult> GetJoinedGroupsAsync(GetJoinedGroupsRequest? r = null, CancellationToken ct = default) =>
        InvokeAsync<JoinedGroupsResult>("GetJoinedGroups", [r ?? new GetJoinedGroupsRequest()], ct);

    // ---- membership
    public Task<IReadOnlyList<InviteResult>> InviteMembersAsync(InviteMembersRequest r, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<InviteResult>>("InviteMembers", [r], ct);

    public Task<ApplyResult> ApplyToJoinAsync(ApplyToJoinRequest r, CancellationToken ct = default) => InvokeAsync<ApplyResult>("ApplyToJoin", [r], ct);

    public Task<IReadOnlyList<PendingItem>> GetPendingItemsAsync(GetPendingItemsRequest? r = null, CancellationToken ct = default) =>
        InvokeAsync<IReadOnlyList<PendingItem>>("GetPendingItems", [r ?? new GetPendingItemsRequest()], ct);

    public Task<PendingItem> HandlePendingItemAsync(HandlePendingItemRequest r, CancellationToken ct = default) => InvokeAsync<PendingItem>("HandlePendingItem", [r], ct);

    public Task RemoveMembersAsync(RemoveMembersRequest r, CancellationToken ct = default) => InvokeAsync("RemoveMembers", [r], ct);

    public Task QuitGroupAsync(string groupId, CancellationToken ct = default) => InvokeAsync("QuitGroup", [groupId], ct);

    public Task<MembersResult> GetMembersAsync(GetMembersRequest r, CancellationToken ct = default) => InvokeAsync<MembersResult>("GetMembers", [r], ct);

    public Task<MemberInfo> UpdateMemberAsync(UpdateMemberRequest r, CancellationToken ct = default) => InvokeAsync<MemberInfo>("UpdateMember", [r], ct);

    public Task<IReadOnlyList<string>> AddToBlocklistAsync(UserListRequest r, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<string>>("AddToBlocklist", [r], ct);

    public Task<IReadOnlyList<string>> RemoveFromBlocklistAsync(UserListRequest r, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<string>>("RemoveFromBlocklist", [r], ct);

    public Task<IReadOnlyList<string>> GetBlocklistAsync(string groupId, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<string>>("GetBlocklist", [new UserListRequest(groupId)], ct);

    public Task<IReadOnlyList<string>> AddToAllowlistAsync(UserListRequest r, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<string>>("AddToAllowlist", [r], ct);

    public Task<IReadOnlyList<string>> RemoveFromAllowlistAsync(UserListRequest r, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<string>>("RemoveFromAllowlist", [r], ct);

    public Task<IReadOnlyList<string>> GetAllowlistAsync(string groupId, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<string>>("GetAllowlist", [new UserListRequest(groupId)], ct);

    // ---- messaging
    public Task<SendMessageResult> SendMessageAsync(SendMessageRequest r, CancellationToken ct = default) => InvokeAsync<SendMessageResult>("SendMessage", [r], ct);

    /// <summary>Sends a text message with a fresh clientMsgId (a retry of the same request is then applied once).</summary>
    public Task<SendMessageResult> SendTextAsync(string groupId, string text, CancellationToken ct = default) =>
        SendMessageAsync(new SendMessageRequest(groupId, text, ClientMsgId: Guid.NewGuid().ToString("N")), ct);

    /// <summary>The raw Sync call. The client already syncs its streams and delivers the result as events; this is for tools.</summary>
    public Task<SyncResult> SyncAsync(SyncRequest r, CancellationToken ct = default) => InvokeAsync<SyncResult>("Sync", [r], ct);

    // ---- group state
    public Task<AttributesResult> SetGroupAttributesAsync(SetGroupAttributesRequest r, CancellationToken ct = default) => InvokeAsync<AttributesResult>("SetGroupAttributes", [r], ct);

    public Task<AttributesResult> GetGroupAttributesAsync(GetGroupAttributesRequest r, CancellationToken ct = default) => InvokeAsync<AttributesResult>("GetGroupAttributes", [r], ct);

    public Task<CountersResult> ChangeGroupCountersAsync(ChangeGroupCountersRequest r, CancellationToken ct = default) => InvokeAsync<CountersResult>("ChangeGroupCounters", [r], ct);

    public Task<CountersResult> GetGroupCountersAsync(GetGroupCountersRequest r, CancellationToken ct = default) => InvokeAsync<CountersResult>("GetGroupCounters", [r], ct);

    public Task<MarkReadResult> MarkReadAsync(MarkReadRequest r, CancellationToken ct = default) => InvokeAsync<MarkReadResult>("MarkRead", [r], ct);

    public Task<ReadCountResult> GetReadCountAsync(GetReadCountRequest r, CancellationToken ct = default) => InvokeAsync<ReadCountResult>("GetReadCount", [r], ct);

    public Task<ReadMembersResult> GetReadMembersAsync(GetReadMembersRequest r, CancellationToken ct = default) => InvokeAsync<ReadMembersResult>("GetReadMembers", [r], ct);

    public Task<OnlineMembersResult> GetOnlineMembersAsync(GetOnlineMembersRequest r, CancellationToken ct = default) => InvokeAsync<OnlineMembersResult>("GetOnlineMembers", [r], ct);

    // ---- history, invite links, search
    public Task<MessagesPage> GetMessagesAsync(GetMessagesRequest r, CancellationToken ct = default) => InvokeAsync<MessagesPage>("GetMessages", [r], ct);

    public Task<InviteLink> CreateInviteLinkAsync(CreateInviteLinkRequest r, CancellationToken ct = default) => InvokeAsync<InviteLink>("CreateInviteLink", [r], ct);

    public Task<IReadOnlyList<InviteLink>> GetInviteLinksAsync(GetInviteLinksRequest r, CancellationToken ct = default) => InvokeAsync<IReadOnlyList<InviteLink>>("GetInviteLinks", [r], ct);

    public Task<InviteLink> RevokeInviteLinkAsync(RevokeInviteLinkRequest r, CancellationToken ct = default) => InvokeAsync<InviteLink>("RevokeInviteLink", [r], ct);

    public Task<JoinByInviteLinkResult> JoinByInviteLinkAsync(JoinByInviteLinkRequest r, CancellationToken ct = default) => InvokeAsync<JoinByInviteLinkResult>("JoinByInviteLink", [r], ct);

    public Task<SearchGroupsResult> SearchGroupsAsync(SearchGroupsRequest r, CancellationToken ct = default) => InvokeAsync<SearchGroupsResult>("SearchGroups", [r], ct);

    public Task<SearchMembersResult> SearchMembersAsync(SearchMembersRequest r, CancellationToken ct = default) => InvokeAsync<SearchMembersResult>("SearchMembers", [r], ct);

    // ---- Web Push and identity
    public Task<PushSubscriptionResult> RegisterPushSubscriptionAsync(RegisterPushSubscriptionRequest r, CancellationToken ct = default) =>
        InvokeAsync<PushSubscriptionResult>("RegisterPushSubscription", [r], ct);

    public Task<PushSubscriptionResult> UnregisterPushSubscriptionAsync(UnregisterPushSubscriptionRequest r, CancellationToken ct = default) =>
        InvokeAsync<PushSubscriptionResult>("UnregisterPushSubscription", [r], ct);

    public Task<WebPushKeyResult> GetWebPushKeyAsync(CancellationToken ct = default) => InvokeAsync<WebPushKeyResult>("GetWebPushKey", [], ct);

    public Task<WhoAmIResult> WhoAmIAsync(CancellationToken ct = default) => InvokeAsync<WhoAmIResult>("WhoAmI", [], ct);

    private async Task<T> InvokeAsync<T>(string method, object?[] args, CancellationToken ct)
    {
        try
        {
            return await _hub.InvokeCoreAsync<T>(method, args, ct);
        }
        catch (HubException e)
        {
            throw RealtimeHubException.From(e);
        }
    }

    private async Task InvokeAsync(string method, object?[] args, CancellationToken ct)
    {
        try
        {
            await _hub.InvokeCoreAsync(method, args, ct);
        }
        catch (HubException e)
        {
            throw RealtimeHubException.From(e);
        }
    }
}
