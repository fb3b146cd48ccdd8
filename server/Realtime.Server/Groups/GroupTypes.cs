namespace Realtime.Server.Groups;

public enum GroupType { Private, Public, ChatRoom, AVChatRoom, BChatRoom }

public enum ApplyJoinOption { DisableApply, NeedPermission, FreeAccess }

public enum InviteOption { Anyone, AdminsOnly, Disabled }

public enum MemberRole { Owner, Admin, Member }

public enum MsgRecvOption { ReceiveAndNotify, ReceiveNoNotify, Discard }

/// <summary>Who may do a thing, as the cells of SPEC §2 say it.</summary>
public enum Allowed { AnyMember, OwnerAndAdmins, Owner, AppAdminOnly }

/// <summary>The per-type column of SPEC §2: defaults, limits and who may do what.</summary>
public sealed record GroupTypeRules(
    GroupType Type,
    int? DefaultMaxMembers,
    int? MaxMaxMembers,
    bool SearchableByNonMembers,
    ApplyJoinOption DefaultApplyJoinOption,
    bool ApplyJoinOptionFixed,
    InviteOption DefaultInviteOption,
    bool InviteOptionFixed,
    Allowed ModifyProfile,
    bool SupportsAdmins,
    Allowed Dissolve,
    bool CountsTowardJoinedLimit,
    bool OnlyOwnerAndAdminsSend)
{
    public static GroupTypeRules For(GroupType type) => type switch
    {
        GroupType.Private => new(type, 200, 2000, false, ApplyJoinOption.DisableApply, true, InviteOption.Anyone, false,
            Allowed.AnyMember, SupportsAdmins: false, Allowed.AppAdminOnly, true, false),
        GroupType.Public => new(type, 2000, 6000, true, ApplyJoinOption.NeedPermission, false, InviteOption.AdminsOnly, false,
            Allowed.OwnerAndAdmins, true, Allowed.Owner, true, false),
        GroupType.ChatRoom => new(type, 10000, 10000, true, ApplyJoinOption.FreeAccess, false, InviteOption.AdminsOnly, false,
            Allowed.OwnerAndAdmins, true, Allowed.Owner, true, false),
        GroupType.AVChatRoom => new(type, null, null, true, ApplyJoinOption.FreeAccess, false, InviteOption.Disabled, true,
            Allowed.Owner, true, Allowed.Owner, false, false),
        GroupType.BChatRoom => new(type, null, null, true, ApplyJoinOption.FreeAccess, false, InviteOption.Disabled, true,
            Allowed.AppAdminOnly, true, Allowed.AppAdminOnly, false, OnlyOwnerAndAdminsSend: true),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Whether a caller with this role (null = not a member) passes an "allowed" cell.</summary>
    public static bool Permits(Allowed allowed, MemberRole? role, bool isAppAdmin) => isAppAdmin || allowed switch
    {
        Allowed.AnyMember => role is not null,
        Allowed.OwnerAndAdmins => role is MemberRole.Owner or MemberRole.Admin,
        Allowed.Owner => role is MemberRole.Owner,
        _ => false,
    };
}
