using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Admin;

/// <summary>Points of the contract where the app's back end acts: no actor in what it causes (SPEC §4), the token's shape (§6).</summary>
public sealed class AdminContractTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly RestClient _admin = RestClient.Admin(fixture.Node);

    private RealtimeNode Node => fixture.Node;

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..20];

    private static string PathOf(string groupId) => $"/chatgroups/{RestClient.Escape(groupId)}";

    /// <summary>SPEC §4: `actor` is null or absent when the app's back end acted through REST.</summary>
    private static void AssertNoActor(JsonElement push) =>
        Assert.True(!push.TryGetProperty("actor", out var actor) || actor.ValueKind == JsonValueKind.Null, $"has an actor: {push}");

    [Fact]
    public async Task RestActions_PushedAndSyncedEventsAndSystemMessages_HaveNoActor()
    {
        var (owner, member, added) = (Unique("o"), Unique("m"), Unique("x"));
        await using var o = await Node.ConnectAsync(owner);
        await using var m = await Node.ConnectAsync(member);
        await using var x = await Node.ConnectAsync(added);

        var groupId = await _admin.CreateGroupAsync(new { groupname = "by rest", type = "Public", owner, members = new[] { member } });
        (await _admin.PutAsync(PathOf(groupId), new { groupname = "renamed by rest" })).Ok();
        (await _admin.PostAsync($"{PathOf(groupId)}/users", new { usernames = new[] { added } })).Ok();
        (await _admin.PostAsync($"{PathOf(groupId)}/admin", new { newadmin = member })).Ok();

        AssertNoActor((await o.WaitForAsync("SystemMessage", Json.OfType("GroupCreated", groupId)))[0]);
        AssertNoActor((await m.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId)))[0]);
        AssertNoActor((await x.WaitForAsync("SystemMessage", Json.OfType("JoinedGroup", groupId)))[0]);
        AssertNoActor((await m.WaitForAsync("SystemMessage", Json.OfType("RoleChanged", groupId)))[0]);
        foreach (var type in new[] { "MembersJoined", "ProfileChanged", "MembersJoined", "MemberChanged" })
            AssertNoActor((await o.WaitForAsync("GroupEvent", Json.OfType(type, groupId)))[0]);
        // The same member acting through the hub is named: the check above is not vacuous.
        await o.InvokeAsync("UpdateGroupProfile", new { groupId, introduction = "by the owner" });
        var byOwner = (await o.WaitForAsync("GroupEvent", Json.OfType("ProfileChanged", groupId)))[0];
        Assert.Equal(owner, byOwner.Str("actor"));

        foreach (var c in new[] { o, m, x })
        {
            var sync = await c.InvokeAsync("Sync", new { systemSince = 0, groups = new Dictionary<string, long> { [groupId] = 0 } });
            var system = sync.GetProperty("system").GetProperty("items").EnumerateArray().Where(i => i.Str("groupId") == groupId).ToList();
            Assert.NotEmpty(system);
            foreach (var item in system) AssertNoActor(item);
            var events = sync.GetProperty("groups").GetProperty(groupId).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(byOwner.Long("seq"), events[^1].Long("seq"));
            foreach (var item in events.SkipLast(1)) AssertNoActor(item);
            Assert.Equal(owner, events[^1].Str("actor"));
        }
    }

    [Fact]
    public async Task Token_Issued_DataIsAgoraShapeWithUserAsUsernameOnly()
    {
        var data = (await _admin.PostAsync("/token", new { username = "shape.user", ttl = 60 })).Ok();

        Assert.Equal(["access_token", "expires_in", "user"], data.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var user = data.GetProperty("user");
        Assert.Equal(JsonValueKind.Object, user.ValueKind);
        Assert.Equal(["username"], user.EnumerateObject().Select(p => p.Name));
        Assert.Equal("shape.user", user.Str("username"));
    }

    public void Dispose() => _admin.Dispose();
}
