using Npgsql;
using Realtime.Server.Commands;
using Realtime.Server.Errors;
using Realtime.Server.Membership;

namespace Realtime.Server.Groups;

/// <summary>The first checks of SPEC §4, in its order: exists → member → not disabled.</summary>
public static class Access
{
    /// <summary>For a command: locks the live group, then exists → member → enabled, in SPEC order.</summary>
    public static async Task<(GroupRow Group, MemberRow? Me)> LockAsync(CommandScope s, string groupId)
    {
        var g = RequireGroup(await GroupRepository.LockAsync(s, groupId), groupId);
        var me = await MemberRepository.FindAsync(s, g.Gid, s.Actor.UserId);
        RequireMember(g, me, s.Actor);
        return (g, me);
    }

    /// <summary>For a read: the group exists and the caller may read it (disabled groups still serve reads).</summary>
    public static async Task<(GroupRow Group, MemberRow? Me)> ReadAsync(NpgsqlConnection c, Actor actor, string groupId, CancellationToken ct)
    {
        var g = RequireGroup(await GroupRepository.FindAsync(c, actor.AppId, groupId, ct), groupId);
        var me = await MemberRepository.FindAsync(c, g.Gid, actor.UserId, ct);
        RequireMember(g, me, actor, isRead: true);
        return (g, me);
    }

    public static GroupRow RequireGroup(GroupRow? group, string groupId) =>
        group ?? throw new RealtimeException(ErrorCode.GroupNotFound, $"group {groupId} does not exist");

    /// <summary>
    /// Non-members are refused (a Private group looks like it does not exist); the app admin
    /// passes. Disabled groups refuse everyone but the app admin unless the action is a read.
    /// </summary>
    public static void RequireMember(GroupRow group, MemberRow? me, Actor actor, bool isRead = false)
    {
        if (me is null && !actor.IsAppAdmin)
        {
            if (group.Type == GroupType.Private)
                throw new RealtimeException(ErrorCode.GroupNotFound, $"group {group.GroupId} does not exist");
            throw new RealtimeException(ErrorCode.NotMember, $"you are not a member of group {group.GroupId}");
        }
        RequireEnabled(group, actor, isRead);
    }

    public static void RequireEnabled(GroupRow group, Actor actor, bool isRead = false)
    {
        if (group.Disabled && !actor.IsAppAdmin && !isRead)
            throw new RealtimeException(ErrorCode.GroupDisabled, $"group {group.GroupId} is disabled");
    }

    public static void RequireAllowed(Allowed allowed, MemberRow? me, Actor actor, string what)
    {
        if (!GroupTypeRules.Permits(allowed, me?.Role, actor.IsAppAdmin))
            throw new RealtimeException(ErrorCode.PermissionDenied, allowed switch
            {
                Allowed.AppAdminOnly => $"only the app admin may {what}",
                Allowed.Owner => $"only the owner may {what}",
                Allowed.OwnerAndAdmins => $"only the owner and admins may {what}",
                _ => $"only members may {what}",
            });
    }
}
