namespace Realtime.Server.Delivery;

/// <summary>Every SignalR user and group name is built here, and nowhere else.</summary>
public static class SignalRNames
{
    public static string User(string appId, string userId) => $"{appId}/{userId}";

    public static string Group(string appId, string groupId) => $"{appId}/{groupId}";
}
