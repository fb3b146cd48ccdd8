using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Realtime.Server.History;
using Realtime.Server.InviteLinks;
using Realtime.Server.Search;

namespace Realtime.Server.Hubs;

/// <summary>History, invite links and search (SPEC §9). Their features come as method services, so the hub's constructor stays as it is.</summary>
public sealed partial class GroupHub
{
    public Task<MessagesPage> GetMessages(JsonElement request, [FromServices] MessageHistory history) =>
        history.GetAsync(Actor, RealtimeJson.Bind<GetMessagesRequest>(request), Context.ConnectionAborted);

    public Task<InviteLink> CreateInviteLink(JsonElement request, [FromServices] InviteLinkCommands links) =>
        links.CreateAsync(Actor, RealtimeJson.Bind<CreateInviteLinkRequest>(request), Context.ConnectionAborted);

    public Task<IReadOnlyList<InviteLink>> GetInviteLinks(JsonElement request, [FromServices] InviteLinkCommands links) =>
        links.GetAsync(Actor, RealtimeJson.Bind<GetInviteLinksRequest>(request), Context.ConnectionAborted);

    public Task<InviteLink> RevokeInviteLink(JsonElement request, [FromServices] InviteLinkCommands links) =>
        links.RevokeAsync(Actor, RealtimeJson.Bind<RevokeInviteLinkRequest>(request), Context.ConnectionAborted);

    public Task<JoinByInviteLinkResult> JoinByInviteLink(JsonElement request, [FromServices] InviteLinkCommands links) =>
        links.JoinAsync(Actor, RealtimeJson.Bind<JoinByInviteLinkRequest>(request), Context.ConnectionAborted, Context.ConnectionId);

    public Task<SearchGroupsResult> SearchGroups(JsonElement request, [FromServices] GroupSearch search) =>
        search.SearchGroupsAsync(Actor, RealtimeJson.Bind<SearchGroupsRequest>(request), Context.ConnectionAborted);

    public Task<SearchMembersResult> SearchMembers(JsonElement request, [FromServices] GroupSearch search) =>
        search.SearchMembersAsync(Actor, RealtimeJson.Bind<SearchMembersRequest>(request), Context.ConnectionAborted);
}
