using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>Who may act on which member (SPEC §2 kick, mute, blocklist rows and "Further rules").</summary>
public static class MemberRules
{
    /// <summary>Owner + admins ≤ 100.</summary>
    public const int AdminMax = 99;

    public const long MuteSecondsMax = 30L * 24 * 3600;

    public static readonly TimeSpan PendingLifetime = TimeSpan.FromDays(7);

    /// <summary>
    /// Kick, mute, blocklist: the owner acts on admins and members, admins on plain members (or
    /// non-members), nobody on the owner — not even the app admin, so a group always keeps its owner.
    /// </summary>
    public static bool MayManage(MemberRole? caller, MemberRole? target, bool isAppAdmin) =>
        target != MemberRole.Owner && (isAppAdmin || caller switch
        {
            MemberRole.Owner => true,
            MemberRole.Admin => target is null or MemberRole.Member,
            _ => false,
        });

    /// <summary>nameCard and custom: one's own, or another's when one may manage them.</summary>
    public static bool MayEditProfileOf(MemberRole? caller, MemberRole target, bool isSelf, bool isAppAdmin) =>
        isSelf || isAppAdmin || (target != MemberRole.Owner && MayManage(caller, target, false));

    /// <summary>
    /// A personal mute binds anyone it was set on; muteAll spares the owner, admins and the
    /// allowlist (which is what the allowlist is for).
    /// </summary>
    public static bool IsMuted(MemberRow me, bool muteAll, bool allowlisted, DateTime now) =>
        me.MutedUntil > now || (muteAll && me.Role == MemberRole.Member && !allowlisted);
}
