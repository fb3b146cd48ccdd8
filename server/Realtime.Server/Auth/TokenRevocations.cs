using Dapper;
using Realtime.Server.Data;

namespace Realtime.Server.Auth;

/// <summary>
/// An app revokes all tokens it has given a user so far (a stolen device, a banned account):
/// tokens issued at or before the revocation are refused at connect. JWT times are whole
/// seconds, so a token issued in the same second as the revocation is refused too.
/// </summary>
public sealed class TokenRevocations(Db db)
{
    /// <summary>Records the revocation and answers its instant.</summary>
    public async Task<DateTime> RevokeAsync(string appId, string userId, DateTime now, CancellationToken ct)
    {
        var at = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO users (app_id, user_id, tokens_revoked_at) VALUES (@appId, @userId, @at)
            ON CONFLICT (app_id, user_id) DO UPDATE SET tokens_revoked_at = GREATEST(users.tokens_revoked_at, EXCLUDED.tokens_revoked_at)
            """, new { appId, userId, at }, cancellationToken: ct));
        return at;
    }

    /// <param name="issuedAt">The token's iat; a token without one counts as issued long ago.</param>
    public async Task<bool> IsRevokedAsync(string appId, string userId, DateTime? issuedAt, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var revokedAt = await c.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT tokens_revoked_at FROM users WHERE app_id = @appId AND user_id = @userId", new { appId, userId }, cancellationToken: ct));
        return revokedAt is { } at && (issuedAt is not { } iat || iat <= at);
    }
}
