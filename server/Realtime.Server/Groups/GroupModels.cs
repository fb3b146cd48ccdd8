using System.Text.Json.Serialization;

namespace Realtime.Server.Groups;

/// <summary>A group's full profile, as members see it.</summary>
public sealed record GroupInfo(
    string GroupId,
    GroupType Type,
    string Name,
    string Introduction,
    string Notification,
    string FaceUrl,
    string Owner,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? MaxMembers,
    ApplyJoinOption ApplyJoinOption,
    InviteOption InviteOption,
    bool InviteNeedsConfirm,
    bool MuteAll,
    bool Disabled,
    string Custom,
    DateTime CreatedAt,
    DateTime LastModified,
    int Version,
    int MemberCount,
    long LastSeq);

/// <summary>What non-members may see of a non-Private group.</summary>
public sealed record PublicGroupInfo(
    string GroupId,
    GroupType Type,
    string Name,
    string FaceUrl,
    string Introduction,
    int MemberCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? MaxMembers,
    ApplyJoinOption ApplyJoinOption);

public sealed record CreateGroupRequest(
    GroupType? Type,
    string? Name,
    string? GroupId = null,
    string? Introduction = null,
    string? Notification = null,
    string? FaceUrl = null,
    int? MaxMembers = null,
    ApplyJoinOption? ApplyJoinOption = null,
    InviteOption? InviteOption = null,
    bool? InviteNeedsConfirm = null,
    string? Custom = null,
    IReadOnlyList<string>? Members = null,
    string? RequestId = null);

public sealed record UpdateGroupProfileRequest(
    string? GroupId,
    string? Name = null,
    string? Introduction = null,
    string? Notification = null,
    string? FaceUrl = null,
    int? MaxMembers = null,
    ApplyJoinOption? ApplyJoinOption = null,
    InviteOption? InviteOption = null,
    bool? InviteNeedsConfirm = null,
    bool? MuteAll = null,
    string? Custom = null,
    int? ExpectedVersion = null,
    string? RequestId = null);

public sealed record GetGroupsResult(IReadOnlyList<GroupInfo> Groups, IReadOnlyList<FailedGroup> Failed);

public sealed record FailedGroup(string GroupId, string Code);

/// <summary>A read: <c>requestId</c> is accepted (SPEC §4: every object argument may carry one) and ignored.</summary>
public sealed record GetJoinedGroupsRequest(int? Offset = null, int? Limit = null, string? RequestId = null);

public sealed record JoinedGroup(
    string GroupId, GroupType Type, string Name, string FaceUrl, MemberRole Role, int MemberCount, long LastSeq,
    DateTime JoinedAt, MsgRecvOption MsgRecvOption, string Epoch, long LastReadSeq = 0, long Unread = 0);

public sealed record JoinedGroupsResult(int Total, IReadOnlyList<JoinedGroup> Groups);

/// <summary>A groups row as commands read it (under its lock).</summary>
public sealed class GroupRow : Commands.IGroupLog
{
    public long Gid { get; set; }
    public string AppId { get; init; } = "";
    public string GroupId { get; init; } = "";
    public GroupType Type { get; init; }
    public string Name { get; set; } = "";
    public string Introduction { get; set; } = "";
    public string Notification { get; set; } = "";
    public string FaceUrl { get; set; } = "";
    public string OwnerId { get; set; } = "";
    public int? MaxMembers { get; set; }
    public ApplyJoinOption ApplyJoinOption { get; set; }
    public InviteOption InviteOption { get; set; }
    public bool InviteNeedsConfirm { get; set; }
    public bool MuteAll { get; set; }
    public bool Disabled { get; set; }
    public string Custom { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime LastModified { get; set; }
    public int Version { get; set; }
    public int MemberCount { get; set; }
    public int AdminCount { get; set; }
    public long LastSeq { get; set; }
    /// <summary>This incarnation's opaque epoch (SPEC §4; see GroupEpoch).</summary>
    public string Epoch { get; set; } = "";

    public GroupTypeRules Rules => GroupTypeRules.For(Type);

    public GroupInfo ToInfo() => new(GroupId, Type, Name, Introduction, Notification, FaceUrl, OwnerId, MaxMembers,
        ApplyJoinOption, InviteOption, InviteNeedsConfirm, MuteAll, Disabled, Custom, CreatedAt, LastModified, Version,
        MemberCount, LastSeq);

    public PublicGroupInfo ToPublic() =>
        new(GroupId, Type, Name, FaceUrl, Introduction, MemberCount, MaxMembers, ApplyJoinOption);
}

/// <summary>A group_members row.</summary>
public sealed class MemberRow
{
    public string UserId { get; init; } = "";
    public MemberRole Role { get; set; }
    public DateTime JoinedAt { get; init; }
    public long JoinSeq { get; init; }
    public DateTime? LastMessageAt { get; set; }
    public string NameCard { get; set; } = "";
    public DateTime? MutedUntil { get; set; }
    public MsgRecvOption MsgRecvOption { get; set; }
    public string Custom { get; set; } = "";
}
