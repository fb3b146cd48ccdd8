using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Groups;

/// <summary>
/// A node and long-lived terminals for owner "o", admin "a", member "m", outsider "n" and a
/// spare user "p" (an outsider until a test adds them).
/// </summary>
public sealed class GroupWorld : IAsyncLifetime
{
    private readonly ServerFixture _server = new();
    private readonly Dictionary<string, TestTerminal> _clients = [];

    public RealtimeNode Node => _server.Node;

    public TestDatabase Database => _server.Database;

    public TestTerminal this[string user] => _clients[user];

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        foreach (var user in new[] { "o", "a", "m", "n", "p" }) _clients[user] = await Node.ConnectAsync(user);
    }

    /// <summary>A fresh group of the type, owned by o, with a (admin where the type has admins) and m.</summary>
    public async Task<string> NewGroupAsync(string type)
    {
        // AV/BChatRoom groups are joined by applying, never created with members.
        var joinByApplying = type is "AVChatRoom" or "BChatRoom";
        var info = await this["o"].InvokeAsync("CreateGroup", joinByApplying
            ? new { type, name = $"{type} group" }
            : new { type, name = $"{type} group", members = (string[]?)["a", "m"] });
        var groupId = info.Str("groupId");
        if (joinByApplying)
        {
            await AddMemberAsync(groupId, type, "a");
            await AddMemberAsync(groupId, type, "m");
        }
        if (type != "Private") await MakeAdminAsync(groupId, "a");
        return groupId;
    }

    /// <summary>Adds a plain member by the type's own path: the owner invites, or the user applies to a FreeAccess room.</summary>
    public async Task AddMemberAsync(string groupId, string type, string user)
    {
        if (type is "AVChatRoom" or "BChatRoom")
        {
            var applied = await this[user].InvokeAsync("ApplyToJoin", new { groupId });
            Assert.Equal("Joined", applied.Str("result"));
        }
        else
        {
            var invited = await this["o"].InvokeAsync("InviteMembers", new { groupId, userIds = new[] { user } });
            Assert.Equal("Joined", invited[0].Str("result"));
        }
    }

    public async Task MakeAdminAsync(string groupId, string user)
    {
        var member = await this["o"].InvokeAsync("UpdateMember", new { groupId, userId = user, role = "Admin" });
        Assert.Equal("Admin", member.Str("role"));
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _clients.Values) await c.DisposeAsync();
        await _server.DisposeAsync();
    }
}
