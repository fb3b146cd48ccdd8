using Dapper;
using Npgsql;
using Realtime.Server.Commands;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>
/// The SQL of members: group_members, their Sync windows (member_windows) and each user's
/// joined-group count (users). Commands pass their scope; reads a connection and a token.
/// </summary>
public static class MemberRepository
{
    /// <summary>The group_members columns a MemberRow is read from.</summary>
    public const string MemberColumns = """
        user_id, role, joined_at, join_seq, last_message_at, name_card, muted_until, msg_recv_option, custom
        """;

    /// <summary>Members are listed owner first, then admins, then the rest.</summary>
    public static string RoleOrder(string column) => $"CASE {column} WHEN 'Owner' THEN 0 WHEN 'Admin' THEN 1 ELSE 2 END";

    /// <summary>The acting users' rows of the group named by @AppId/@groupId (read with its lock, GroupRepository.LockAsync).</summary>
    public const string OfActorsSql = $"""
        SELECT {MemberColumns} FROM group_members
        WHERE gid = (SELECT gid FROM groups WHERE app_id = @AppId AND group_id = @groupId AND dissolved_at IS NULL)
          AND user_id = ANY(@actors)
        """;

    private const string FindSql = $"SELECT {MemberColumns} FROM group_members WHERE gid = @gid AND user_id = @userId";

    /// <summary>A member's row; the acting users' rows came with the group's lock (GroupRepository.LockAsync).</summary>
    public static async Task<MemberRow?> FindAsync(CommandScope s, long gid, string? userId)
    {
        if (userId is null) return null;
        if (s.Effects.TryMember(gid, userId, out var known)) return known;
        await FlushJoinsAsync(s);
        var member = await s.Connection.QuerySingleOrDefaultAsync<MemberRow>(new CommandDefinition(FindSql, new { gid, userId }, s.Transaction));
        s.Effects.RememberMembers(gid, [userId], member is null ? [] : [member]);
        return member;
    }

    public static Task<MemberRow?> FindAsync(NpgsqlConnection c, long gid, string? userId, CancellationToken ct) =>
        userId is null
            ? Task.FromResult<MemberRow?>(null)
            : c.QuerySingleOrDefaultAsync<MemberRow>(new CommandDefinition(FindSql, new { gid, userId }, cancellationToken: ct));

    public static async Task<Dictionary<string, MemberRow>> AmongAsync(CommandScope s, long gid, IReadOnlyList<string> userIds)
    {
        await FlushJoinsAsync(s);
        return (await s.Connection.QueryAsync<MemberRow>(new CommandDefinition($"""
            SELECT {MemberColumns} FROM group_members WHERE gid = @gid AND user_id = ANY(@users)
            """, new { gid, users = userIds.ToArray() }, s.Transaction))).ToDictionary(m => m.UserId, StringComparer.Ordinal);
    }

    /// <summary>Every member, in user id order.</summary>
    public static async Task<IReadOnlyList<MemberRow>> AllAsync(CommandScope s, long gid)
    {
        await FlushJoinsAsync(s);
        return (await s.Connection.QueryAsync<MemberRow>(new CommandDefinition(
            $"SELECT {MemberColumns} FROM group_members WHERE gid = @gid ORDER BY user_id", new { gid }, s.Transaction))).ToList();
    }

    public static async Task<IReadOnlyList<string>> IdsAsync(CommandScope s, long gid)
    {
        await FlushJoinsAsync(s);
        return (await s.Connection.QueryAsync<string>(new CommandDefinition(
            "SELECT user_id FROM group_members WHERE gid = @gid ORDER BY user_id", new { gid }, s.Transaction))).ToList();
    }

    /// <summary>The owner and admins, who handle join requests.</summary>
    public static async Task<IReadOnlyList<string>> StaffAsync(CommandScope s, long gid)
    {
        await FlushJoinsAsync(s);
        return (await s.Connection.QueryAsync<string>(new CommandDefinition(
            "SELECT user_id FROM group_members WHERE gid = @gid AND role IN ('Owner', 'Admin') ORDER BY user_id",
            new { gid }, s.Transaction))).ToList();
    }

    /// <summary>Which of these groups (by gid) the user is a member of.</summary>
    public static async Task<HashSet<long>> MembershipsAsync(NpgsqlConnection c, IReadOnlyList<long> gids, string userId, CancellationToken ct) =>
        (await c.QueryAsync<long>(new CommandDefinition(
            "SELECT gid FROM group_members WHERE gid = ANY(@gids) AND user_id = @userId",
            new { gids = gids.ToArray(), userId }, cancellationToken: ct))).ToHashSet();

