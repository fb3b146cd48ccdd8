using Dapper;
using Npgsql;
using Realtime.Server.Delivery;

namespace Realtime.Server.Groups;

/// <summary>The SQL of groups and their members. Every method runs inside the command's transaction.</summary>
public static class GroupRepository
{
    private const string GroupColumns = """
        gid, app_id, group_id, type, name, introduction, notification, face_url, owner_id, max_members,
        apply_join_option, invite_option, invite_needs_confirm, mute_all, disabled, custom, created_at,
        last_modified, version, member_count, admin_count, last_seq, epoch
        """;

    /// <summary>The group_members columns a MemberRow is read from.</summary>
    public const string MemberColumns = """
        user_id, role, joined_at, join_seq, last_message_at, name_card, muted_until, msg_recv_option, custom
        """;

    /// <summary>Members are listed owner first, then admins, then the rest.</summary>
    public static string RoleOrder(string column) => $"CASE {column} WHEN 'Owner' THEN 0 WHEN 'Admin' THEN 1 ELSE 2 END";

    /// <summary>The live group, locked: every invariant spanning its rows is checked under this lock.</summary>
    public static Task<GroupRow?> LockAsync(CommandScope s, string groupId) =>
        s.Connection.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups
            WHERE app_id = @AppId AND group_id = @groupId AND dissolved_at IS NULL
            FOR UPDATE
            """, new { s.AppId, groupId }, s.Transaction));

    /// <summary>As <see cref="LockAsync"/>, by internal id (pending items know their group by gid).</summary>
    public static Task<GroupRow?> LockByGidAsync(CommandScope s, long gid) =>
        s.Connection.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups
            WHERE app_id = @AppId AND gid = @gid AND dissolved_at IS NULL
            FOR UPDATE
            """, new { s.AppId, gid }, s.Transaction));

    public static Task<GroupRow?> FindAsync(NpgsqlConnection c, string appId, string groupId) =>
        c.QuerySingleOrDefaultAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups WHERE app_id = @appId AND group_id = @groupId AND dissolved_at IS NULL
            """, new { appId, groupId }));

    public static async Task<IReadOnlyList<GroupRow>> FindManyAsync(NpgsqlConnection c, string appId, IReadOnlyList<string> groupIds) =>
        (await c.QueryAsync<GroupRow>(new CommandDefinition($"""
            SELECT {GroupColumns} FROM groups WHERE app_id = @appId AND group_id = ANY(@groupIds) AND dissolved_at IS NULL
            """, new { appId, groupIds = groupIds.ToArray() }))).ToList();

    public static Task<MemberRow?> MemberAsync(NpgsqlConnection c, NpgsqlTransaction? tx, long gid, string? userId) =>
        userId is null
            ? Task.FromResult<MemberRow?>(null)
            : c.QuerySingleOrDefaultAsync<MemberRow>(new CommandDefinition($"""
                SELECT {MemberColumns} FROM group_members WHERE gid = @gid AND user_id = @userId
                """, new { gid, userId }, tx));

    /// <summary>Which of these groups (by gid) the user is a member of.</summary>
    public static async Task<HashSet<long>> MembershipsAsync(NpgsqlConnection c, IReadOnlyList<long> gids, string userId) =>
        (await c.QueryAsync<long>(new CommandDefinition(
            "SELECT gid FROM group_members WHERE gid = ANY(@gids) AND user_id = @userId",
            new { gids = gids.ToArray(), userId }))).ToHashSet();

    public static async Task<IReadOnlyList<string>> MemberIdsAsync(CommandScope s, long gid) =>
        (await s.Connection.QueryAsync<string>(new CommandDefinition(
            "SELECT user_id FROM group_members WHERE gid = @gid ORDER BY user_id", new { gid }, s.Transaction))).ToList();

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

    /// <summary>
    /// Locks the users' rows (created when missing) in id order and answers their joined-group
    /// counts. Taken before a command adds memberships, so JoinedGroupLimit holds under races.
    /// </summary>
    public static async Task<Dictionary<string, int>> LockUsersAsync(CommandScope s, IReadOnlyCollection<string> userIds)
    {
        var users = userIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var rows = await s.Connection.QueryAsync<(string UserId, int JoinedCount)>(new CommandDefinition("""
            INSERT INTO users (app_id, user_id) SELECT @AppId, u FROM unnest(@users) AS u ORDER BY u
            ON CONFLICT (app_id, user_id) DO UPDATE SET joined_count = users.joined_count
            RETURNING user_id, joined_count
            """, new { s.AppId, users }, s.Transaction));
        return rows.ToDictionary(r => r.UserId, r => r.JoinedCount, StringComparer.Ordinal);
    }

    public static Task AdjustJoinedCountAsync(CommandScope s, IReadOnlyCollection<string> userIds, int delta) =>
        userIds.Count == 0
            ? Task.CompletedTask
            : s.Connection.ExecuteAsync(new CommandDefinition("""
                UPDATE users SET joined_count = joined_count + @delta WHERE app_id = @AppId AND user_id = ANY(@users)
                """, new { s.AppId, users = userIds.ToArray(), delta }, s.Transaction));

    /// <summary>Adds members and opens their log windows at the group's current seq.</summary>
    public static Task AddMembersAsync(CommandScope s, GroupRow g, IReadOnlyList<(string UserId, MemberRole Role)> members) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq)
            SELECT @Gid, @AppId, u, r, @Now, @LastSeq FROM unnest(@users, @roles) AS x(u, r);
            INSERT INTO member_windows (gid, app_id, user_id, from_seq)
            SELECT @Gid, @AppId, u, @LastSeq FROM unnest(@users) AS u
            ON CONFLICT (gid, user_id, from_seq) DO UPDATE SET to_seq = NULL;
            """, new
        {
            g.Gid, s.AppId, s.Now, g.LastSeq,
            users = members.Select(m => m.UserId).ToArray(),
            roles = members.Select(m => m.Role.ToString()).ToArray(),
        }, s.Transaction));

    /// <summary>Removes members and closes their log windows at the removing event's seq.</summary>
    public static Task RemoveMembersAsync(CommandScope s, GroupRow g, IReadOnlyList<string> userIds, long removedAtSeq) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM group_members WHERE gid = @Gid AND user_id = ANY(@users);
            UPDATE member_windows SET to_seq = @removedAtSeq WHERE gid = @Gid AND user_id = ANY(@users) AND to_seq IS NULL;
            """, new { g.Gid, users = userIds.ToArray(), removedAtSeq }, s.Transaction));

    public static Task SetRoleAsync(CommandScope s, long gid, string userId, MemberRole role) =>
        s.Connection.ExecuteAsync(new CommandDefinition(
            "UPDATE group_members SET role = @role WHERE gid = @gid AND user_id = @userId",
            new { gid, userId, role = role.ToString() }, s.Transaction));

    public static Task MarkDissolvedAsync(CommandScope s, GroupRow g) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE groups SET dissolved_at = @Now, member_count = 0, admin_count = 0 WHERE gid = @Gid;
            UPDATE pending_items SET status = 'Canceled', handled_at = @Now WHERE gid = @Gid AND status = 'Pending';
            """, new { g.Gid, s.Now }, s.Transaction));

    public static async Task<JoinedGroupsResult> JoinedAsync(NpgsqlConnection c, string appId, string userId, int offset, int limit)
    {
        var args = new { appId, userId, offset, limit };
        var total = await c.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM group_members WHERE app_id = @appId AND user_id = @userId", args));
        var rows = await c.QueryAsync<JoinedRow>(new CommandDefinition("""
            SELECT g.group_id, g.type, g.name, g.face_url, m.role, g.member_count, g.last_seq, m.joined_at, m.msg_recv_option, g.epoch
            FROM group_members m JOIN groups g ON g.gid = m.gid
            WHERE m.app_id = @appId AND m.user_id = @userId
            ORDER BY m.joined_at, g.group_id
            OFFSET @offset LIMIT @limit
            """, args));
        return new JoinedGroupsResult(total, rows.Select(r => new JoinedGroup(
            r.GroupId, r.Type, r.Name, r.FaceUrl, r.Role, r.MemberCount, r.LastSeq, r.JoinedAt, r.MsgRecvOption, r.Epoch)).ToList());
    }

    private sealed class JoinedRow
    {
        public string GroupId { get; init; } = "";
        public GroupType Type { get; init; }
        public string Name { get; init; } = "";
        public string FaceUrl { get; init; } = "";
        public MemberRole Role { get; init; }
        public int MemberCount { get; init; }
        public long LastSeq { get; init; }
        public DateTime JoinedAt { get; init; }
        public MsgRecvOption MsgRecvOption { get; init; }
        public string Epoch { get; init; } = "";
    }

    /// <summary>The groups (internal ids) whose live channels a user's terminals belong to.</summary>
    public static async Task<IReadOnlyList<long>> GidsOfAsync(NpgsqlConnection c, string appId, string userId) =>
        (await c.QueryAsync<long>(new CommandDefinition(
            "SELECT gid FROM group_members WHERE app_id = @appId AND user_id = @userId", new { appId, userId }))).ToList();
}
