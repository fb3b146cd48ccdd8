using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>Block- and allowlists (SPEC §2): kept by the owner and admins; blocklisting removes a member.</summary>
public sealed class UserListCommands(CommandRunner runner, Db db, MembershipChanges membership)
{
    public Task<IReadOnlyList<string>> AddAsync(Actor actor, UserList list, UserListRequest r, CancellationToken ct = default) =>
        ChangeAsync(actor, list, r, add: true, ct);

    public Task<IReadOnlyList<string>> RemoveAsync(Actor actor, UserList list, UserListRequest r, CancellationToken ct = default) =>
        ChangeAsync(actor, list, r, add: false, ct);

    public async Task<IReadOnlyList<string>> GetAsync(Actor actor, UserList list, UserListRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        Validate.RequestId(r.RequestId);
        await using var c = await db.OpenAsync(ct);
        var (g, me) = await Access.ReadAsync(c, actor, groupId, ct);
        Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, $"read the {Name(list)}");
        return await UserListRepository.AllAsync(c, list, g.Gid, ct);
    }

    private async Task<IReadOnlyList<string>> ChangeAsync(Actor actor, UserList list, UserListRequest r, bool add, CancellationToken ct)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var requestId = Validate.RequestId(r.RequestId);
        var method = (add ? "AddTo" : "RemoveFrom") + list;
        return await runner.RunAsync(actor, method, requestId, async s =>
        {
            var (g, me) = await Access.LockAsync(s, groupId);
            Access.RequireAllowed(Allowed.OwnerAndAdmins, me, actor, $"change the {Name(list)}");
            var users = Validate.UserIds(r.UserIds, "userIds");

            if (!add)
                await UserListRepository.RemoveAsync(s, list, g.Gid, users);
            else if (list == UserList.Allowlist)
                await UserListRepository.AddAsync(s, list, g.Gid, users);
            else
            {
                // Blocklisting removes a member, so it follows the kick rules.
                var members = await MemberRepository.AmongAsync(s, g.Gid, users);
                foreach (var u in users)
                {
                    MemberRole? role = members.TryGetValue(u, out var m) ? m.Role : null;
                    if (!MemberRules.MayManage(me?.Role, role, actor.IsAppAdmin))
                        throw new Errors.RealtimeException(Errors.ErrorCode.PermissionDenied, $"you may not blocklist {u} ({role})");
                }
                await UserListRepository.AddAsync(s, list, g.Gid, users);
                await PendingRepository.CancelOfAsync(s, g.Gid, users);
                if (members.Count > 0) await membership.LeaveAsync(s, g, members.Values.ToList(), Departure.Kicked);
            }
            return await UserListRepository.AllAsync(s, list, g.Gid);
        }, ct);
    }

    /// <summary>As messages name the list: "blocklist", "allowlist".</summary>
    private static string Name(UserList list) => list.ToString().ToLowerInvariant();
}
