using Dapper;
using Npgsql;
using Realtime.Server.Commands;
using Realtime.Server.Membership;

namespace Realtime.Server.Groups;

/// <summary>The SQL of the groups table. Commands pass their scope; reads a connection and a token.</summary>
public static class GroupRepository
{
    private const string GroupColumns = """
        gid, app_id, group_id, type, name, introduction, notification, face_url, owner_id, max_members,
        apply_join_option, invite_option, invite_needs_confirm, mute_all, disabled, custom, created_at,
        last_modified, version, member_count, admin_count, last_seq, epoch
        """;

    /// <summary>
    /// The live group, locked: every invariant spanning its rows is checked under this lock. The
    /// acting users' member rows and block/allowlist entries come in the same round trip (read after
    /// the lock is granted). A
    /// transaction that holds the lock already (commands batched by GroupCommit) gets its current row.
    /// </summary>
    public static async Task<GroupRow?> LockAsync(CommandScope s, string groupId)
    {
        if (s.Effects.Locked(groupId) is { } held) return held;
        var actors = s.Effects.Actors.ToArray();
        await using var reader = await s.Connection.QueryMultipleAsync(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups
            WHERE app_id = @AppId AND group_id = @groupId AND dissolved_at IS NULL
            FOR UPDATE;
            {MemberRepository.OfActorsSql};
            {UserListRepository.OfActorsSql};
            """, new { s.AppId, groupId, actors }, s.Transaction));
        var g = await reader.ReadSingleOrDefaultAsync<GroupRow>();
        var members = await reader.ReadAsync<MemberRow>();
        var listed = await reader.ReadAsync<(UserList List, string UserId)>();
        if (g is not null)
        {
            s.Effects.RememberMembers(g.Gid, actors, members);
            s.Effects.RememberListed(g.Gid, actors, listed);
        }
        return Held(s, g);
    }

    /// <summary>As <see cref="LockAsync"/>, by internal id (pending items know their group by gid).</summary>
    public static async Task<GroupRow?> LockByGidAsync(CommandScope s, long gid) =>
        s.Effects.LockedByGid(gid) ?? Held(s, await s.Connection.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups
            WHERE app_id = @AppId AND gid = @gid AND dissolved_at IS NULL
            FOR UPDATE
            """, new { s.AppId, gid }, s.Transaction)));

    /// <summary>A row this transaction has locked: its last_seq counts the events appended but not yet written.</summary>
    private static GroupRow? Held(CommandScope s, GroupRow? g)
    {
        if (g is null) return null;
        g.LastSeq = Math.Max(g.LastSeq, s.Effects.BufferedLastSeq(g.Gid));
        return s.Effects.RememberLocked(g);
    }

    public static Task<GroupRow?> FindAsync(NpgsqlConnection c, string appId, string groupId, CancellationToken ct) =>
        c.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups WHERE app_id = @appId AND group_id = @groupId AND dissolved_at IS NULL
            """, new { appId, groupId }, cancellationToken: ct));

    public static async Task<IReadOnlyList<GroupRow>> FindManyAsync(NpgsqlConnection c, string appId, IReadOnlyList<string> groupIds, CancellationToken ct) =>
        (await c.QueryAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups WHERE app_id = @appId AND group_id = ANY(@groupIds) AND dissolved_at IS NULL
            """, new { appId, groupIds = groupIds.ToArray() }, cancellationToken: ct))).ToList();

    /// <summary>Inserts the group unless its id is live already (then null: GroupIdTaken).</summary>
    public static Task<long?> InsertAsync(CommandScope s, GroupRow g) =>
        s.Connection.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO groups (app_id, group_id, type, name, introduction, notification, face_url, owner_id, max_members,
                apply_join_option, invite_option, invite_needs_confirm, mute_all, custom, created_at, last_modified,
                version, member_count, admin_count, last_seq, epoch)
            VALUES (@AppId, @GroupId, @Type, @Name, @Introduction, @Notification, @FaceUrl, @OwnerId, @MaxMembers,
                @ApplyJoinOption, @InviteOption, @InviteNeedsConfirm, false, @Custom, @CreatedAt, @LastModified,
                1, @MemberCount, 0, 0, @Epoch)
            ON CONFLICT (app_id, group_id) WHERE dissolved_at IS NULL DO NOTHING
            RETURNING gid
            """, new
        {
            g.AppId, g.GroupId, Type = g.Type.ToString(), g.Name, g.Introduction, g.Notification, g.FaceUrl, g.OwnerId,
            g.MaxMembers, ApplyJoinOption = g.ApplyJoinOption.ToString(), InviteOption = g.InviteOption.ToString(),
            g.InviteNeedsConfirm, g.Custom, g.CreatedAt, g.LastModified, g.MemberCount, g.Epoch,
        }, s.Transaction));

    /// <summary>Member counts (@groupGids, @memberCounts) written with the joins that raised them (MemberRepository.FlushJoinsAsync).</summary>
    public const string SaveMemberCountsSql = """
        UPDATE groups SET member_count = x.member_count FROM unnest(@groupGids, @memberCounts) AS x(gid, member_count) WHERE groups.gid = x.gid
        """;

    /// <summary>Writes every mutable column of the group row back.</summary>
    public static Task SaveAsync(CommandScope s, GroupRow g) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE groups SET name = @Name, introduction = @Introduction, notification = @Notification, face_url = @FaceUrl,
                owner_id = @OwnerId, max_members = @MaxMembers, apply_join_option = @ApplyJoinOption,
                invite_option = @InviteOption, invite_needs_confirm = @InviteNeedsConfirm, mute_all = @MuteAll,
                disabled = @Disabled, custom = @Custom, last_modified = @LastModified, version = @Version,
                member_count = @MemberCount, admin_count = @AdminCount
            WHERE gid = @Gid
            """, new
        {
            g.Gid, g.Name, g.Introduction, g.Notification, g.FaceUrl, g.OwnerId, g.MaxMembers,
            ApplyJoinOption = g.ApplyJoinOption.ToString(), InviteOption = g.InviteOption.ToString(), g.InviteNeedsConfirm,
            g.MuteAll, g.Disabled, g.Custom, g.LastModified, g.Version, g.MemberCount, g.AdminCount,
        }, s.Transaction));

    /// <summary>The group is gone (its id free again); open pending items with it.</summary>
    public static async Task MarkDissolvedAsync(CommandScope s, GroupRow g)
    {
        await MemberRepository.FlushJoinsAsync(s);
        s.Effects.Forget(g);
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE groups SET dissolved_at = @Now, member_count = 0, admin_count = 0 WHERE gid = @Gid;
            UPDATE pending_items SET status = 'Canceled', handled_at = @Now WHERE gid = @Gid AND status = 'Pending';
            """, new { g.Gid, s.Now }, s.Transaction));
    }
}
