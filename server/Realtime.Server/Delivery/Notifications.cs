using System.Text.Json;

namespace Realtime.Server.Delivery;

/// <summary>A system message as pushed and synced: addressed to one user, ordered by the user's seq.</summary>
public sealed record SystemMessageDto(long Seq, Guid Id, string Type, string? GroupId, string? Actor, DateTime At, JsonElement Data);

/// <summary>A group event as pushed and synced: addressed to a group, ordered by the group's seq.</summary>
public sealed record GroupEventDto(string GroupId, long Seq, Guid Id, string Type, string? Actor, DateTime At, JsonElement Data)
{
    /// <summary>The type of chat messages: the events offline members are pushed.</summary>
    public const string MessageType = "Message";
}
