using System.Text.Json;

namespace Realtime.Client;

// The hub's requests and results (SPEC §4, §9), the client's own copies: camelCase and enums by
// name on the wire. Optional fields are null and left out of the request.

public enum GroupType { Private, Public, ChatRoom, AVChatRoom, BChatRoom }

public enum ApplyJoinOption { DisableApply, NeedPermission, FreeAccess }

public enum InviteOption { Anyone, AdminsOnly, Disabled }

public enum MemberRole { Owner, Admin, Member }

public enum MsgRecvOption { ReceiveAndNotify, ReceiveNoNotify, Discard }

public enum InviteOutcome { Joined, Invited, AlreadyMember, Failed }

public enum ApplyOutcome { Joined, Pending }

public enum PendingType { JoinRequest, Invitation }

public enum PendingStatus { Pending, Approved, Rejected, Expired, Canceled }

// ---- groups
public sealed record GroupInfo(
    string GroupId, GroupType Type, string Name, string Introduction, string Notification, string FaceUrl, string Owner,
    int? MaxMembers, ApplyJoinOption ApplyJoinOption, InviteOption InviteOption, bool InviteNeedsConfirm, bool MuteAll,
    bool Disabled, string Custom, DateTime CreatedAt, DateTime LastModified, int Version, int MemberCount, long LastSeq);

public sealed record PublicGroupInfo(
    string GroupId, GroupType Type, string Name, string FaceUrl, string Introduction, int MemberCount, int? MaxMembers,
    ApplyJoinOption ApplyJoinOption);

public sealed record CreateGroupRequest(
    GroupType Type, string Name, string? GroupId = null, string? Introduction = null, string? Notification = null,
    string? FaceUrl = null, int? MaxMembers = null, ApplyJoinOption? ApplyJoinOption = null, InviteOption? InviteOption = null,
    bool? InviteNeedsConfirm = null, string? Custom = null, IReadOnlyList<string>? Members = null, string? RequestId = null);

public sealed record UpdateGroupProfileRequest(
    string GroupId, string? Name = null, string? Introduction = null, string? Notification = null, string? FaceUrl = null,
    int? MaxMembers = null, ApplyJoinOption? ApplyJoinOption = null, InviteOption? InviteOption = null,
    bool? InviteNeedsConfirm = null, bool? MuteAll = null, string? Custom = null, int? ExpectedVersion = null, string? RequestId = null);

public sealed record FailedGroup(string GroupId, string Code);

public sealed record GetGroupsResult(IReadOnlyList<GroupInfo> Groups, IReadOnlyList<FailedGroup> Failed);

public sealed record GetJoinedGroupsRequest(int? Offset = null, int? Limit = null);

public sealed record JoinedGroup(
    string GroupId, GroupType Type, string Name, string FaceUrl, MemberRole Role, int MemberCount, long LastSeq,
    DateTime JoinedAt, MsgRecvOption MsgRecvOption, string Epoch, long LastReadSeq = 0, long Unread = 0);

public sealed record JoinedGroupsResult(int Total, IReadOnlyList<JoinedGroup> Groups);

// ---- membership
public sealed record InviteMembersRequest(string GroupId, IReadOnlyList<string> UserIds, string? Message = null, string? RequestId = null);

public sealed record InviteResult(string UserId, InviteOutcome Result, string? Code = null);

public sealed record ApplyToJoinRequest(string GroupId, string? Message = null, string? RequestId = null);

public sealed record ApplyResult(ApplyOutcome Result, Guid? PendingId = null);

public sealed record GetPendingItemsRequest(int? Limit = null, Guid? Before = null);

public sealed record HandlePendingItemRequest(Guid PendingId, bool Approve, string? Reason = null, string? RequestId = null);

public sealed record PendingItem(
    Guid PendingId, PendingType Type, string GroupId, string FromUser, string? ToUser, string Message, PendingStatus Status,
    DateTime CreatedAt, DateTime ExpiresAt, string? HandledBy, DateTime? HandledAt, string? Reason);

public sealed record RemoveMembersRequest(string GroupId, IReadOnlyList<string> UserIds, string? Reason = null, string? RequestId = null);

public sealed record GetMembersRequest(string GroupId, int? Offset = null, int? Limit = null, MemberRole? Role = null);

public sealed record MemberInfo(
    string UserId, MemberRole Role, DateTime JoinedAt, DateTime? LastMessageAt, string NameCard, DateTime? MutedUntil,
    MsgRecvOption? MsgRecvOption, string Custom);

public sealed record MembersResult(int Total, IReadOnlyList<MemberInfo> Members);

public sealed record UpdateMemberRequest(
    string GroupId, string UserId, MemberRole? Role = null, long? MuteSeconds = null, string? NameCard = null, string? Custom = null,
    MsgRecvOption? MsgRecvOption = null, string? RequestId = null);

