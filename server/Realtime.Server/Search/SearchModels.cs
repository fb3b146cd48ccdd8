using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.Server.Search;

public sealed record SearchGroupsRequest(string? Query, int? Limit = null, string? Cursor = null, string? RequestId = null);

/// <summary><c>cursor</c>: pass it back for the next page; absent on the last.</summary>
public sealed record SearchGroupsResult(IReadOnlyList<PublicGroupInfo> Groups, string? Cursor = null);

public sealed record SearchMembersRequest(string? GroupId, string? Query, int? Limit = null, string? RequestId = null);

public sealed record SearchMembersResult(IReadOnlyList<MemberInfo> Members);
