using Dapper;
using Npgsql;

namespace Realtime.Server.GroupState;

/// <summary>
/// Online members (SPEC §9): a member is online while one of their terminals is on a node whose
/// lease (nodes.lease_until, renewed by Presence) is ahead of the database clock. A node that
/// stops, crash included, stops renewing: its terminals count offline within one lease, exactly,
/// with nobody having to clean up after it. The database clock decides, so node clocks may drift.
/// </summary>
internal static class OnlineMembers
{
    public static async Task<OnlineMembersResult> PageAsync(NpgsqlConnection c, string appId, long gid, int offset, int limit, CancellationToken ct)
    {
        var (online, ids) = await c.QuerySingleAsync<(int, string[])>(new CommandDefinition("""
            WITH online AS (
                SELECT DISTINCT m.user_id FROM group_members m
                JOIN terminals t ON t.app_id = @appId AND t.user_id = m.user_id
                JOIN nodes n ON n.node_id = t.node_id
                WHERE m.gid = @gid AND n.lease_until > now())
            SELECT (SELECT count(*) FROM online)::int,
                   ARRAY(SELECT user_id FROM online ORDER BY user_id OFFSET @offset LIMIT @limit)
            """, new { appId, gid, offset, limit }, cancellationToken: ct));
        return new OnlineMembersResult(online, ids);
    }
}