/// <summary>The argument of the blocklist and allowlist methods (<c>UserIds</c> unused by the Get methods).</summary>
public sealed record UserListRequest(string GroupId, IReadOnlyList<string>? UserIds = null, string? RequestId = null);

// ---- messaging and Sync
public sealed record SendMessageRequest(string GroupId, string? Text = null, JsonElement? Payload = null, string? ClientMsgId = null);

public sealed record SendMessageResult(long Seq, Guid MessageId, DateTime SentAt);

/// <summary>One group's Sync cursor: the last seq seen (exclusive) and the epoch of the group incarnation it belongs to.</summary>
public sealed record SyncCursor(long Since, string? Epoch = null);

public sealed record SyncRequest(long SystemSince, IReadOnlyDictionary<string, SyncCursor>? Groups = null, int? Limit = null);

public sealed record SystemSync(IReadOnlyList<SystemMessage> Items, long Next, bool HasMore, bool TooOld);

public sealed record GroupSync(IReadOnlyList<GroupEvent> Items, long Next, bool HasMore, bool Removed, bool TooOld, string? Epoch = null);

public sealed record SyncResult(SystemSync System, IReadOnlyDictionary<string, GroupSync> Groups);

// ---- group state (SPEC §9)
public sealed record AttributeValue(string Value, long Version);

public sealed record SetGroupAttributesRequest(
    string GroupId, IReadOnlyDictionary<string, string>? Set = null, IReadOnlyList<string>? Remove = null,
    IReadOnlyDictionary<string, long>? ExpectedVersions = null, string? RequestId = null);

public sealed record GetGroupAttributesRequest(string GroupId, IReadOnlyList<string>? Keys = null);

public sealed record AttributesResult(IReadOnlyDictionary<string, AttributeValue> Attributes, long Seq);

public sealed record ChangeGroupCountersRequest(
    string GroupId, IReadOnlyDictionary<string, long>? Increment = null, IReadOnlyDictionary<string, long>? Set = null, string? RequestId = null);

public sealed record GetGroupCountersRequest(string GroupId, IReadOnlyList<string>? Keys = null);

public sealed record CountersResult(IReadOnlyDictionary<string, long> Counters, long Seq);

public sealed record MarkReadRequest(string GroupId, long Seq, string? RequestId = null);

public sealed record MarkReadResult(long LastReadSeq, long Unread);

public sealed record GetReadCountRequest(string GroupId, long Seq);

public sealed record ReadCountResult(int Read, int Unread);

public sealed record GetReadMembersRequest(string GroupId, long Seq, bool Read, int? Offset = null, int? Limit = null);

public sealed record ReadMembersResult(int Total, IReadOnlyList<string> UserIds);

public sealed record GetOnlineMembersRequest(string GroupId, int? Offset = null, int? Limit = null);

public sealed record OnlineMembersResult(int Online, IReadOnlyList<string> UserIds);

// ---- history, invite links, search
public sealed record GetMessagesRequest(string GroupId, long? Before = null, int? Limit = null);

/// <summary>Newest first; <c>HasMore</c>: older messages remain (pass the last seq as <c>Before</c>).</summary>
public sealed record MessagesPage(IReadOnlyList<GroupEvent> Items, bool HasMore);

public sealed record InviteLink(
    string Code, string GroupId, string CreatedBy, DateTime CreatedAt, DateTime ExpiresAt, int? MaxUses, int Uses, bool NeedsApproval, bool Revoked);

public sealed record CreateInviteLinkRequest(string GroupId, int? MaxUses = null, long? ExpiresInSeconds = null, bool? NeedsApproval = null, string? RequestId = null);

public sealed record GetInviteLinksRequest(string GroupId);

public sealed record RevokeInviteLinkRequest(string Code, string? RequestId = null);

public sealed record JoinByInviteLinkRequest(string Code, string? Message = null, string? RequestId = null);

public sealed record JoinByInviteLinkResult(ApplyOutcome Result, string GroupId, Guid? PendingId = null);

public sealed record SearchGroupsRequest(string Query, int? Limit = null, string? Cursor = null);

public sealed record SearchGroupsResult(IReadOnlyList<PublicGroupInfo> Groups, string? Cursor = null);

public sealed record SearchMembersRequest(string GroupId, string Query, int? Limit = null);

public sealed record SearchMembersResult(IReadOnlyList<MemberInfo> Members);

// ---- Web Push and identity
public sealed record PushSubscriptionKeys(string P256dh, string Auth);

public sealed record RegisterPushSubscriptionRequest(string Endpoint, PushSubscriptionKeys Keys, string? RequestId = null);

public sealed record UnregisterPushSubscriptionRequest(string Endpoint, string? RequestId = null);

public sealed record PushSubscriptionResult(string Endpoint, bool Changed, int Subscriptions);

public sealed record WebPushKeyResult(string? PublicKey);

public sealed record WhoAmIResult(string AppId, string UserId, string Device);
