using Realtime.Server.Delivery;

namespace Realtime.Server.History;

/// <summary>GetMessages (SPEC §9): Message events with seq &lt; <c>before</c> (default: the newest), newest first.</summary>
public sealed record GetMessagesRequest(string? GroupId, long? Before = null, int? Limit = null, string? RequestId = null);

/// <summary>A page of a group's messages, newest first; <c>hasMore</c>: older visible messages remain (pass the last seq as <c>before</c>).</summary>
public sealed record MessagesPage(IReadOnlyList<GroupEventDto> Items, bool HasMore);
