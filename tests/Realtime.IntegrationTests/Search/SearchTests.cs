using System.Text.Json;
using Dapper;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Search;

/// <summary>SearchGroups and SearchMembers (SPEC §9) on a populated table, over real WebSockets.</summary>
public sealed class SearchTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    /// <summary>A word no other test's group names hold.</summary>
    private static string Token() => "k" + Guid.NewGuid().ToString("N")[..7];

    /// <summary>Groups written straight to the table (a populated app without thousands of commands), Public unless told.</summary>
    private async Task InsertGroupsAsync(IEnumerable<string> names, string type = "Public", string app = RealtimeNode.App)
    {
        await using var db = await fixture.Database.OpenAsync();
        var list = names.ToArray();
        await db.ExecuteAsync("""
            INSERT INTO groups (app_id, group_id, type, name, owner_id, max_members, apply_join_option, invite_option, created_at, last_modified, member_count)
            SELECT @app, 'seed-' || md5(random()::text || n), @type, n, 'seed-owner', 2000, 'NeedPermission', 'AdminsOnly', now(), now(), 1
            FROM unnest(@list) AS n
            """, new { app, type, list });
    }

    private static string[] Names(JsonElement result) => result.GetProperty("groups").EnumerateArray().Select(g => g.Str("name")).ToArray();

    [Fact]
    public async Task SearchGroups_AmongThousands_PrefixFirstCaseInsensitiveAndNeverPrivateDisabledDissolvedOrAnotherApps()
    {
        var tok = Token();
        await InsertGroupsAsync(Enumerable.Range(0, 3000).Select(i => $"noise group {i} {(i % 2 == 0 ? "hiking" : "chess")}"));
        await using var o = await Node.ConnectAsync(Unique("o"));
        await using var x = await Node.ConnectAsync(Unique("x"));
        async Task<string> Create(string type, string name) => (await o.InvokeAsync("CreateGroup", new { type, name })).Str("groupId");
        await Create("Public", $"{tok} Club");
        await Create("ChatRoom", tok.ToUpperInvariant());
        await Create("AVChatRoom", $"Mountain {tok}");
        await Create("Public", $"the {tok}ers");
        await Create("Private", $"{tok} secret");
        var disabled = await Create("Public", $"{tok} disabled");
        using (var rest = RestClient.Admin(Node)) (await rest.PostAsync($"/chatgroups/{Uri.EscapeDataString(disabled)}/disable")).Ok();
        await o.InvokeAsync("DissolveGroup", await Create("Public", $"{tok} dissolved"));
        await InsertGroupsAsync([$"{tok} of another app"], app: RealtimeNode.OtherApp);

        var result = await x.InvokeAsync("SearchGroups", new { query = tok.ToUpperInvariant()[..6] + tok[6..] });

        Assert.Equal([tok.ToUpperInvariant(), $"{tok} Club", $"Mountain {tok}", $"the {tok}ers"], Names(result));
        Assert.False(result.TryGetProperty("cursor", out _));
        var first = result.GetProperty("groups")[0];
        Assert.Equal("ChatRoom", first.Str("type"));
        // The public profile only (what SearchGroup shows non-members).
        Assert.Equal(["applyJoinOption", "faceUrl", "groupId", "introduction", "maxMembers", "memberCount", "name", "type"],
            first.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SearchGroups_PagedByCursor_EveryMatchOnceInOrder()
    {
        var tok = Token();
        var prefixed = Enumerable.Range(0, 23).Select(i => $"{tok} {i:D2}").ToList();
        var inside = Enumerable.Range(0, 19).Select(i => $"{i:D2} {tok}").ToList();
        await InsertGroupsAsync(prefixed.Concat(inside).Reverse());
        await InsertGroupsAsync([$"{tok} hidden"], type: "Private");
        await using var x = await Node.ConnectAsync(Unique("x"));

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await x.InvokeAsync("SearchGroups", new { query = tok, limit = 5, cursor });
            seen.AddRange(Names(page));
            cursor = page.TryGetProperty("cursor", out var c) ? c.GetString() : null;
            pages++;
        } while (cursor is not null && pages < 20);

        Assert.Equal(prefixed.Concat(inside), seen);
        Assert.Equal(9, pages);
        Assert.Equal(20, Names(await x.InvokeAsync("SearchGroups", new { query = tok })).Length);
        Assert.Equal(42, Names(await x.InvokeAsync("SearchGroups", new { query = tok, limit = 50 })).Length);
    }

    [Fact]
    public async Task SearchGroups_LikeSpecialsInTheQuery_MatchThemselves()
    {
        var tok = Token();
        await InsertGroupsAsync([$"{tok} 50% off", $"{tok} 50x off", $"{tok} a_b", $"{tok} axb", $"{tok} c\\d"]);
        await using var x = await Node.ConnectAsync(Unique("x"));

        Assert.Equal([$"{tok} 50% off"], Names(await x.InvokeAsync("SearchGroups", new { query = "50%" })));
        Assert.Equal([$"{tok} a_b"], Names(await x.InvokeAsync("SearchGroups", new { query = $"{tok} a_" })));
        Assert.Equal([$"{tok} c\\d"], Names(await x.InvokeAsync("SearchGroups", new { query = "c\\d" })));
    }

    [Theory]
    [InlineData("""{"query":""}""", "query")]
    [InlineData("""{"query":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", "query")]
    [InlineData("""{"query":"a","limit":0}""", "limit")]
    [InlineData("""{"query":"a","limit":51}""", "limit")]
    [InlineData("""{"query":"a","cursor":"nope!"}""", "cursor")]
    [InlineData("""{"query":"a","cursor":"AAAAAAAAAAAA"}""", "cursor")]
    [InlineData("""{"limit":5}""", "query")]
    [InlineData("""{"query":"a","offset":5}""", "offset")]
    public async Task SearchGroups_BadRequest_InvalidArgumentNamingField(string request, string field)
    {
        await using var c = await Node.ConnectAsync(Unique("u"));

        var message = await Expect.HubError(ErrorCode.InvalidArgument, () => c.InvokeAsync("SearchGroups", JsonDocument.Parse(request).RootElement));

        Assert.Contains(field, message);
    }

    [Fact]
    public async Task SearchMembers_UserIdPrefixOrNameCardSubstring_CaseInsensitiveMembersOnly()
    {
        var tok = Token();
        var owner = $"{tok}owner";
        var members = new[] { $"{tok}alice", $"{tok}Alfred", $"bob{tok}", $"carol{tok}", $"dave{tok}" };
        await using var o = await Node.ConnectAsync(owner);
        await using var x = await Node.ConnectAsync(Unique("x"));
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "people", members })).Str("groupId");
        for (var batch = 0; batch < 3; batch++)
            await o.InvokeAsync("InviteMembers", new { groupId, userIds = Enumerable.Range(batch * 100, 100).Select(i => $"{tok}-filler{i:D3}").ToArray() });
        await o.InvokeAsync("UpdateMember", new { groupId, userId = $"bob{tok}", nameCard = "The ALPine guide" });
        await o.InvokeAsync("UpdateMember", new { groupId, userId = $"carol{tok}", nameCard = "Carol" });
        await o.InvokeAsync("UpdateMember", new { groupId, userId = owner, msgRecvOption = "ReceiveNoNotify" });

        var al = await o.InvokeAsync("SearchMembers", new { groupId, query = $"{tok.ToUpperInvariant()}AL" });
        var alp = await o.InvokeAsync("SearchMembers", new { groupId, query = "alp" });
        var own = await o.InvokeAsync("SearchMembers", new { groupId, query = owner });
        var limited = await o.InvokeAsync("SearchMembers", new { groupId, query = $"{tok}-filler", limit = 100 });

        string[] Ids(JsonElement r) => r.GetProperty("members").EnumerateArray().Select(m => m.Str("userId")).ToArray();
        Assert.Equal([$"{tok}Alfred", $"{tok}alice"], Ids(al).Order(StringComparer.Ordinal));
        Assert.Equal([$"bob{tok}"], Ids(alp));
        Assert.Equal("The ALPine guide", alp.GetProperty("members")[0].Str("nameCard"));
        Assert.False(alp.GetProperty("members")[0].TryGetProperty("msgRecvOption", out _), "another member's msgRecvOption is private");
        Assert.Equal("ReceiveNoNotify", own.GetProperty("members")[0].Str("msgRecvOption"));
        Assert.Equal(100, Ids(limited).Length);
        Assert.Equal(20, Ids(await o.InvokeAsync("SearchMembers", new { groupId, query = $"{tok}-filler" })).Length);
        Assert.Empty(Ids(await o.InvokeAsync("SearchMembers", new { groupId, query = "nobody-like-this" })));

        await Expect.HubError(ErrorCode.NotMember, () => x.InvokeAsync("SearchMembers", new { groupId, query = "al" }));
        var priv = (await o.InvokeAsync("CreateGroup", new { type = "Private", name = "hidden" })).Str("groupId");
        await Expect.HubError(ErrorCode.GroupNotFound, () => x.InvokeAsync("SearchMembers", new { groupId = priv, query = "al" }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("SearchMembers", new { groupId, query = "al", limit = 101 }));
        await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("SearchMembers", new { groupId, query = "" }));
    }
}
