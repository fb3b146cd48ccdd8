using System.Text.Json.Serialization;
using Realtime.Server.Groups;

namespace Realtime.Server.Delivery;

/// <summary>Sync's request: the last seqs a terminal has seen (exclusive cursors; 0 = from the start), a group's with its epoch when known.</summary>
public sealed record SyncRequest(long? SystemSince,
    [property: JsonConverter(typeof(SyncCursorsConverter))] Dictionary<string, SyncCursor>? Groups = null, int? Limit = null, string? RequestId = null)
{
    /// <summary>Accepted as on every object argument (SPEC §4) and ignored, a read having nothing to repeat; its length is checked as it binds.</summary>
    public string? RequestId { get; init; } = Validate.RequestId(RequestId);
}

public sealed record SyncResult(SystemSync System, Dictionary<string, GroupSync> Groups);

/// <summary>tooOld: messages after the cursor were trimmed by retention; the client reloads state.</summary>
public sealed record SystemSync(IReadOnlyList<SystemMessageDto> Items, long Next, bool HasMore, bool TooOld);

/// <summary>
/// removed: the user is no longer a member; items stop at the event that removed them. epoch: the
/// incarnation answered for (absent when the user never had a window on any group of the id); a
/// cursor with another epoch gets tooOld, no items, and next where the user's part of this one starts.
/// </summary>
public sealed record GroupSync(IReadOnlyList<GroupEventDto> Items, long Next, bool HasMore, bool Removed, bool TooOld, string? Epoch = null);
