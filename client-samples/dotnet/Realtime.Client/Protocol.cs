using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Protocol;

namespace Realtime.Client;

internal static class ClientProtocol
{
    public static void Add(IHubConnectionBuilder builder, HubProtocol protocol)
    {
        switch (protocol)
        {
            case HubProtocol.Json:
                builder.AddJsonProtocol(o => ClientJson.Configure(o.PayloadSerializerOptions));
                break;
            case HubProtocol.MessagePack:
                builder.AddMessagePackProtocol(o => o.SerializerOptions = JsonMessagePack.SerializerOptions(ClientJson.Options));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "unknown hub protocol");
        }
    }
}
