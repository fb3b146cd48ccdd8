using Dapper;
using Npgsql;
using Realtime.Server.Commands;
using Realtime.Server.Membership;

namespace Realtime.Server.InviteLinks;

/// <summary>The SQL of invite links. Writers hold the group's row lock, which orders them with every join.</summary>
public static class InviteLinkRepository
{
    private const string Columns = """
        l.code, l.gid, g.group_id, l.created_by, l.created_at, l.expires_at, l.max_uses, l.uses, l.needs_approval, l.revoked_at
        """;

    /// <summary>The link of a code, while its group is live (a link dies with its group), or null.</summary>
    public static Task<InviteLinkRow?> LookupAsync(NpgsqlConnection c, string appId, string code, CancellationToken ct) =>
        c.QuerySingleOrDefaultAsync<InviteLinkRow>(new CommandDefinition($"""
            SELECT {Columns} FROM invite_links l JOIN groups g ON g.gid = l.gid
            WHERE l.app_id = @appId AND l.code = @code AND g.dissolved_at IS NULL
            """, new { appId, code }, cancellationToken: ct));

    /// <summary>The link as it is now, read under its group's lock (uses counted by earlier joins of this transaction too).</summary>
    public static async Task<InviteLinkRow?> FindAsync(CommandScope s, string code)
    {
        await MemberRepository.FlushJoinsAsync(s);
        return await s.Connection.QuerySingleOrDefaultAsync<InviteLinkRow>(new CommandDefinition($"""
            SELECT {Columns} FROM invite_links l JOIN groups g ON g.gid = l.gid
            WHERE l.app_id = @AppId AND l.code = @code
            """, new { s.AppId, code }, s.Transaction));
    }

    public static async Task InsertAsync(CommandScope s, InviteLinkRow link)
    {
        await MemberRepository.FlushJoinsAsync(s);
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO invite_links (code, app_id, gid, created_by, created_at, expires_at, max_uses, needs_approval)
            VALUES (@Code, @AppId, @Gid, @CreatedBy, @CreatedAt, @ExpiresAt, @MaxUses, @NeedsApproval)
            """, new { link.Code, s.AppId, link.Gid, link.CreatedBy, link.CreatedAt, link.ExpiresAt, link.MaxUses, link.NeedsApproval }, s.Transaction));
    }

    /// <summary>One more admission; the caller checked, under the group's lock, that the link had room.</summary>
    public static async Task CountUseAsync(CommandScope s, string code)
    {
        await MemberRepository.FlushJoinsAsync(s);
        await s.Connection.ExecuteAsync(new CommandDefinition(
            "UPDATE invite_links SET uses = uses + 1 WHERE code = @code", new { code }, s.Transaction));
    }

    public static async Task RevokeAsync(CommandScope s, string code)
    {
        await MemberRepository.FlushJoinsAsync(s);
        await s.Connection.ExecuteAsync(new CommandDefinition(
            "UPDATE invite_links SET revoked_at = @Now WHERE code = @code AND revoked_at IS NULL", new { code, s.Now }, s.Transaction));
    }

    /// <summary>A group's links, newest first: all of them, or those one user created.</summary>
    public static async Task<IReadOnlyList<InviteLinkRow>> OfGroupAsync(NpgsqlConnection c, long gid, string? createdBy, CancellationToken ct) =>
        (await c.QueryAsync<InviteLinkRow>(new CommandDefinition($"""
            SELECT {Columns} FROM invite_links l JOIN groups g ON g.gid = l.gid
            WHERE l.gid = @gid AND (@createdBy::text IS NULL OR l.created_by = @createdBy)
            ORDER BY l.created_at DESC, l.code
            """, new { gid, createdBy }, cancellationToken: ct))).ToList();

    /// <summary>A join request made through a link: like ApplyToJoin's, remembering the link's creator as the inviter.</summary>
    public static async Task InsertJoinRequestAsync(CommandScope s, long gid, Guid pendingId, string applicant, string message, string inviter)
    {
        await MemberRepository.FlushJoinsAsync(s);
        await s.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO pending_items (pending_id, app_id, gid, type, from_user, message, status, created_at, expires_at, inviter)
            VALUES (@pendingId, @AppId, @gid, 'JoinRequest', @applicant, @message, 'Pending', @Now, @expires, @inviter)
            """, new { pendingId, s.AppId, gid, applicant, message, s.Now, expires = s.Now + MemberRules.PendingLifetime, inviter }, s.Transaction));
    }
}
