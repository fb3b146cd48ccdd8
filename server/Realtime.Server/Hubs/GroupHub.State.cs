using System.Text.Json;
using Realtime.Server.GroupState;

namespace Realtime.Server.Hubs;

/// <summary>Group state (SPEC §9): attributes, counters, read cursors, online members.</summary>
public sealed partial class GroupHub
{
    private GroupStateCommands State { get; } = state;

    public Task<AttributesResult> SetGroupAttributes(JsonElement request) =>
        State.SetAttributesAsync(Actor, RealtimeJson.Bind<SetGroupAttributesRequest>(request), Context.ConnectionAborted, Context.ConnectionId);

    public Task<AttributesResult> GetGroupAttributes(JsonElement request) =>
        State.GetAttributesAsync(Actor, RealtimeJson.Bind<GetGroupAttributesRequest>(request), Context.ConnectionAborted);

    public Task<CountersResult> ChangeGroupCounters(JsonElement request) =>
        State.ChangeCountersAsync(Actor, RealtimeJson.Bind<ChangeGroupCountersRequest>(request), Context.ConnectionAborted, Context.ConnectionId);

    public Task<CountersResult> GetGroupCounters(JsonElement request) =>
        State.GetCountersAsync(Actor, RealtimeJson.Bind<GetGroupCountersRequest>(request), Context.ConnectionAborted);

    public Task<MarkReadResult> MarkRead(JsonElement request) =>
        State.MarkReadAsync(Actor, RealtimeJson.Bind<MarkReadRequest>(request), Context.ConnectionAborted, Context.ConnectionId);

    public Task<ReadCountResult> GetReadCount(JsonElement request) =>
        State.GetReadCountAsync(Actor, RealtimeJson.Bind<GetReadCountRequest>(request), Context.ConnectionAborted);

    public Task<ReadMembersResult> GetReadMembers(JsonElement request) =>
        State.GetReadMembersAsync(Actor, RealtimeJson.Bind<GetReadMembersRequest>(request), Context.ConnectionAborted);

    public Task<OnlineMembersResult> GetOnlineMembers(JsonElement request) =>
        State.GetOnlineMembersAsync(Actor, RealtimeJson.Bind<GetOnlineMembersRequest>(request), Context.ConnectionAborted);
}
