using Dapper;
using Npgsql;
using Realtime.Server.Delivery;
using Realtime.Server.Groups;

namespace Realtime.Server.Membership;

/// <summary>The SQL of pending items, member listings, block- and allowlists.</summary>
public static class MembershipRepository
{
    private const string PendingColumns = """
        p.pending_id, p.gid, p.type, g.group_id, p.from_user, p.to_user, p.message, p.status, p.created_at,
        p.expires_at, p.handled_by, p.handled_at, p.reason
        """;

    public static Task<bool> IsListedAsync(CommandScope s, string list, long gid, string userId) =>
        s.Connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM {Table(list)} WHERE gid = @gid AND user_id = @userId)", new { gid, userId }, s.Transaction));

    public static async Task<HashSet<string>> ListedAmongAsync(CommandScope s, string list, long gid, IReadOnlyList<string> userIds) =>
        (await s.Connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT user_id FROM {Table(list)} WHERE gid = @gid AND user_id = ANY(@users)",
            new { gid, users = userIds.ToArray() }, s.Transaction))).ToHashSet(StringComparer.Ordinal);

    public static async Task<IReadOnlyList<string>> ListAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string list, long gid) =>
        (await c.QueryAsync<string>(new CommandDefinition(
            $"SELECT user_id FROM {Table(list)} WHERE gid = @gid ORDER BY user_id", new { gid }, tx))).ToList();

    public static Task AddToListAsync(CommandScope s, string list, long gid, IReadOnlyList<string> userIds) =>
        s.Connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {Table(list)} (gid, user_id, added_at) SELECT @gid, u, @Now FROM unnest(@users) AS u
            ON CONFLICT DO NOTHING
            """, new { gid, users = userIds.ToArray(), s.Now }, s.Transaction));

    public static Task RemoveFromListAsync(CommandScope s, string list, long gid, IReadOnlyList<string> userIds) =>
        s.Connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {Table(list)} WHERE gid = @gid AND user_id = ANY(@users)", new { gid, users = userIds.ToArray() }, s.Transaction));

    /// <summary>The table name comes from this fixed pair only, never from input.</summary>
    private static string Table(string list) => list switch
    {
        Lists.Block => "group_blocklist",
        Lists.Allow => "group_allowlist",
        _ => throw new ArgumentOutOfRangeException(nameof(list)),
    };

    public static async Task<Dictionary<string, MemberRow>> MembersAmongAsync(CommandScope s, long gid, IReadOnlyList<string> userIds) =>
        (await s.Connection.QueryAsync<MemberRow>(new CommandDefinition($"""
            SELECT {GroupRepository.MemberColumns} FROM group_members WHERE gid = @gid AND user_id = ANY(@users)
            """, new { gid, users = userIds.ToArray() }, s.Transaction))).ToDictionary(m => m.UserId, StringComparer.Ordinal);

    public static async Task<IReadOnlyList<string>> StaffAsync(CommandScope s, long gid) =>
        (await s.Connection.QueryAsync<string>(new CommandDefinition(
            "SELECT user_id FROM group_members WHERE gid = @gid AND role IN ('Owner', 'Admin') ORDER BY user_id",
            new { gid }, s.Transaction))).ToList();

    public static async Task<MembersResult> PageAsync(
        NpgsqlConnection c, long gid, MemberRole? role, int offset, int limit, string? viewer, bool viewerIsAppAdmin, DateTime now)
    {
        var args = new { gid, role = role?.ToString(), offset, limit };
        var total = await c.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) FROM group_members WHERE gid = @gid AND (@role::text IS NULL OR role = @role)", args));
        var rows = await c.QueryAsync<MemberRow>(new CommandDefinition($"""
            SELECT {GroupRepository.MemberColumns} FROM group_members WHERE gid = @gid AND (@role::text IS NULL OR role = @role)
            ORDER BY {GroupRepository.RoleOrder("role")}, joined_at, user_id
            OFFSET @offset LIMIT @limit
            """, args));
        return new MembersResult(total, rows.Select(m => m.ToInfo(viewerIsAppAdmin || m.UserId == viewer, now)).ToList());
    }

    /// <summary>Writes the member's editable columns back.</summary>
    public static Task SaveMemberAsync(CommandScope s, long gid, MemberRow m) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE group_members SET role = @Role, name_card = @NameCard, muted_until = @MutedUntil,
                msg_recv_option = @MsgRecvOption, custom = @Custom
            WHERE gid = @gid AND user_id = @UserId
            """, new { gid, m.UserId, Role = m.Role.ToString(), m.NameCard, m.MutedUntil, MsgRecvOption = m.MsgRecvOption.ToString(), m.Custom },
            s.Transaction));

    public static Task InsertPendingAsync(CommandScope s, long gid, PendingType type, Guid pendingId, string fromUser, string? toUser, string message) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO pending_items (pending_id, app_id, gid, type, from_user, to_user, message, status, created_at, expires_at)
            VALUES (@pendingId, @AppId, @gid, @type, @fromUser, @toUser, @message, 'Pending', @Now, @expires)
            """, new
        {
            pendingId, s.AppId, gid, type = type.ToString(), fromUser, toUser, message, s.Now,
            expires = s.Now + MemberRules.PendingLifetime,
        }, s.Transaction));

    public static Task<PendingRow?> FindPendingAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string appId, Guid pendingId) =>
        c.QuerySingleOrDefaultAsync<PendingRow>(new CommandDefinition($"""
            SELECT {PendingColumns} FROM pending_items p JOIN groups g ON g.gid = p.gid
            WHERE p.app_id = @appId AND p.pending_id = @pendingId
            """, new { appId, pendingId }, tx));

    /// <summary>The live join request of a user to a group, if any.</summary>
    public static Task<Guid?> OpenJoinRequestAsync(CommandScope s, long gid, string userId) =>
        s.Connection.ExecuteScalarAsync<Guid?>(new CommandDefinition("""
            SELECT pending_id FROM pending_items
            WHERE gid = @gid AND type = 'JoinRequest' AND from_user = @userId AND status = 'Pending' AND expires_at > @Now
            ORDER BY pending_id DESC LIMIT 1
            """, new { gid, userId, s.Now }, s.Transaction));

    /// <summary>Among these users, those with a live invitation to the group (from anyone).</summary>
    public static async Task<HashSet<string>> OpenInvitationsAmongAsync(CommandScope s, long gid, IReadOnlyList<string> userIds) =>
        (await s.Connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT to_user FROM pending_items
            WHERE gid = @gid AND type = 'Invitation' AND to_user = ANY(@users) AND status = 'Pending' AND expires_at > @Now
            """, new { gid, users = userIds.ToArray(), s.Now }, s.Transaction))).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Pending → a final status, only if still live: zero rows means another handler won the
    /// race (or the item expired or was canceled).
    /// </summary>
    public static async Task<bool> ResolvePendingAsync(CommandScope s, Guid pendingId, PendingStatus status, string? reason) =>
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE pending_items SET status = @status, handled_by = @handledBy, handled_at = @Now, reason = @reason
            WHERE pending_id = @pendingId AND status = 'Pending' AND expires_at > @Now
            """, new { pendingId, status = status.ToString(), handledBy = s.Actor.UserId, s.Now, reason }, s.Transaction)) == 1;

    /// <summary>Users who joined (or left for good) by another path: their open items for the group are moot.</summary>
    public static Task CancelPendingOfAsync(CommandScope s, long gid, IReadOnlyList<string> userIds) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE pending_items SET status = 'Canceled', handled_at = @Now
            WHERE gid = @gid AND status = 'Pending'
              AND ((type = 'JoinRequest' AND from_user = ANY(@users)) OR (type = 'Invitation' AND to_user = ANY(@users)))
            """, new { gid, users = userIds.ToArray(), s.Now }, s.Transaction));

    /// <summary>
    /// The items a user is a party to: their own requests and invitations, invitations to them,
    /// and join requests to groups they run. Newest first.
    /// </summary>
    public static async Task<IReadOnlyList<PendingRow>> PendingOfAsync(NpgsqlConnection c, string appId, string userId, Guid? before, int limit) =>
        (await c.QueryAsync<PendingRow>(new CommandDefinition($"""
            SELECT {PendingColumns} FROM pending_items p JOIN groups g ON g.gid = p.gid
            WHERE p.app_id = @appId AND (@before::uuid IS NULL OR p.pending_id < @before)
              AND (p.from_user = @userId OR p.to_user = @userId
                   OR (p.type = 'JoinRequest' AND EXISTS (
                       SELECT 1 FROM group_members m WHERE m.gid = p.gid AND m.user_id = @userId AND m.role IN ('Owner', 'Admin'))))
            ORDER BY p.pending_id DESC
            LIMIT @limit
            """, new { appId, userId, before, limit }))).ToList();

    public static Task TouchLastMessageAsync(CommandScope s, long gid, string userId) =>
        s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE groups SET last_message_at = @Now WHERE gid = @gid;
            UPDATE group_members SET last_message_at = @Now WHERE gid = @gid AND user_id = @userId;
            """, new { gid, userId, s.Now }, s.Transaction));
}

/// <summary>The two per-group user lists.</summary>
public static class Lists
{
    public const string Block = "blocklist";
    public const string Allow = "allowlist";
}
