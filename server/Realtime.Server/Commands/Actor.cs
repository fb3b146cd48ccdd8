using Realtime.Server.Auth;

namespace Realtime.Server.Commands;

/// <summary>Who runs a command: a user through the hub, or the app's admin through REST.</summary>
public sealed record Actor(string AppId, string? UserId, bool IsAppAdmin)
{
    public static Actor User(Caller caller) => new(caller.AppId, caller.UserId, false);

    public static Actor AppAdmin(string appId) => new(appId, null, true);

    /// <summary>The user for rules that need one; the app admin has none.</summary>
    public string RequireUser() => UserId ?? throw new InvalidOperationException("this command needs a user");

    /// <summary>How the app admin is named where a user id would stand: '/' is never in a user id.</summary>
    public const string AppAdminName = "/admin";

    /// <summary>The key under which requestIds are remembered, and the operator named in callbacks.</summary>
    public string IdempotencyOwner => UserId ?? AppAdminName;
}
