using System.Text.Json;

namespace Realtime.Client;

/// <summary>System message types (SPEC §4, §9); <see cref="Unknown"/> for a type this client does not know yet.</summary>
public enum SystemMessageKind
{
    Unknown, GroupCreated, GroupDissolved, JoinedGroup, InvitationReceived, InvitationHandled, JoinRequestReceived,
    JoinRequestHandled, Kicked, QuitGroup, OwnershipTransferred, RoleChanged, Muted, GroupDisabled, GroupEnabled, ReadCursorMoved,
}

/// <summary>Group event types (SPEC §4, §9); <see cref="Unknown"/> for a type this client does not know yet.</summary>
public enum GroupEventKind
{
    Unknown, MembersJoined, MemberQuit, MembersKicked, ProfileChanged, MemberChanged, OwnerChanged, GroupDissolved, Message,
    AttributesChanged, CountersChanged,
}

/// <summary>A message addressed to the user, ordered by the user's <c>Seq</c>.</summary>
public sealed record SystemMessage(long Seq, Guid Id, string Type, string? GroupId, string? Actor, DateTime At, JsonElement Data) : IStreamItem
{
    public SystemMessageKind Kind => Enum.TryParse<SystemMessageKind>(Type, out var k) ? k : SystemMessageKind.Unknown;

    /// <summary>The data as one of the typed records below (match on <see cref="Kind"/>), e.g. <c>DataAs&lt;JoinedGroupData&gt;()</c>.</summary>
    public T DataAs<T>() => Data.Deserialize<T>(ClientJson.Options)!;
}

/// <summary>An event addressed to a group, ordered by the group's <c>Seq</c>; chat messages are <see cref="GroupEventKind.Message"/>.</summary>
public sealed record GroupEvent(string GroupId, long Seq, Guid Id, string Type, string? Actor, DateTime At, JsonElement Data) : IStreamItem
{
    public GroupEventKind Kind => Enum.TryParse<GroupEventKind>(Type, out var k) ? k : GroupEventKind.Unknown;

    public T DataAs<T>() => Data.Deserialize<T>(ClientJson.Options)!;

    /// <summary>The chat message this event carries, or null when it is another kind.</summary>
    public MessageData? Message => Kind == GroupEventKind.Message ? DataAs<MessageData>() : null;
}

// ---- group event data
public sealed record MembersJoinedData(IReadOnlyList<string> UserIds, string? Inviter = null);

public sealed record MemberQuitData(string UserId);

public sealed record MembersKickedData(IReadOnlyList<string> UserIds, string? Reason = null);

/// <summary>Changed fields with their new values.</summary>
public sealed record ProfileChangedData(IReadOnlyDictionary<string, JsonElement> Changes);

public sealed record MemberChangedData(string UserId, IReadOnlyDictionary<string, JsonElement> Changes);

public sealed record OwnerChangedData(string OldOwner, string NewOwner);

public sealed record MessageData(Guid MessageId, string Sender, string? Text = null, JsonElement? Payload = null, string? ClientMsgId = null);

/// <summary>A removed key maps to null.</summary>
public sealed record AttributesChangedData(IReadOnlyDictionary<string, AttributeValue?> Changes);

public sealed record CountersChangedData(IReadOnlyDictionary<string, long> Counters);

// ---- system message data
public sealed record GroupCreatedData(GroupType Type, string Name, long JoinSeq, string Epoch);

public sealed record JoinedGroupData(long JoinSeq, string? Epoch = null, string? Inviter = null);

public sealed record InvitationReceivedData(Guid PendingId, string Inviter, string Message);

public sealed record InvitationHandledData(Guid PendingId, string? Invitee, bool Approved, string? Reason = null);

public sealed record JoinRequestReceivedData(Guid PendingId, string Applicant, string Message);

public sealed record JoinRequestHandledData(Guid PendingId, bool Approved, string? Reason = null);

public sealed record KickedData(string? Reason = null);

public sealed record OwnershipTransferredData(string OldOwner, string NewOwner);

public sealed record RoleChangedData(MemberRole Role);

public sealed record MutedData(DateTime? MutedUntil, long MuteSeconds);

public sealed record ReadCursorMovedData(string GroupId, long Seq);

/// <summary>
/// The group's events after the cursor were trimmed by retention, or the group id now names
/// another group (dissolved and created again): what the app shows of it may be stale, reload it
/// (<see cref="GroupId"/> null: the user's system-message stream). Events after it follow as usual.
/// </summary>
public sealed record StreamTooOld(string? GroupId) : IStreamItem;

/// <summary>The user is no longer a member of the group; every event up to the removal was delivered before this.</summary>
public sealed record GroupRemoved(string GroupId) : IStreamItem;

/// <summary>
/// One Sync (all its rounds): why it ran (<c>start</c>, <c>reconnect</c>, <c>restart</c> after reconnecting gave up,
/// <c>push</c>: a gap or a membership change, <c>requested</c>, <c>retry</c>), how long it took and how many items it delivered.
/// </summary>
public sealed record SyncCompleted(string Reason, TimeSpan Duration, int Delivered, int Rounds);

/// <summary>Counters of the delivery loop, for diagnostics.</summary>
public sealed record ClientStats(long DuplicatesDropped, long GapsDetected);
