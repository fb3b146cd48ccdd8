using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>
/// The rules of UpdateMember (SPEC §2 "Further rules", §4), each named after what it protects.
/// The caller's rules run before the target is looked up (SPEC §4 order: role before arguments);
/// the target's after. Each throws the spec's error.
/// </summary>
public static class MemberUpdateRules
{
    /// <summary>msgRecvOption is private to the member: only they (or the app admin) set it.</summary>
    public static void MsgRecvOptionIsTheMembersOwn(bool isSelf, bool isAppAdmin)
    {
        if (!isSelf && !isAppAdmin) throw new RealtimeException(ErrorCode.PermissionDenied, "msgRecvOption is set by the member only");
    }

    /// <summary>Only the owner and admins mute anyone at all.</summary>
    public static void OnlyStaffMute(MemberRole? caller, bool isAppAdmin)
    {
        if (!MemberRules.MayManage(caller, MemberRole.Member, isAppAdmin))
            throw new RealtimeException(ErrorCode.PermissionDenied, "only the owner and admins may mute members");
    }

    /// <summary>A member edits their own nameCard and custom; another's only the owner and admins.</summary>
    public static void OnlyStaffEditOthers(MemberRole? caller, bool isSelf, bool isAppAdmin)
    {
        if (!isSelf && !MemberRules.MayManage(caller, MemberRole.Member, isAppAdmin))
            throw new RealtimeException(ErrorCode.PermissionDenied, "only the owner and admins may edit another member's profile");
    }

    /// <summary>A mute binds only those the caller manages (admins: plain members; nobody: the owner).</summary>
    public static void MuteOnlyThoseYouManage(MemberRole? caller, MemberRow target, bool isAppAdmin)
    {
        if (!MemberRules.MayManage(caller, target.Role, isAppAdmin))
            throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not mute {target.UserId} ({target.Role})");
    }

    /// <summary>Another member's profile only where the caller manages them.</summary>
    public static void EditOnlyThoseYouManage(MemberRole? caller, MemberRow target, bool isSelf, bool isAppAdmin)
    {
        if (!MemberRules.MayEditProfileOf(caller, target.Role, isSelf, isAppAdmin))
            throw new RealtimeException(ErrorCode.PermissionDenied, $"you may not edit the member profile of {target.UserId} ({target.Role})");
    }

    /// <summary>A group has exactly one owner: the role Owner is given and taken only by TransferOwnership.</summary>
    public static void OwnerChangesOnlyByTransfer(MemberRole? requested, MemberRole target)
    {
        if (requested == MemberRole.Owner) throw RealtimeException.Invalid("role", "cannot be Owner: use TransferOwnership");
        if (requested is not null && target == MemberRole.Owner)
            throw RealtimeException.Invalid("role", "the owner's role changes only through TransferOwnership");
    }

    /// <summary>A mute lasts 0 (unmute) to 30 days.</summary>
    public static void MuteWithinLimit(long? seconds)
    {
        if (seconds is < 0 or > MemberRules.MuteSecondsMax)
            throw RealtimeException.Invalid("muteSeconds", $"must be 0-{MemberRules.MuteSecondsMax}");
    }

    /// <summary>Owner + admins ≤ 100.</summary>
    public static void AdminsWithinLimit(GroupRow g)
    {
        if (g.AdminCount >= MemberRules.AdminMax)
            throw new RealtimeException(ErrorCode.AdminLimitReached, $"group {g.GroupId} already has {MemberRules.AdminMax} admins");
    }
}
