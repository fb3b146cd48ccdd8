using System.Text.Json;
using Realtime.Server.Delivery;

namespace Realtime.Server.Hubs;

public sealed partial class GroupHub
{
    /// <summary>Everything missed since the given cursors, in seq order (SPEC §4 Sync).</summary>
    public Task<SyncResult> Sync(JsonElement request) =>
        SyncReader.SyncAsync(Caller.AppId, Caller.UserId, RealtimeJson.Bind<SyncRequest>(request), Context.ConnectionAborted);
}
