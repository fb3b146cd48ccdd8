using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

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
            default:
                throw new NotSupportedException($"hub protocol {protocol} is not supported yet");
        }
    }
}
