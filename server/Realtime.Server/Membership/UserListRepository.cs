using Dapper;
using Npgsql;
using Realtime.Server.Commands;

namespace Realtime.Server.Membership;

/// <summary>The two per-group user lists of SPEC §2.</summary>
public enum UserList
{
    /// <summary>Removed if present; cannot apply, be invited or be added.</summary>
    Blocklist,
    /// <summary>May send under muteAll.</summary>
    Allowlist,
}

/// <summary>The SQL of the block- and allowlists.</summary>
public static class UserListRepository
{
    /// <summary>Which acting users are on the lists of the group named by @AppId/@groupId (read with its lock, GroupRepository.LockAsync).</summary>
    public const string OfActorsSql = """
        SELECT 'Blocklist' AS list, user_id FROM group_blocklist
        WHERE gid = (SELECT gid FROM groups WHERE app_id = @AppId AND group_id = @groupId AND dissolved_at IS NULL) AND user_id = ANY(@actors)
        UNION ALL
        SELECT 'Allowlist', user_id FROM group_allowlist
        WHERE gid = (SELECT gid FROM groups WHERE app_id = @AppId AND group_id = @groupId AND dissolved_at IS NULL) AND user_id = ANY(@actors)
        """;

    public static async Task<bool> ContainsAsync(CommandScope s, UserList list, long gid, string userId)
    {
        if (s.Effects.TryListed(list, gid, userId, out var known)) return known;
        return await s.Connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM {Table(list)} WHERE gid = @gid AND user_id = @userId)", new { gid, userId }, s.Transaction));
    }

    public static async Task<HashSet<string>> AmongAsync(CommandScope s, UserList list, long gid, IReadOnlyList<string> userIds) =>
        (await s.Connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT user_id FROM {Table(list)} WHERE gid = @gid AND user_id = ANY(@users)",
            new { gid, users = userIds.ToArray() }, s.Transaction))).ToHashSet(StringComparer.Ordinal);

    private static string AllSql(UserList list) => $"SELECT user_id FROM {Table(list)} WHERE gid = @gid ORDER BY user_id";

    public static async Task<IReadOnlyList<string>> AllAsync(CommandScope s, UserList list, long gid) =>
        (await s.Connection.QueryAsync<string>(new CommandDefinition(AllSql(list), new { gid }, s.Transaction))).ToList();

    public static async Task<IReadOnlyList<string>> AllAsync(NpgsqlConnection c, UserList list, long gid, CancellationToken ct) =>
        (await c.QueryAsync<string>(new CommandDefinition(AllSql(list), new { gid }, cancellationToken: ct))).ToList();

    public static Task AddAsync(CommandScope s, UserList list, long gid, IReadOnlyList<string> userIds)
    {
        s.Effects.ForgetLists();
        return s.Connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO {Table(list)} (gid, user_id, added_at) SELECT @gid, u, @Now FROM unnest(@users) AS u
            ON CONFLICT DO NOTHING
            """, new { gid, users = userIds.ToArray(), s.Now }, s.Transaction));
    }

    public static Task RemoveAsync(CommandScope s, UserList list, long gid, IReadOnlyList<string> userIds)
    {
        s.Effects.ForgetLists();
        return s.Connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {Table(list)} WHERE gid = @gid AND user_id = ANY(@users)", new { gid, users = userIds.ToArray() }, s.Transaction));
    }

    /// <summary>The table name comes from this fixed pair only, never from input.</summary>
    private static string Table(UserList list) => list switch
    {
        UserList.Blocklist => "group_blocklist",
        UserList.Allowlist => "group_allowlist",
        _ => throw new ArgumentOutOfRangeException(nameof(list)),
    };
}
