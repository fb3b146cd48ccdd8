using System.Text.Json;
using Realtime.Server.Messaging;

namespace Realtime.Server.Hubs;

public sealed partial class GroupHub
{
    public Task<SendMessageResult> SendMessage(JsonElement request) =>
        Messages.SendAsync(Actor, RealtimeJson.Bind<SendMessageRequest>(request), Context.ConnectionAborted, Context.ConnectionId);
}
