using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

public enum InviteOutcome { Joined, Invited, AlreadyMember, Failed }

public enum ApplyOutcome { Joined, Pending }

public enum PendingType { JoinRequest, Invitation }

public enum PendingStatus { Pending, Approved, Rejected, Expired, Canceled }

public sealed record InviteMembersRequest(string? GroupId, IReadOnlyList<string>? UserIds, string? Message = null, string? RequestId = null);

/// <summary>One invitee's outcome; <c>code</c> names the error when the result is Failed.</summary>
public sealed record InviteResult(string UserId, InviteOutcome Result, string? Code = null);

public sealed record ApplyToJoinRequest(string? GroupId, string? Message = null, string? RequestId = null);

public sealed record ApplyResult(ApplyOutcome Result, Guid? PendingId = null);

/// <summary><c>before</c> is a pendingId: items are paged newest first by their time-ordered ids.</summary>
public sealed record GetPendingItemsRequest(int? Limit = null, Guid? Before = null, string? RequestId = null);

public sealed record HandlePendingItemRequest(Guid? PendingId, bool? Approve, string? Reason = null, string? RequestId = null);

/// <summary>A join request or an invitation, as its parties see it.</summary>
public sealed record PendingItem(
    Guid PendingId,
    PendingType Type,
    string GroupId,
    string FromUser,
    string? ToUser,
    string Message,
    PendingStatus Status,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    string? HandledBy,
    DateTime? HandledAt,
    string? Reason);

public sealed record RemoveMembersRequest(string? GroupId, IReadOnlyList<string>? UserIds, string? Reason = null, string? RequestId = null);

public sealed record GetMembersRequest(string? GroupId, int? Offset = null, int? Limit = null, MemberRole? Role = null, string? RequestId = null);

public sealed record MembersResult(int Total, IReadOnlyList<MemberInfo> Members);

/// <summary>A member as others see them; <c>msgRecvOption</c> only for the member themselves (it is private).</summary>
public sealed record MemberInfo(
    string UserId,
    MemberRole Role,
    DateTime JoinedAt,
    DateTime? LastMessageAt,
    string NameCard,
    DateTime? MutedUntil,
    MsgRecvOption? MsgRecvOption,
    string Custom);

public sealed record UpdateMemberRequest(
    string? GroupId,
    string? UserId,
    MemberRole? Role = null,
    long? MuteSeconds = null,
    string? NameCard = null,
    string? Custom = null,
    MsgRecvOption? MsgRecvOption = null,
    string? RequestId = null);

/// <summary>The argument of the blocklist and allowlist methods (userIds unused by the Get methods).</summary>
public sealed record UserListRequest(string? GroupId, IReadOnlyList<string>? UserIds = null, string? RequestId = null);

/// <summary>A pending_items row joined with its group's public id.</summary>
public sealed class PendingRow
{
    public Guid PendingId { get; init; }
    public long Gid { get; init; }
    public PendingType Type { get; init; }
    public string GroupId { get; init; } = "";
    public string FromUser { get; init; } = "";
    public string? ToUser { get; init; }
    public string Message { get; init; } = "";
    public PendingStatus Status { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime ExpiresAt { get; init; }
    public string? HandledBy { get; set; }
    public DateTime? HandledAt { get; set; }
    public string? Reason { get; set; }
    /// <summary>A join request made through an invite link: the link's creator, who becomes the inviter on approval.</summary>
    public string? Inviter { get; init; }

    /// <summary>Expiry is read, not written: a Pending item past its time is Expired.</summary>
    public PendingStatus StatusAt(DateTime now) => Status == PendingStatus.Pending && ExpiresAt <= now ? PendingStatus.Expired : Status;

    public PendingItem ToItem(DateTime now) =>
        new(PendingId, Type, GroupId, FromUser, ToUser, Message, StatusAt(now), CreatedAt, ExpiresAt, HandledBy, HandledAt, Reason);
}

internal static class MemberInfoMapping
{
    public static MemberInfo ToInfo(this MemberRow m, bool showPrivate, DateTime now) =>
        new(m.UserId, m.Role, m.JoinedAt, m.LastMessageAt, m.NameCard, m.MutedUntil > now ? m.MutedUntil : null,
            showPrivate ? m.MsgRecvOption : null, m.Custom);
}
