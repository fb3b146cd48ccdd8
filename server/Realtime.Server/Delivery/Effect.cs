namespace Realtime.Server.Delivery;

/// <summary>What a command hands to live delivery: membership of live channels, then pushes.</summary>
public abstract record Effect
{
    /// <summary>Applied before commit (Publisher.ApplyBeforeCommitAsync), never with the pushes.</summary>
    public sealed record Attach(string UserId, long Gid) : Effect;
    public sealed record Detach(string UserId, long Gid) : Effect;
    public sealed record PushGroupEvent(long Gid, GroupEventDto Event) : Effect;
    public sealed record PushSystemMessage(string UserId, SystemMessageDto Message) : Effect;
}
