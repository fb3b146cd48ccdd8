using Microsoft.AspNetCore.SignalR;
using Realtime.Server.Auth;
using Realtime.Server.Data;
using Realtime.Server.Groups;
using Realtime.Server.Hubs;

namespace Realtime.Server.Delivery;

/// <summary>
/// Joins a new terminal to the live channels of its user's groups. The database holds
/// membership; this node only mirrors it for its own connections.
/// </summary>
public sealed class TerminalAttacher(Db db, IHubContext<GroupHub, IGroupClient> hub)
{
    public async Task AttachAsync(Caller caller, string connectionId, CancellationToken ct)
    {
        // The connection is already known to the lifetime manager under its user, so a
        // membership change committed from now on reaches it by the user-wide attach/detach.
        // A change committed before is in this read; a removal racing between this read and
        // our attach is caught by the second read below.
        var groups = await ReadAsync(caller, ct);
        foreach (var groupId in groups)
            await hub.Groups.AddToGroupAsync(connectionId, SignalRNames.Group(caller.AppId, groupId), ct);

        var now = (await ReadAsync(caller, ct)).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in groups.Where(g => !now.Contains(g)))
            await hub.Groups.RemoveFromGroupAsync(connectionId, SignalRNames.Group(caller.AppId, gone), ct);
    }

    private async Task<IReadOnlyList<string>> ReadAsync(Caller caller, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return await GroupRepository.GroupIdsOfAsync(connection, caller.AppId, caller.UserId);
    }
}
