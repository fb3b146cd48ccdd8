using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Realtime.Server.Admin;

/// <summary>
/// The examples of the OpenAPI document (/openapi/v1.json, rendered at /docs), in one place: a request body and
/// the success envelope per operation, and one error body on every admin operation. AdminDocsTests sends the
/// request examples to a real node and checks the answers have the fields the examples show.
/// </summary>
internal static class AdminApiExamples
{
    private const string GroupId = "@RT#K3J9QW2XZ7PA";

    private sealed record Example(string Path, string? Request, string Data, int? Count = null, string? Cursor = null);

    /// <summary>By operation id (AdminApi.Named). Path is the envelope's `path`; Request and Data are JSON.</summary>
    private static readonly Dictionary<string, Example> Examples = new(StringComparer.Ordinal)
    {
        ["CreateChatGroup"] = new("/chatgroups",
            """{ "groupname": "Team", "desc": "Our team", "public": true, "maxusers": 200, "owner": "alice", "members": ["bob", "carol"] }""",
            $$"""{ "groupid": "{{GroupId}}" }"""),
        ["GetChatGroups"] = new($"/chatgroups/{GroupId}", null,
            $$"""
            [{ "id": "{{GroupId}}", "name": "Team", "description": "Our team", "membersonly": false, "allowinvites": true,
               "maxusers": 200, "owner": "alice", "created": 1767225600000, "custom": "", "affiliations_count": 3, "disabled": false,
               "affiliations": [{ "owner": "alice" }, { "member": "bob" }, { "member": "carol" }], "public": true,
               "invite_need_confirm": false, "type": "Public", "notification": "", "faceUrl": "", "applyJoinOption": "FreeAccess",
               "inviteOption": "Anyone", "muteAll": false, "last_modified": 1767225600000, "version": 1, "lastSeq": 1 }]
            """),
        ["ModifyChatGroup"] = new($"/chatgroups/{GroupId}",
            """{ "groupname": "Team (new)", "maxusers": 300 }""",
            """{ "groupname": true, "maxusers": true }"""),
        ["DissolveChatGroup"] = new($"/chatgroups/{GroupId}", null, $$"""{ "success": true, "groupid": "{{GroupId}}" }"""),
        ["ListChatGroups"] = new("/chatgroups", null,
            $$"""
            [{ "owner": "alice", "groupid": "{{GroupId}}", "affiliations": 3, "type": "Public", "last_modified": 1767225600000,
               "groupname": "Team", "created": 1767225600000, "disabled": false }]
            """, Count: 1, Cursor: "eyJjIjoxNzY3MjI1NjAwMDAwfQ"),
        ["TransferChatGroup"] = new($"/chatgroups/{GroupId}/owner", """{ "newowner": "bob" }""", """{ "newowner": true }"""),
        ["GetChatGroupMembers"] = new($"/chatgroups/{GroupId}/users", null,
            """[{ "owner": "alice" }, { "member": "bob" }, { "member": "carol" }]""", Count: 3),
        ["AddChatGroupMembers"] = new($"/chatgroups/{GroupId}/users",
            """{ "usernames": ["dave", "erin"] }""",
            $$"""
            { "groupid": "{{GroupId}}", "action": "add_member", "newmembers": ["dave", "erin"],
              "results": [{ "user": "dave", "result": "Joined", "code": null }, { "user": "erin", "result": "Joined", "code": null }] }
            """),
        ["SetChatGroupAdmin"] = new($"/chatgroups/{GroupId}/admin", """{ "newadmin": "bob" }""", """{ "result": "success", "newadmin": "bob" }"""),
        ["MuteChatGroupMembers"] = new($"/chatgroups/{GroupId}/mute",
            """{ "usernames": ["bob"], "mute_duration": 600000 }""",
            """[{ "result": true, "user": "bob", "expire": 1767226200000 }]"""),
        ["IssueUserToken"] = new("/token",
            """{ "username": "alice", "ttl": 3600 }""",
            """{ "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…", "expires_in": 3600, "user": { "username": "alice" } }"""),
        ["SetChatGroupAttributes"] = new($"/chatgroups/{GroupId}/attributes",
            """{ "set": { "topic": "Hiking" }, "remove": ["seat3"], "expectedVersions": { "topic": 0 } }""",
            """{ "attributes": { "topic": { "value": "Hiking", "version": 1 } }, "seq": 7 }"""),
        ["ChangeChatGroupCounters"] = new($"/chatgroups/{GroupId}/counters",
            """{ "increment": { "likes": 1 } }""",
            """{ "counters": { "likes": 42 }, "seq": 8 }"""),
    };

    private static readonly string ErrorExample =
        """{ "error": "GroupNotFound", "code": 10004, "error_description": "group @RT#K3J9QW2XZ7PA does not exist", "timestamp": 1767225600000 }""";

    public static OpenApiOptions AddExamples(this OpenApiOptions options) => options.AddOperationTransformer((operation, context, _) =>
    {
        if (operation.OperationId is { } id && Examples.TryGetValue(id, out var example))
        {
            if (example.Request is { } request && operation.RequestBody?.Content is { } requestContent)
                foreach (var media in requestContent.Values) media.Example = JsonNode.Parse(request);
            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is { } okContent)
                foreach (var media in okContent.Values) media.Example = Envelope(context.Description.HttpMethod ?? "GET", example);
        }
        if (operation.Tags?.Any(t => t.Name == "Admin") == true && operation.Responses is { } responses)
        {
            foreach (var (status, response) in responses)
                if (status is "400" or "404" && response.Content is { } content)
                    foreach (var media in content.Values) media.Example = JsonNode.Parse(ErrorExample);
        }
        return Task.CompletedTask;
    });

    private static JsonNode Envelope(string method, Example example)
    {
        var envelope = new JsonObject
        {
            ["action"] = method.ToLowerInvariant(),
            ["application"] = "demo",
            ["uri"] = "http://127.0.0.1:5080/v1/apps/demo" + example.Path,
            ["path"] = example.Path,
            ["entities"] = new JsonArray(),
            ["data"] = JsonNode.Parse(example.Data),
            ["timestamp"] = 1767225600000,
            ["duration"] = 12,
        };
        if (example.Count is { } count) envelope["count"] = count;
        if (example.Cursor is { } cursor) envelope["cursor"] = cursor;
        return envelope;
    }
}
