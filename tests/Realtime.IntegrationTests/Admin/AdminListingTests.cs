using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

/// <summary>`GET /chatgroups`: every group of the app, paged by an opaque cursor that survives concurrent creation.</summary>
public sealed class AdminListingTests : IAsyncLifetime
{
    // A database of its own: the listing covers the whole app.
    private readonly ServerFixture _server = new();
    private RestClient _admin = null!;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _admin = RestClient.Admin(_server.Node);
    }

    private async Task<List<string>> CreateGroupsAsync(int count, string prefix)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
            ids.Add(await _admin.CreateGroupAsync(new { groupid = $"{prefix}{i:D4}", groupname = $"{prefix}{i}", @public = true, owner = "o" }));
        return ids;
    }

    [Fact]
    public async Task ListChatGroups_250WithLimit100WhileCreating_EachExistingGroupExactlyOnce()
    {
        var existing = await CreateGroupsAsync(250, "pre-");
        using var stop = new CancellationTokenSource();
        var created = new List<string>();
        var someCreated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var creator = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = await _admin.CreateGroupAsync(new { groupid = $"new-{i:D4}", groupname = $"new{i}", @public = true, owner = "o" });
                lock (created) created.Add(id);
                if (i == 4) someCreated.TrySetResult();
            }
        });

        var seen = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var response = await _admin.GetAsync($"/chatgroups?limit=100{(cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")}");
            var data = response.Ok();
            var ids = data.EnumerateArray().Select(g => g.Str("groupid")).ToList();
            Assert.Equal(ids.Count, response.Body.Int("count"));
            Assert.InRange(ids.Count, 0, 100);
            seen.AddRange(ids);
            cursor = response.Body.TryGetProperty("cursor", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.String ? c.GetString() : null;
            pages++;
            // Let the creator land groups between pages, and stop it before the listing can outrun it forever.
            if (pages == 2) await someCreated.Task.WaitAsync(TimeSpan.FromSeconds(30));
            if (pages == 3) await stop.CancelAsync();
        } while (cursor is not null && pages < 20);
        await stop.CancelAsync();
        await creator.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(cursor);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(existing.Except(seen));
        Assert.Empty(seen.Except(existing).Except(created));
        Assert.True(seen.Intersect(created).Any(), "groups created while paging appear in later pages");
    }

    [Fact]
    public async Task ListChatGroups_DefaultLimit_TenWithFields()
    {
        var ids = await CreateGroupsAsync(12, "def-");

        var response = await _admin.GetAsync("/chatgroups");

        var data = response.Ok();
        Assert.Equal(10, response.Body.Int("count"));
        Assert.Equal(10, data.GetArrayLength());
        Assert.False(string.IsNullOrEmpty(response.Body.Str("cursor")));
        var first = data.EnumerateArray().First(g => g.Str("groupid") == ids[0]);
        Assert.Equal(("o", "def-0", "Public", 1), (first.Str("owner"), first.Str("groupname"), first.Str("type"), first.Int("affiliations")));
        Assert.True(first.Long("last_modified") > 0);
    }

    [Fact]
    public async Task ListChatGroups_DissolvedGroup_NotListed()
    {
        var ids = await CreateGroupsAsync(3, "dis-");
        (await _admin.DeleteAsync($"/chatgroups/{ids[1]}")).Ok();

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var response = await _admin.GetAsync($"/chatgroups?limit=100{(cursor is null ? "" : $"&cursor={cursor}")}");
            seen.AddRange(response.Ok().EnumerateArray().Select(g => g.Str("groupid")));
            cursor = response.Body.TryGetProperty("cursor", out var c) ? c.GetString() : null;
        } while (cursor is not null);

        Assert.Contains(ids[0], seen);
        Assert.DoesNotContain(ids[1], seen);
    }

    [Fact]
    public async Task ListChatGroups_OtherApp_SeesNoneOfOurs()
    {
        await CreateGroupsAsync(2, "mine-");
        using var other = RestClient.Admin(_server.Node, RealtimeNode.OtherApp);

        var response = await other.GetAsync("/chatgroups?limit=100");

        Assert.DoesNotContain(response.Ok().EnumerateArray(), g => g.Str("groupid").StartsWith("mine-", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=101", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?cursor=garbage", "cursor")]
    [InlineData("?cursor=AAAAAAAAAAA", "cursor")]
    public async Task ListChatGroups_BadPaging_InvalidArgument(string query, string field)
    {
        var description = (await _admin.GetAsync($"/chatgroups{query}")).Fails(ErrorCode.InvalidArgument);

        Assert.Contains(field, description);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }
}
