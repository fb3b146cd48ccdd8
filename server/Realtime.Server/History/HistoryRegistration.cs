using Realtime.Server.InviteLinks;
using Realtime.Server.Search;

namespace Realtime.Server.History;

/// <summary>The services of SPEC §9's history, invite links and search, registered in one call.</summary>
public static class HistoryRegistration
{
    public static IServiceCollection AddHistoryLinksSearch(this IServiceCollection services)
    {
        services.AddSingleton<MessageHistory>();
        services.AddSingleton<InviteLinkProbeLimiter>();
        services.AddSingleton<InviteLinkCommands>();
        services.AddSingleton<GroupSearch>();
        return services;
    }
}
