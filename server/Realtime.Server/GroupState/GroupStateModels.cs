namespace Realtime.Server.GroupState;

/// <summary>One attribute: its value and its version (1 when first set, +1 on every change).</summary>
public sealed record AttributeValue(string Value, long Version);

public sealed record SetGroupAttributesRequest(
    string? GroupId,
    Dictionary<string, string>? Set = null,
    List<string>? Remove = null,
    Dictionary<string, long>? ExpectedVersions = null,
    string? RequestId = null);

public sealed record GetGroupAttributesRequest(string? GroupId, List<string>? Keys = null, string? RequestId = null);

/// <summary>A snapshot (a read: seq = the group's lastSeq at the read) or a write's result (seq = its event's).</summary>
public sealed record AttributesResult(SortedDictionary<string, AttributeValue> Attributes, long Seq);

public sealed record ChangeGroupCountersRequest(
    string? GroupId, Dictionary<string, long>? Increment = null, Dictionary<string, long>? Set = null, string? RequestId = null);

public sealed record GetGroupCountersRequest(string? GroupId, List<string>? Keys = null, string? RequestId = null);

public sealed record CountersResult(SortedDictionary<string, long> Counters, long Seq);

public sealed record MarkReadRequest(string? GroupId, long? Seq, string? RequestId = null);

public sealed record MarkReadResult(long LastReadSeq, long Unread);

public sealed record GetReadCountRequest(string? GroupId, long? Seq, string? RequestId = null);

public sealed record ReadCountResult(int Read, int Unread);

public sealed record GetReadMembersRequest(string? GroupId, long? Seq, bool? Read, int? Offset = null, int? Limit = null, string? RequestId = null);

public sealed record ReadMembersResult(int Total, IReadOnlyList<string> UserIds);

public sealed record GetOnlineMembersRequest(string? GroupId, int? Offset = null, int? Limit = null, string? RequestId = null);

public sealed record OnlineMembersResult(int Online, IReadOnlyList<string> UserIds);
