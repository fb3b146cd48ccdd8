using System.Text.Json.Serialization;
using Realtime.Server.Groups;

namespace Realtime.Server.Admin;

// What REST answers in `data`, under the Agora names; timestamps are epoch milliseconds.

/// <summary>One group of `GET /chatgroups/{ids}`.</summary>
public sealed record ChatGroupDetails(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("membersonly")] bool MembersOnly,
    [property: JsonPropertyName("allowinvites")] bool AllowInvites,
    [property: JsonPropertyName("maxusers")] int? MaxUsers,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("custom")] string Custom,
    [property: JsonPropertyName("affiliations_count")] int AffiliationsCount,
    [property: JsonPropertyName("disabled")] bool Disabled,
    [property: JsonPropertyName("affiliations")] IReadOnlyList<IReadOnlyDictionary<string, string>> Affiliations,
    [property: JsonPropertyName("public")] bool Public,
    [property: JsonPropertyName("invite_need_confirm")] bool InviteNeedConfirm,
    [property: JsonPropertyName("type")] GroupType Type,
    [property: JsonPropertyName("notification")] string Notification,
    [property: JsonPropertyName("faceUrl")] string FaceUrl,
    [property: JsonPropertyName("applyJoinOption")] ApplyJoinOption ApplyJoinOption,
    [property: JsonPropertyName("inviteOption")] InviteOption InviteOption,
    [property: JsonPropertyName("muteAll")] bool MuteAll,
    [property: JsonPropertyName("last_modified")] long LastModified,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("lastSeq")] long LastSeq)
{
    public static ChatGroupDetails From(GroupInfo g, IEnumerable<Affiliation> members) => new(
        g.GroupId, g.Name, g.Introduction, g.ApplyJoinOption == ApplyJoinOption.NeedPermission,
        g.InviteOption == InviteOption.Anyone, g.MaxMembers, g.Owner, AdminHttp.Ms(g.CreatedAt), g.Custom, g.MemberCount,
        g.Disabled, members.Select(AffiliationOf).ToList(), g.Type != GroupType.Private, g.InviteNeedsConfirm, g.Type,
        g.Notification, g.FaceUrl, g.ApplyJoinOption, g.InviteOption, g.MuteAll, AdminHttp.Ms(g.LastModified), g.Version,
        g.LastSeq);

    /// <summary>Agora's one-key form: `{"owner": "u1"}`, `{"admin": "u2"}`, `{"member": "u3"}`.</summary>
    public static IReadOnlyDictionary<string, string> AffiliationOf(Affiliation a) =>
        new Dictionary<string, string> { [a.Role.ToString().ToLowerInvariant()] = a.UserId };
}

/// <summary>One group of `GET /chatgroups` (all groups, paged).</summary>
public sealed record ListedChatGroup(
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("groupid")] string GroupId,
    [property: JsonPropertyName("affiliations")] int Affiliations,
    [property: JsonPropertyName("type")] GroupType Type,
    [property: JsonPropertyName("last_modified")] long LastModified,
    [property: JsonPropertyName("groupname")] string GroupName,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("disabled")] bool Disabled)
{
    public static ListedChatGroup From(ListedGroup g) => new(
        g.OwnerId, g.GroupId, g.MemberCount, g.Type, AdminHttp.Ms(g.LastModified), g.Name, AdminHttp.Ms(g.CreatedAt), g.Disabled);
}

/// <summary>One group of `GET /users/{user}/joined_chatgroups`.</summary>
public sealed record JoinedChatGroup(
    [property: JsonPropertyName("groupid")] string GroupId,
    [property: JsonPropertyName("groupname")] string GroupName,
    [property: JsonPropertyName("type")] GroupType Type,
    [property: JsonPropertyName("role")] MemberRole Role,
    [property: JsonPropertyName("faceUrl")] string FaceUrl,
    [property: JsonPropertyName("affiliations")] int Affiliations,
    [property: JsonPropertyName("joined")] long Joined,
    [property: JsonPropertyName("lastSeq")] long LastSeq,
    [property: JsonPropertyName("msgRecvOption")] MsgRecvOption MsgRecvOption)
{
    public static JoinedChatGroup From(JoinedGroup g) => new(
        g.GroupId, g.Name, g.Type, g.Role, g.FaceUrl, g.MemberCount, AdminHttp.Ms(g.JoinedAt), g.LastSeq, g.MsgRecvOption);
}
