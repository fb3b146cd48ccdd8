using Microsoft.AspNetCore.SignalR;

namespace Realtime.Backplane.Redis.Internal;

// Registers the connection before the hub's OnConnectedAsync runs: the hub loads the user's groups
// from the database there, so a membership change committed after that load finds the connection
// here, and one committed before it is in the load. Either way the connection ends up attached.
internal sealed class LocalUserConnectionsFilter : IHubFilter
{
    private readonly LocalUserConnections _connections;

    public LocalUserConnectionsFilter(LocalUserConnections connections)
    {
        _connections = connections;
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var userId = context.Context.UserIdentifier;
        if (userId is null)
        {
            await next(context);
            return;
        }

        _connections.Add(context.Hub.GetType(), userId, context.Context);
        try
        {
            await next(context);
        }
        catch
        {
            // A failed OnConnectedAsync closes the connection without a matching OnDisconnectedAsync.
            _connections.Remove(context.Hub.GetType(), userId, context.Context.ConnectionId);
            throw;
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        finally
        {
            if (context.Context.UserIdentifier is { } userId)
            {
                _connections.Remove(context.Hub.GetType(), userId, context.Context.ConnectionId);
            }
        }
    }
}
