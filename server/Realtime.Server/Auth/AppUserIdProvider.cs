using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Delivery;

namespace Realtime.Server.Auth;

/// <summary>SignalR user ids are "app/user", so two apps' "alice" never share a user channel.</summary>
public sealed class AppUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection)
    {
        var user = connection.User;
        var app = user.FindFirst(TokenService.AppClaim)?.Value;
        var sub = user.FindFirst("sub")?.Value;
        return app is null || sub is null ? null : SignalRNames.User(app, sub);
    }
}