    public static async Task<MembersResult> PageAsync(
        NpgsqlConnection c, long gid, MemberRole? role, int offset, int limit, string? viewer, bool viewerIsAppAdmin, DateTime now, CancellationToken ct)
    {
        var args = new { gid, role = role?.ToString(), offset, limit };
        var total = await c.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM group_members WHERE gid = @gid AND (@role::text IS NULL OR role = @role)", args, cancellationToken: ct));
        var rows = await c.QueryAsync<MemberRow>(new CommandDefinition($"""
            SELECT {MemberColumns} FROM group_members WHERE gid = @gid AND (@role::text IS NULL OR role = @role)
            ORDER BY {RoleOrder("role")}, joined_at, user_id
            OFFSET @offset LIMIT @limit
            """, args, cancellationToken: ct));
        return new MembersResult(total, rows.Select(m => m.ToInfo(viewerIsAppAdmin || m.UserId == viewer, now)).ToList());
    }

    /// <summary>Adds members and opens their log windows at the group's current seq.</summary>
    /// <summary>The owner and first members of a new group: rows, windows and (where the type counts) joined counts.</summary>
    public static async Task FoundAsync(CommandScope s, GroupRow g, IReadOnlyList<(string UserId, MemberRole Role)> members)
    {
        await FlushJoinsAsync(s);
        s.Effects.ForgetMembers();
        var users = members.Select(m => m.UserId).ToArray();
        var countJoined = g.Rules.CountsTowardJoinedLimit;
        if (countJoined) s.Effects.AdjustJoinedCounts(users, +1);
        await s.Connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq, last_read_seq)
            SELECT @Gid, @AppId, u, r, @Now, @LastSeq, @LastSeq FROM unnest(@users, @roles) AS x(u, r);
            INSERT INTO member_windows (gid, app_id, user_id, from_seq) SELECT @Gid, @AppId, u, @LastSeq FROM unnest(@users) AS u;
            {(countJoined ? "UPDATE users SET joined_count = joined_count + 1 WHERE app_id = @AppId AND user_id = ANY(@users);" : "")}
            """, new { g.Gid, s.AppId, s.Now, g.LastSeq, users, roles = members.Select(m => m.Role.ToString()).ToArray() }, s.Transaction));
    }

    /// <summary>
    /// New plain members (the group's member count already raised on <paramref name="g"/>), their
    /// windows starting at <paramref name="joinSeq"/> (the seq before the MembersJoined that
    /// announces them). Kept in the transaction's memory, so the commands after it see them, and
    /// written for all the transaction's joins at once by <see cref="FlushJoinsAsync"/>.
    /// </summary>
    public static void Join(CommandScope s, GroupRow g, IReadOnlyList<string> users, long joinSeq)
    {
        foreach (var u in users) s.Effects.Joins.Add(new JoinWrite(g, u, joinSeq));
        s.Effects.RememberMembers(g.Gid, users, users.Select(u => new MemberRow { UserId = u, Role = MemberRole.Member, JoinedAt = s.Now, JoinSeq = joinSeq }));
        if (g.Rules.CountsTowardJoinedLimit) s.Effects.AdjustJoinedCounts(users, +1);
    }

    /// <summary>
    /// Writes the joins kept by <see cref="Join"/>: member rows, windows, joined counts (rows
    /// locked before), member counts, their open pending items canceled; one round trip. Runs
    /// before any statement of this transaction reads or writes members, and before commit.
    /// </summary>
    public static async Task FlushJoinsAsync(CommandScope s)
    {
        var joins = s.Effects.Joins;
        if (joins.Count == 0) return;
        var counted = joins.Where(j => j.Group.Rules.CountsTowardJoinedLimit).GroupBy(j => j.UserId, StringComparer.Ordinal)
            .Select(x => (User: x.Key, Count: x.Count())).ToArray();
        var groups = joins.Select(j => j.Group).DistinctBy(g => g.Gid).ToArray();
        var args = new
        {
            appId = s.AppId, s.Now,
            gids = joins.Select(j => j.Group.Gid).ToArray(),
            users = joins.Select(j => j.UserId).ToArray(),
            joinSeqs = joins.Select(j => j.JoinSeq).ToArray(),
            // A cursor starts at joinSeq; the messages before it that this transaction has not written yet (GroupState/ReadCursors).
            readBuffered = joins.Select(j => s.Effects.Events.Count(e => e.Gid == j.Group.Gid && e.Type == Delivery.GroupEventDto.MessageType && e.Seq <= j.JoinSeq)).ToArray(),
            countedUsers = counted.Select(c => c.User).ToArray(),
            counts = counted.Select(c => c.Count).ToArray(),
            groupGids = groups.Select(g => g.Gid).ToArray(),
            memberCounts = groups.Select(g => g.MemberCount).ToArray(),
        };
        joins.Clear();
        await s.Connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq, last_read_seq, read_msgs)
            SELECT g, @appId, u, 'Member', @Now, j, j, (SELECT msg_count FROM groups WHERE gid = g) + b
            FROM unnest(@gids, @users, @joinSeqs, @readBuffered) AS x(g, u, j, b);
            INSERT INTO member_windows (gid, app_id, user_id, from_seq)
            SELECT g, @appId, u, j FROM unnest(@gids, @users, @joinSeqs) AS x(g, u, j)
            ON CONFLICT (gid, user_id, from_seq) DO UPDATE SET to_seq = NULL;
            UPDATE users SET joined_count = users.joined_count + x.n
            FROM unnest(@countedUsers, @counts) AS x(user_id, n) WHERE users.app_id = @appId AND users.user_id = x.user_id;
            {GroupRepository.SaveMemberCountsSql};
            {PendingRepository.CancelOfJoinedSql};
            """, args, s.Transaction));
    }

    /// <summary>Removes members and closes their log windows at the removing event's seq.</summary>
    public static async Task RemoveAsync(CommandScope s, GroupRow g, IReadOnlyList<string> userIds, long removedAtSeq)
    {
        await FlushJoinsAsync(s);
        s.Effects.ForgetMembers();
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM group_members WHERE gid = @Gid AND user_id = ANY(@users);
            UPDATE member_windows SET to_seq = @removedAtSeq WHERE gid = @Gid AND user_id = ANY(@users) AND to_seq IS NULL;
            """, new { g.Gid, users = userIds.ToArray(), removedAtSeq }, s.Transaction));
    }

    public static async Task SetRoleAsync(CommandScope s, long gid, string userId, MemberRole role)
    {
        await FlushJoinsAsync(s);
        s.Effects.ForgetMembers();
        await s.Connection.ExecuteAsync(new CommandDefinition(
            "UPDATE group_members SET role = @role WHERE gid = @gid AND user_id = @userId",
            new { gid, userId, role = role.ToString() }, s.Transaction));
    }

    /// <summary>Writes the member's editable columns back.</summary>
    public static async Task SaveAsync(CommandScope s, long gid, MemberRow m)
    {
        await FlushJoinsAsync(s);
        s.Effects.ForgetMembers();
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE group_members SET role = @Role, name_card = @NameCard, muted_until = @MutedUntil,
                msg_recv_option = @MsgRecvOption, custom = @Custom
            WHERE gid = @gid AND user_id = @UserId
            """, new { gid, m.UserId, Role = m.Role.ToString(), m.NameCard, m.MutedUntil, MsgRecvOption = m.MsgRecvOption.ToString(), m.Custom },
            s.Transaction));
    }

    /// <summary>
    /// Locks the users' rows (created when missing) in id order and answers their joined-group
    /// counts. Taken before a command adds memberships, so JoinedGroupLimit holds under races.
    /// </summary>
    public static async Task<Dictionary<string, int>> LockUsersAsync(CommandScope s, IReadOnlyCollection<string> userIds)
    {
        if (userIds.Any(u => !s.Effects.TryJoinedCount(u, out _)))
        {
            // The first in a transaction locks every acting user's row too (batched applications ask next).
            var users = userIds.Concat(s.Effects.Actors).Where(u => !s.Effects.TryJoinedCount(u, out _))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var rows = await s.Connection.QueryAsync<(string UserId, int JoinedCount)>(new CommandDefinition("""
                INSERT INTO users (app_id, user_id) SELECT @AppId, u FROM unnest(@users) AS u ORDER BY u
                ON CONFLICT (app_id, user_id) DO UPDATE SET joined_count = users.joined_count
                RETURNING user_id, joined_count
                """, new { s.AppId, users }, s.Transaction));
            foreach (var (user, count) in rows) s.Effects.RememberJoinedCount(user, count);
        }
        return userIds.Distinct(StringComparer.Ordinal).ToDictionary(u => u, u => s.Effects.TryJoinedCount(u, out var c) ? c : 0, StringComparer.Ordinal);
    }

    public static Task AdjustJoinedCountAsync(CommandScope s, IReadOnlyCollection<string> userIds, int delta)
    {
        if (userIds.Count == 0) return Task.CompletedTask;
        s.Effects.AdjustJoinedCounts(userIds, delta);
        return s.Connection.ExecuteAsync(new CommandDefinition("""
                UPDATE users SET joined_count = joined_count + @delta WHERE app_id = @AppId AND user_id = ANY(@users)
                """, new { s.AppId, users = userIds.ToArray(), delta }, s.Transaction));
    }

    public static async Task<JoinedGroupsResult> JoinedAsync(NpgsqlConnection c, string appId, string userId, int offset, int limit, CancellationToken ct)
    {
        var args = new { appId, userId, offset, limit };
        var total = await c.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM group_members WHERE app_id = @appId AND user_id = @userId", args, cancellationToken: ct));
        var rows = await c.QueryAsync<JoinedRow>(new CommandDefinition("""
            SELECT g.group_id, g.type, g.name, g.face_url, m.role, g.member_count, g.last_seq, m.joined_at, m.msg_recv_option, g.epoch,
                   m.last_read_seq, GREATEST(g.msg_count - m.read_msgs - m.sent_after_read, 0) AS unread
            FROM group_members m JOIN groups g ON g.gid = m.gid
            WHERE m.app_id = @appId AND m.user_id = @userId
            ORDER BY m.joined_at, g.group_id
            OFFSET @offset LIMIT @limit
            """, args, cancellationToken: ct));
        return new JoinedGroupsResult(total, rows.Select(r => new JoinedGroup(
            r.GroupId, r.Type, r.Name, r.FaceUrl, r.Role, r.MemberCount, r.LastSeq, r.JoinedAt, r.MsgRecvOption, r.Epoch, r.LastReadSeq, r.Unread)).ToList());
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
        public long LastReadSeq { get; init; }
        public long Unread { get; init; }
    }

    /// <summary>
    /// Waits until no uncommitted command holds the user's row (commands that change a user's
    /// membership lock it, see TerminalAttacher). The insert waits out a command creating the row.
    /// </summary>
    public static Task WaitForMembershipChangesAsync(NpgsqlConnection c, NpgsqlTransaction tx, string appId, string userId, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO users (app_id, user_id) VALUES (@appId, @userId) ON CONFLICT DO NOTHING;
            SELECT 1 FROM users WHERE app_id = @appId AND user_id = @userId FOR SHARE;
            """, new { appId, userId }, tx, cancellationToken: ct));

    /// <summary>
    /// The groups of many users at once, once no membership change of theirs is in flight (as
    /// <see cref="WaitForMembershipChangesAsync"/> for one; the user rows are share-locked in key
    /// order, as commands lock them, so the two never deadlock). Users without a row have no groups.
    /// </summary>
    public static async Task<ILookup<(string AppId, string UserId), long>> GidsOfUsersAsync(
        NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<(string AppId, string UserId)> users, CancellationToken ct)
    {
        var apps = users.Select(u => u.AppId).ToArray();
        var ids = users.Select(u => u.UserId).ToArray();
        await c.ExecuteAsync(new CommandDefinition("""
            SELECT 1 FROM users u JOIN unnest(@apps, @ids) AS x(app_id, user_id) USING (app_id, user_id)
            ORDER BY u.app_id, u.user_id FOR SHARE OF u
            """, new { apps, ids }, tx, cancellationToken: ct));
        var rows = await c.QueryAsync<(string AppId, string UserId, long Gid)>(new CommandDefinition("""
            SELECT m.app_id, m.user_id, m.gid FROM group_members m JOIN unnest(@apps, @ids) AS x(app_id, user_id) USING (app_id, user_id)
            """, new { apps, ids }, tx, cancellationToken: ct));
        return rows.ToLookup(r => (r.AppId, r.UserId), r => r.Gid);
    }

    /// <summary>The groups (internal ids) whose live channels a user's terminals belong to.</summary>
    public static async Task<IReadOnlyList<long>> GidsOfAsync(NpgsqlConnection c, string appId, string userId, CancellationToken ct) =>
        (await c.QueryAsync<long>(new CommandDefinition(
            "SELECT gid FROM group_members WHERE app_id = @appId AND user_id = @userId", new { appId, userId }, cancellationToken: ct))).ToList();
}
