using Dapper;
using Npgsql;
using Realtime.Server.Commands;

namespace Realtime.Server.Membership;

/// <summary>The SQL of pending items: join requests and invitations.</summary>
public static class PendingRepository
{
    private const string PendingColumns = """
        p.pending_id, p.gid, p.type, g.group_id, p.from_user, p.to_user, p.message, p.status, p.created_at,
        p.expires_at, p.handled_by, p.handled_at, p.reason, p.inviter
        """;

    public static async Task InsertAsync(CommandScope s, long gid, PendingType type, Guid pendingId, string fromUser, string? toUser, string message)
    {
        await MemberRepository.FlushJoinsAsync(s);
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO pending_items (pending_id, app_id, gid, type, from_user, to_user, message, status, created_at, expires_at)
            VALUES (@pendingId, @AppId, @gid, @type, @fromUser, @toUser, @message, 'Pending', @Now, @expires)
            """, new
        {
            pendingId, s.AppId, gid, type = type.ToString(), fromUser, toUser, message, s.Now,
            expires = s.Now + MemberRules.PendingLifetime,
        }, s.Transaction));
    }

    public static async Task<PendingRow?> FindAsync(CommandScope s, Guid pendingId)
    {
        await MemberRepository.FlushJoinsAsync(s);
        return await s.Connection.QuerySingleOrDefaultAsync<PendingRow>(new CommandDefinition($"""
            SELECT {PendingColumns} FROM pending_items p JOIN groups g ON g.gid = p.gid
            WHERE p.app_id = @AppId AND p.pending_id = @pendingId
            """, new { s.AppId, pendingId }, s.Transaction));
    }

    /// <summary>The live join request of a user to a group, if any.</summary>
    public static async Task<Guid?> OpenJoinRequestAsync(CommandScope s, long gid, string userId)
    {
        await MemberRepository.FlushJoinsAsync(s);
        return await s.Connection.ExecuteScalarAsync<Guid?>(new CommandDefinition("""
            SELECT pending_id FROM pending_items
            WHERE gid = @gid AND type = 'JoinRequest' AND from_user = @userId AND status = 'Pending' AND expires_at > @Now
            ORDER BY pending_id DESC LIMIT 1
            """, new { gid, userId, s.Now }, s.Transaction));
    }

    /// <summary>Among these users, those with a live invitation to the group (from anyone).</summary>
    public static async Task<HashSet<string>> OpenInvitationsAmongAsync(CommandScope s, long gid, IReadOnlyList<string> userIds)
    {
        await MemberRepository.FlushJoinsAsync(s);
        return (await s.Connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT to_user FROM pending_items
            WHERE gid = @gid AND type = 'Invitation' AND to_user = ANY(@users) AND status = 'Pending' AND expires_at > @Now
            """, new { gid, users = userIds.ToArray(), s.Now }, s.Transaction))).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Pending → a final status, only if still live: zero rows means another handler won the
    /// race (or the item expired or was canceled).
    /// </summary>
    public static async Task<bool> ResolveAsync(CommandScope s, Guid pendingId, PendingStatus status, string? reason)
    {
        await MemberRepository.FlushJoinsAsync(s);
        return await s.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE pending_items SET status = @status, handled_by = @handledBy, handled_at = @Now, reason = @reason
            WHERE pending_id = @pendingId AND status = 'Pending' AND expires_at > @Now
            """, new { pendingId, status = status.ToString(), handledBy = s.Actor.UserId, s.Now, reason }, s.Transaction)) == 1;
    }

    /// <summary>Users who joined (or left for good) by another path: their open items for the group are moot.</summary>
    /// <summary>The open items of @users in group @gid, canceled at @Now: they joined by another path (blocklisted).</summary>
    public const string CancelOfSql = """
        UPDATE pending_items SET status = 'Canceled', handled_at = @Now
        WHERE gid = @gid AND status = 'Pending'
          AND ((type = 'JoinRequest' AND from_user = ANY(@users)) OR (type = 'Invitation' AND to_user = ANY(@users)))
        """;

    /// <summary>The open items of the users who joined (@gids, @users) canceled at @Now (MemberRepository.FlushJoinsAsync).</summary>
    public const string CancelOfJoinedSql = """
        UPDATE pending_items p SET status = 'Canceled', handled_at = @Now
        FROM unnest(@gids, @users) AS x(gid, user_id)
        WHERE p.gid = x.gid AND p.status = 'Pending'
          AND ((p.type = 'JoinRequest' AND p.from_user = x.user_id) OR (p.type = 'Invitation' AND p.to_user = x.user_id))
        """;

    public static async Task CancelOfAsync(CommandScope s, long gid, IReadOnlyList<string> userIds)
    {
        await MemberRepository.FlushJoinsAsync(s);
        await s.Connection.ExecuteAsync(new CommandDefinition(CancelOfSql, new { gid, users = userIds.ToArray(), s.Now }, s.Transaction));
    }

    /// <summary>
    /// The items a user is a party to: their own requests and invitations, invitations to them,
    /// and join requests to groups they run. Newest first.
    /// </summary>
    public static async Task<IReadOnlyList<PendingRow>> OfUserAsync(NpgsqlConnection c, string appId, string userId, Guid? before, int limit, CancellationToken ct) =>
        (await c.QueryAsync<PendingRow>(new CommandDefinition($"""
            SELECT {PendingColumns} FROM pending_items p JOIN groups g ON g.gid = p.gid
            WHERE p.app_id = @appId AND (@before::uuid IS NULL OR p.pending_id < @before)
              AND (p.from_user = @userId OR p.to_user = @userId
                   OR (p.type = 'JoinRequest' AND EXISTS (
                       SELECT 1 FROM group_members m WHERE m.gid = p.gid AND m.user_id = @userId AND m.role IN ('Owner', 'Admin'))))
            ORDER BY p.pending_id DESC
            LIMIT @limit
            """, new { appId, userId, before, limit }, cancellationToken: ct))).ToList();
}
