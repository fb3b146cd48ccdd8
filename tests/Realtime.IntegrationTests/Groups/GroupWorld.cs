using Dapper;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Groups;

/// <summary>A node and long-lived terminals for owner "o", admin "a", member "m" and outsider "n".</summary>
public sealed class GroupWorld : IAsyncLifetime
{
    private readonly ServerFixture _server = new();
    private readonly Dictionary<string, SignalRTestClient> _clients = [];

    public RealtimeNode Node => _server.Node;

    public TestDatabase Database => _server.Database;

    public SignalRTestClient this[string user] => _clients[user];

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        foreach (var user in new[] { "o", "a", "m", "n" }) _clients[user] = await Node.ConnectAsync(user);
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
        if (joinByApplying) await AddMembersAsync(groupId, "a", "m");
        if (type != "Private") await MakeAdminAsync(groupId, "a");
        return groupId;
    }

    /// <summary>Setup only: promotes through SQL until UpdateMember exists.</summary>
    public async Task MakeAdminAsync(string groupId, string user)
    {
        await using var c = await Database.OpenAsync();
        await c.ExecuteAsync("""
            UPDATE group_members SET role = 'Admin' WHERE user_id = @user AND gid = (SELECT gid FROM groups WHERE group_id = @groupId AND dissolved_at IS NULL);
            UPDATE groups SET admin_count = admin_count + 1 WHERE group_id = @groupId AND dissolved_at IS NULL;
            """, new { groupId, user });
    }

    /// <summary>Setup only: joins users through SQL until ApplyToJoin exists.</summary>
    public async Task AddMembersAsync(string groupId, params string[] users)
    {
        await using var c = await Database.OpenAsync();
        await c.ExecuteAsync("""
            INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq)
            SELECT gid, app_id, u, 'Member', now(), last_seq FROM groups, unnest(@users) u WHERE group_id = @groupId AND dissolved_at IS NULL;
            INSERT INTO member_windows (gid, app_id, user_id, from_seq)
            SELECT gid, app_id, u, last_seq FROM groups, unnest(@users) u WHERE group_id = @groupId AND dissolved_at IS NULL;
            UPDATE groups SET member_count = member_count + cardinality(@users) WHERE group_id = @groupId AND dissolved_at IS NULL;
            """, new { groupId, users });
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _clients.Values) await c.DisposeAsync();
        await _server.DisposeAsync();
    }
}
