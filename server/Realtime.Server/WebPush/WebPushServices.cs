using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Realtime.Server.WebPush;

/// <summary>Registers Web Push: subscriptions, the VAPID keys, the guarded HttpClient, fan-out and sender.</summary>
public static class WebPushServices
{
    public static IServiceCollection AddWebPush(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WebPushOptions>(configuration.GetSection("Realtime:WebPush"));
        services.TryAddSingleton<VapidKeys>();
        services.TryAddSingleton<EndpointGuard>();
        services.TryAddSingleton<PushSubscriptions>();
        services.TryAddSingleton<WebPushFanOut>();
        services.TryAddSingleton<WebPushSender>();
        services.AddTransient<WebPushRequestHandler>();
        services.AddHttpClient(EndpointGuard.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<EndpointGuard>().CreateHandler())
            .AddHttpMessageHandler<WebPushRequestHandler>();
        return services;
    }
}
