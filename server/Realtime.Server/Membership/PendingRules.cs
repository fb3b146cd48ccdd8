using Realtime.Server.Commands;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>How a caller stands to a pending item.</summary>
public enum PendingParty
{
    /// <summary>Not a party: the item is not revealed (PendingNotFound).</summary>
    None,
    /// <summary>May read it but not handle it (PermissionDenied): the applicant, the inviter.</summary>
    Reader,
    /// <summary>Handles it: the owner and admins for a join request, the invitee for an invitation, the app admin.</summary>
    Handler,
}

/// <summary>A pending item is visible to and handled by its parties only (SPEC §4), so its existence never leaks.</summary>
public static class PendingRules
{
    public static PendingParty PartyOf(PendingType type, string fromUser, string? toUser, MemberRole? callerRole, string? caller, bool isAppAdmin)
    {
        var handles = isAppAdmin || (type == PendingType.JoinRequest
            ? callerRole is MemberRole.Owner or MemberRole.Admin
            : caller is not null && toUser == caller);
        if (handles) return PendingParty.Handler;
        return caller is not null && fromUser == caller ? PendingParty.Reader : PendingParty.None;
    }

    public static PendingParty PartyOf(PendingRow item, MemberRole? callerRole, Actor actor) =>
        PartyOf(item.Type, item.FromUser, item.ToUser, callerRole, actor.UserId, actor.IsAppAdmin);
}
