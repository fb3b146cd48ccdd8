using System.Text.Json.Serialization;
using Realtime.Server.Groups;

namespace Realtime.Server.Admin;

// REST bodies use the Agora names; our own fields (type, notification, faceUrl, ...) sit beside them.
// Binding refuses any other field by name, as the hub does.

/// <summary>`POST /chatgroups`.</summary>
public sealed record CreateChatGroupBody(
    [property: JsonPropertyName("groupname")] string? GroupName = null,
    [property: JsonPropertyName("desc")] string? Desc = null,
    [property: JsonPropertyName("description")] string? Description = null,
    [property: JsonPropertyName("public")] bool? Public = null,
    [property: JsonPropertyName("maxusers")] int? MaxUsers = null,
    [property: JsonPropertyName("allowinvites")] bool? AllowInvites = null,
    [property: JsonPropertyName("membersonly")] bool? MembersOnly = null,
    [property: JsonPropertyName("invite_need_confirm")] bool? InviteNeedConfirm = null,
    [property: JsonPropertyName("owner")] string? Owner = null,
    [property: JsonPropertyName("members")] IReadOnlyList<string>? Members = null,
    [property: JsonPropertyName("custom")] string? Custom = null,
    [property: JsonPropertyName("groupid")] string? GroupId = null,
    [property: JsonPropertyName("type")] GroupType? Type = null,
    [property: JsonPropertyName("notification")] string? Notification = null,
    [property: JsonPropertyName("faceUrl")] string? FaceUrl = null,
    [property: JsonPropertyName("requestId")] string? RequestId = null);

/// <summary>`PUT /chatgroups/{id}`: absent fields are unchanged.</summary>
public sealed record ModifyChatGroupBody(
    [property: JsonPropertyName("groupname")] string? GroupName = null,
    [property: JsonPropertyName("description")] string? Description = null,
    [property: JsonPropertyName("maxusers")] int? MaxUsers = null,
    [property: JsonPropertyName("membersonly")] bool? MembersOnly = null,
    [property: JsonPropertyName("allowinvites")] bool? AllowInvites = null,
    [property: JsonPropertyName("invite_need_confirm")] bool? InviteNeedConfirm = null,
    [property: JsonPropertyName("custom")] string? Custom = null,
    [property: JsonPropertyName("notification")] string? Notification = null,
    [property: JsonPropertyName("faceUrl")] string? FaceUrl = null,
    [property: JsonPropertyName("muteAll")] bool? MuteAll = null,
    [property: JsonPropertyName("requestId")] string? RequestId = null);

/// <summary>`POST /chatgroups/{id}/users`.</summary>
public sealed record AddMembersBody(
    [property: JsonPropertyName("usernames")] IReadOnlyList<string>? Usernames = null,
    [property: JsonPropertyName("silent")] bool? Silent = null);

/// <summary>`PUT /chatgroups/{id}/owner`.</summary>
public sealed record TransferOwnerBody([property: JsonPropertyName("newowner")] string? NewOwner = null);

/// <summary>`POST /chatgroups/{id}/admin`.</summary>
public sealed record SetAdminBody([property: JsonPropertyName("newadmin")] string? NewAdmin = null);

/// <summary>`POST /chatgroups/{id}/mute`: `mute_duration` in milliseconds.</summary>
public sealed record MuteBody(
    [property: JsonPropertyName("usernames")] IReadOnlyList<string>? Usernames = null,
    [property: JsonPropertyName("mute_duration")] long? MuteDuration = null);

/// <summary>`POST /token`: `ttl` in seconds.</summary>
public sealed record TokenBody(
    [property: JsonPropertyName("username")] string? Username = null,
    [property: JsonPropertyName("ttl")] long? Ttl = null);
