using Dapper;
using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.Admin;

/// <summary>
/// The reads only the app admin makes (all groups of the app, whole member lists); the app
/// admin may read everything, so no rule is involved beyond the app scope in every WHERE.
/// The listings may run on the read replica (ReadRouter); the lookup a command acts on may not.
/// </summary>
public sealed class AdminQueries(Db db, ReadRouter reads)
{
    /// <summary>Live groups after the internal gid <paramref name="afterGid"/>, in gid order (a keyset: stable while groups are created).</summary>
    public async Task<IReadOnlyList<ListedGroup>> GroupsAfterAsync(string appId, long afterGid, int limit, CancellationToken ct)
    {
        return await reads.ReadAsync(async (c, ct) => (await c.QueryAsync<ListedGroup>(new CommandDefinition("""
            SELECT gid, group_id, type, name, owner_id, member_count, disabled, created_at, last_modified
            FROM groups
            WHERE app_id = @appId AND dissolved_at IS NULL AND gid > @afterGid
            ORDER BY gid
            LIMIT @limit
            """, new { appId, afterGid, limit }, cancellationToken: ct))).ToList(), ct);
    }

    /// <summary>The type of a live group, or null when there is none by that id.</summary>
    public async Task<GroupType?> GroupTypeAsync(string appId, string groupId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await GroupRepository.FindAsync(c, appId, groupId, ct))?.Type;
    }

    /// <summary>Members of live groups with their roles: owner first, then admins, then members by joining time.</summary>
    public async Task<ILookup<string, Affiliation>> AffiliationsAsync(string appId, IReadOnlyList<string> groupIds, CancellationToken ct)
    {
        var rows = await reads.ReadAsync((c, ct) => c.QueryAsync<Affiliation>(new CommandDefinition($"""
            SELECT g.group_id, m.user_id, m.role
            FROM groups g JOIN group_members m ON m.gid = g.gid
            WHERE g.app_id = @appId AND g.group_id = ANY(@groupIds) AND g.dissolved_at IS NULL
            ORDER BY g.group_id, {MemberRepository.RoleOrder("m.role")}, m.joined_at, m.user_id
            """, new { appId, groupIds = groupIds.ToArray() }, cancellationToken: ct)), ct);
        return rows.ToLookup(r => r.GroupId, StringComparer.Ordinal);
    }
}

public sealed class ListedGroup
{
    public long Gid { get; init; }
    public string GroupId { get; init; } = "";
    public GroupType Type { get; init; }
    public string Name { get; init; } = "";
    public string OwnerId { get; init; } = "";
    public int MemberCount { get; init; }
    public bool Disabled { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime LastModified { get; init; }
}

public sealed class Affiliation
{
    public string GroupId { get; init; } = "";
    public string UserId { get; init; } = "";
    public MemberRole Role { get; init; }
}
