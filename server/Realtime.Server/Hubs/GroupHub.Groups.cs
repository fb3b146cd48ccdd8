using System.Text.Json;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Hubs;

public sealed partial class GroupHub
{
    public Task<GroupInfo> CreateGroup(JsonElement request) =>
        GroupCommands.CreateAsync(Actor, RealtimeJson.Bind<CreateGroupRequest>(request), Caller.UserId, Context.ConnectionAborted);

    public Task<GetGroupsResult> GetGroups(JsonElement groupIds)
    {
        if (groupIds.ValueKind != JsonValueKind.Array || groupIds.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw RealtimeException.Invalid("groupIds", "must be an array of group ids");
        return GroupCommands.GetAsync(Actor, groupIds.EnumerateArray().Select(e => RealtimeJson.String(e, "groupIds")!).ToList(), Context.ConnectionAborted);
    }

    public Task<PublicGroupInfo> SearchGroup(JsonElement groupId) =>
        GroupCommands.SearchAsync(Actor, RealtimeJson.String(groupId, "groupId"), Context.ConnectionAborted);

    public Task<GroupInfo> UpdateGroupProfile(JsonElement request) =>
        GroupCommands.UpdateProfileAsync(Actor, RealtimeJson.Bind<UpdateGroupProfileRequest>(request), Context.ConnectionAborted);

    public Task DissolveGroup(JsonElement groupId) =>
        GroupCommands.DissolveAsync(Actor, RealtimeJson.String(groupId, "groupId"), Context.ConnectionAborted);

    public Task TransferOwnership(JsonElement groupId, JsonElement newOwnerId) =>
        GroupCommands.TransferOwnershipAsync(
            Actor, RealtimeJson.String(groupId, "groupId"), RealtimeJson.String(newOwnerId, "newOwnerId"), Context.ConnectionAborted);

    public Task<JoinedGroupsResult> GetJoinedGroups(JsonElement request)
    {
        var r = RealtimeJson.Bind<GetJoinedGroupsRequest>(request);
        Validate.RequestId(r.RequestId);
        return GroupCommands.JoinedAsync(Caller.AppId, Caller.UserId, r.Offset, r.Limit, Context.ConnectionAborted);
    }
}
