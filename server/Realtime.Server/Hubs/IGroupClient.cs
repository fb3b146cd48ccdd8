using Realtime.Server.Delivery;

namespace Realtime.Server.Hubs;

/// <summary>The server-to-client methods of SPEC §4.</summary>
public interface IGroupClient
{
    Task SystemMessage(SystemMessageDto msg);

    Task GroupEvent(GroupEventDto evt);
}
