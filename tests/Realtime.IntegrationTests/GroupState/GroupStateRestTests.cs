using System.Net;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>REST parity (SPEC §9): the app admin reads and writes attributes and counters as the hub's owner does, with the same codes.</summary>
public sealed class GroupStateRestTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly RestClient _admin = RestClient.Admin(fixture.Node);

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static string Path(string groupId, string what) => $"/chatgroups/{RestClient.Escape(groupId)}/{what}";

    [Fact]
    public async Task Attributes_RestAndHub_SameStateSameEventsSameCodes()
    {
        var (owner, member) = (Unique("o"), Unique("m"));
        await using var o = await fixture.Node.ConnectAsync(owner);
        await using var m = await fixture.Node.ConnectAsync(member);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "Public", name = "rest", members = new[] { member } })).Str("groupId");

        var put = (await _admin.PutAsync(Path(groupId, "attributes"), new { set = new { topic = "from rest" }, expectedVersions = new { topic = 0 } })).Ok();
        Assert.Equal(1, put.GetProperty("attributes").GetProperty("topic").Long("version"));
        var evt = await m.WaitForAsync("GroupEvent", Json.OfType("AttributesChanged", groupId));
        Assert.Equal(put.Long("seq"), evt[0].Long("seq"));
        // The app's back end acted: no actor (SPEC §4: null or absent).
        Assert.True(!evt[0].TryGetProperty("actor", out var actor) || actor.ValueKind == System.Text.Json.JsonValueKind.Null);

        var viaHub = await o.InvokeAsync("GetGroupAttributes", new { groupId });
        var viaRest = (await _admin.GetAsync(Path(groupId, "attributes"))).Ok();
        Assert.Equal(viaHub.GetRawText(), viaRest.GetRawText());
        Assert.Empty((await _admin.GetAsync(Path(groupId, "attributes") + "?keys=other")).Ok().GetProperty("attributes").EnumerateObject());

        // The same refusals, by REST and by the hub.
        (await _admin.PutAsync(Path(groupId, "attributes"), new { set = new { topic = "x" }, expectedVersions = new { topic = 0 } })).Fails(ErrorCode.VersionConflict);
        await Expect.HubError(ErrorCode.VersionConflict, () => o.InvokeAsync("SetGroupAttributes", new { groupId, set = new { topic = "x" }, expectedVersions = new { topic = 0 } }));
        (await _admin.PutAsync(Path(groupId, "attributes"), new { set = new Dictionary<string, string> { ["bad key"] = "x" } })).Fails(ErrorCode.InvalidArgument);
        (await _admin.PutAsync(Path(groupId, "attributes"), new { sett = new { a = "x" } })).Fails(ErrorCode.InvalidArgument);
        (await _admin.GetAsync(Path("nope-" + Unique("g"), "attributes"))).Fails(ErrorCode.GroupNotFound);
        var refused = await _admin.PutAsync(Path(groupId, "attributes"), new { set = new { topic = "x" }, expectedVersions = new { topic = 7 } });
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
    }

    [Fact]
    public async Task Counters_RestAndHub_SameValuesAdminSetsInAnyGroup()
    {
        var owner = Unique("o");
        await using var o = await fixture.Node.ConnectAsync(owner);
        var groupId = (await o.InvokeAsync("CreateGroup", new { type = "BChatRoom", name = "rest" })).Str("groupId");
        var posted = (await _admin.PostAsync(Path(groupId, "counters"), new { set = new { seats = 10 }, increment = new { likes = 2 } })).Ok();
        Assert.Equal(10, posted.GetProperty("counters").GetProperty("seats").GetInt64());
        await o.InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { likes = 3 } });
        var viaRest = (await _admin.GetAsync(Path(groupId, "counters"))).Ok();
        Assert.Equal(5, viaRest.GetProperty("counters").GetProperty("likes").GetInt64());
        Assert.Equal((await o.InvokeAsync("GetGroupCounters", new { groupId })).GetRawText(), viaRest.GetRawText());

        (await _admin.PostAsync(Path(groupId, "counters"), new { set = new { big = long.MaxValue } })).Ok();
        (await _admin.PostAsync(Path(groupId, "counters"), new { increment = new { big = 1 } })).Fails(ErrorCode.InvalidArgument);
        await Expect.HubError(ErrorCode.InvalidArgument, () => o.InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { big = 1 } }));
        (await _admin.PostAsync(Path(groupId, "counters"), "{\"increment\":{\"likes\":\"1\"}}")).Fails(ErrorCode.InvalidArgument);
        (await _admin.GetAsync(Path(groupId, "online") + "?limit=0")).Fails(ErrorCode.InvalidArgument);

        // A disabled group: the app admin's commands still run, members' do not.
        (await _admin.PostAsync($"/chatgroups/{RestClient.Escape(groupId)}/disable")).Ok();
        (await _admin.PostAsync(Path(groupId, "counters"), new { increment = new { likes = 1 } })).Ok();
        await Expect.HubError(ErrorCode.GroupDisabled, () => o.InvokeAsync("ChangeGroupCounters", new { groupId, increment = new { likes = 1 } }));
    }

    public void Dispose() => _admin.Dispose();
}
