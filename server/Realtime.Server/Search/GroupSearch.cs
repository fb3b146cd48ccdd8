using System.Data;
using Dapper;
using Realtime.Server.Commands;
using Realtime.Server.Data;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.Search;

/// <summary>
/// SearchGroups and SearchMembers (SPEC §9), answered from indexes (migration 0009), never by a scan
/// of the app's groups or a group's members: prefix matches by a btree range on the lowered text in
/// byte order, substrings by pg_trgm trigrams. Plain snapshots: the replica may answer them.
/// </summary>
public sealed class GroupSearch(ReadRouter reads, TimeProvider clock)
{
    /// <summary>What SearchGroup shows non-members: live, not Private, not disabled (the indexes' predicate, word for word).</summary>
    private const string Shown = "dissolved_at IS NULL AND type <> 'Private' AND NOT disabled";

    /// <summary>The lowered name in byte order: the order answered, and the btree's key.</summary>
    private const string LName = "(lower(name) COLLATE \"C\")";

    /// <summary>
    /// The names that start with the query (a range, usable whatever plan is cached: lower(@q) up to
    /// lower(@q) followed by the highest code point), LIKE rechecking it exactly.
    /// </summary>
    private const string Prefix = $"""
        {LName} >= (lower(@q) COLLATE "C") AND {LName} < ((lower(@q) || chr(1114111)) COLLATE "C") AND lower(name) LIKE lower(@esc) || '%'
        """;

    public async Task<SearchGroupsResult> SearchGroupsAsync(Actor actor, SearchGroupsRequest r, CancellationToken ct = default)
    {
        var query = SearchRules.Query(r.Query);
        var limit = SearchRules.Limit(r.Limit, SearchRules.GroupsLimitMax, SearchRules.GroupsLimitDefault);
        var after = SearchRules.Decode(r.Cursor);
        Validate.RequestId(r.RequestId);
        var rows = await reads.ReadAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            // A plan made for this query's own text: a one-letter query is best walked along the
            // name index, a rare substring found through trigrams; a generic plan cannot tell them apart.
            await c.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = force_custom_plan", transaction: tx, cancellationToken: ct));
            var found = (await c.QueryAsync<FoundGroup>(new CommandDefinition($"""
                /* SearchGroups */
                (SELECT 0 AS rank, {LName} AS lname, gid, group_id, type, name, face_url, introduction, member_count, max_members, apply_join_option
                 FROM groups
                 WHERE app_id = @appId AND {Shown} AND {Prefix}
                   AND (@afterRank < 0 OR (@afterRank = 0 AND ({LName}, gid) > (@afterName COLLATE "C", @afterGid)))
                 ORDER BY {LName}, gid LIMIT @take)
                UNION ALL
                (SELECT 1, c.lname, g.gid, g.group_id, g.type, g.name, g.face_url, g.introduction, g.member_count, g.max_members, g.apply_join_option
                 FROM (SELECT {LName} AS lname, gid FROM groups
                       WHERE app_id = @appId AND {Shown} AND lower(name) LIKE '%' || lower(@esc) || '%'
                         AND lower(name) NOT LIKE lower(@esc) || '%'
                         AND (@afterRank < 1 OR ({LName}, gid) > (@afterName COLLATE "C", @afterGid))
                       ORDER BY {LName}, gid LIMIT @take) c
                 JOIN groups g ON g.gid = c.gid
                 ORDER BY c.lname, c.gid)
                ORDER BY rank, lname, gid LIMIT @take
                """, new
            {
                appId = actor.AppId,
                q = query,
                esc = SearchRules.EscapeLike(query),
                afterRank = after?.Rank ?? -1,
                afterName = after?.Name ?? "",
                afterGid = after?.Gid ?? 0L,
                take = limit + 1,
            }, tx, cancellationToken: ct))).ToList();
            await tx.CommitAsync(ct);
            return found;
        }, ct);
        var page = rows.Take(limit).ToList();
        var cursor = rows.Count > limit ? SearchRules.Encode(new SearchPosition(page[^1].Rank, page[^1].LName, page[^1].Gid)) : null;
        return new SearchGroupsResult(page.Select(g => g.ToPublic()).ToList(), cursor);
    }

    public async Task<SearchMembersResult> SearchMembersAsync(Actor actor, SearchMembersRequest r, CancellationToken ct = default)
    {
        var groupId = Validate.GroupId(r.GroupId);
        var query = SearchRules.Query(r.Query);
        var limit = SearchRules.Limit(r.Limit, SearchRules.MembersLimitMax, SearchRules.MembersLimitDefault);
        Validate.RequestId(r.RequestId);
        var now = clock.GetUtcNow().UtcDateTime;
        return await reads.ReadAsync(async (c, ct) =>
        {
            await using var tx = await c.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var (g, _) = await Access.ReadAsync(c, actor, groupId, ct);
            await c.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = force_custom_plan", transaction: tx, cancellationToken: ct));
            const string LUser = "(lower(user_id) COLLATE \"C\")";
            var members = await c.QueryAsync<MemberRow>(new CommandDefinition($"""
                /* SearchMembers */
                SELECT {MemberRepository.MemberColumns} FROM group_members
                WHERE gid = @gid
                  AND (({LUser} >= (lower(@q) COLLATE "C") AND {LUser} < ((lower(@q) || chr(1114111)) COLLATE "C")
                        AND lower(user_id) LIKE lower(@esc) || '%')
                       OR lower(name_card) LIKE '%' || lower(@esc) || '%')
                ORDER BY user_id LIMIT @limit
                """, new { gid = g.Gid, q = query, esc = SearchRules.EscapeLike(query), limit }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            return new SearchMembersResult(members.Select(m => m.ToInfo(m.UserId == actor.UserId || actor.IsAppAdmin, now)).ToList());
        }, ct);
    }

    private sealed class FoundGroup
    {
        public int Rank { get; init; }
        public string LName { get; init; } = "";
        public long Gid { get; init; }
        public string GroupId { get; init; } = "";
        public GroupType Type { get; init; }
        public string Name { get; init; } = "";
        public string FaceUrl { get; init; } = "";
        public string Introduction { get; init; } = "";
        public int MemberCount { get; init; }
        public int? MaxMembers { get; init; }
        public ApplyJoinOption ApplyJoinOption { get; init; }

        public PublicGroupInfo ToPublic() => new(GroupId, Type, Name, FaceUrl, Introduction, MemberCount, MaxMembers, ApplyJoinOption);
    }
}
