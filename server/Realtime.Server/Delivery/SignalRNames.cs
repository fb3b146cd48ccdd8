namespace Realtime.Server.Delivery;

/// <summary>Every SignalR user and group name is built here, and nowhere else.</summary>
public static class SignalRNames
{
    public static string User(string appId, string userId) => $"{appId}/{userId}";

    /// <summary>
    /// By the group's internal id, not its public one: a dissolved group's id may be taken again,
    /// and a connection left attached to the old group must never hear the new one.
    /// </summary>
    public static string Group(string appId, long gid) => $"{appId}/g{gid}";
}
