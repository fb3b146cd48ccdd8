using System.Net.Http.Json;
using Realtime.Client;

// A small chat on Realtime.Client: prints every event as it arrives, sends plain lines to the current group.
// Usage: Realtime.ChatConsole <url>[,<url>...] <token | dev:userId> [device]
// dev:userId asks a Development server's /dev/sign-in for a token of its demo app.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Realtime.ChatConsole <url>[,<url>...] <token | dev:userId> [device]");
    return 2;
}
var urls = args[0].Split(',').Select(u => new Uri(u)).ToList();
var token = args[1];
if (token.StartsWith("dev:"))
{
    using var http = new HttpClient();
    var signIn = await http.PostAsJsonAsync(new Uri(urls[0], "/dev/sign-in"), new { userId = token[4..] });
    signIn.EnsureSuccessStatusCode();
    token = (await signIn.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString()!;
}
await using var client = new RealtimeClient(new RealtimeClientOptions
{
    Urls = urls,
    AccessTokenProvider = () => Task.FromResult<string?>(token),
    Device = args.Length > 2 ? args[2] : "console",
    Protocol = Environment.GetEnvironmentVariable("REALTIME_PROTOCOL") == "messagepack" ? HubProtocol.MessagePack : HubProtocol.Json,
});
string? current = null;
client.GroupEventReceived += e => Console.WriteLine(e.Message is { } m
    ? $"[{e.GroupId} #{e.Seq}] {m.Sender}: {m.Text}"
    : $"[{e.GroupId} #{e.Seq}] {e.Type} {e.Data.GetRawText()}");
client.SystemMessageReceived += m =>
{
    Console.WriteLine($"* {m.Type} {m.GroupId} {m.Data.GetRawText()}");
    // Invited or added somewhere while not in a conversation: that group becomes the current one.
    if (m.Kind is SystemMessageKind.JoinedGroup && current is null) current = m.GroupId;
};
client.TooOld += t => Console.WriteLine($"* {(t.GroupId ?? "system stream")}: older events were trimmed, reload it");
client.Removed += r => Console.WriteLine($"* you are no longer in {r.GroupId}");
client.Connected += url => Console.WriteLine($"* connected to {url.GetLeftPart(UriPartial.Path)}");
client.Disconnected += e => Console.WriteLine($"* disconnected{(e is null ? "" : ": " + e.Message)}; reconnecting");
client.Error += e => Console.WriteLine($"! {e.Message}");

await client.StartAsync();
var me = await client.WhoAmIAsync();
Console.WriteLine($"* {me.UserId} of {me.AppId} on {me.Device}. /help for commands.");

while (Console.ReadLine() is { } line)
{
    var parts = line.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
    if (parts.Length == 0) continue;
    try
    {
        switch (parts[0])
        {
            case "/help":
                Console.WriteLine("/create name | /join groupId | /use groupId | /invite groupId user | /groups | /history [n] | /members | /leave | /exit | text");
                break;
            case "/create" when parts.Length > 1:
                var created = await client.CreateGroupAsync(new CreateGroupRequest(GroupType.Public, string.Join(' ', parts[1..])));
                current = created.GroupId;
                Console.WriteLine($"* created {current}; it is the current group");
                break;
            case "/join" when parts.Length > 1:
                var applied = await client.ApplyToJoinAsync(new ApplyToJoinRequest(parts[1]));
                if (applied.Result == ApplyOutcome.Joined) current = parts[1];
                Console.WriteLine($"* {applied.Result}");
                break;
            case "/use" when parts.Length > 1:
                current = parts[1];
                break;
            case "/invite" when parts.Length > 2:
                foreach (var r in await client.InviteMembersAsync(new InviteMembersRequest(parts[1], [parts[2]])))
                    Console.WriteLine($"* {r.UserId}: {r.Result} {r.Code}");
                break;
            case "/groups":
                foreach (var g in (await client.GetJoinedGroupsAsync()).Groups)
                    Console.WriteLine($"  {g.GroupId} {g.Name} ({g.Role}, {g.MemberCount} members, {g.Unread} unread){(g.GroupId == current ? " <- current" : "")}");
                break;
            case "/history" when current is not null:
                var page = await client.GetMessagesAsync(new GetMessagesRequest(current, Limit: parts.Length > 1 ? int.Parse(parts[1]) : 20));
                foreach (var e in page.Items.Reverse()) Console.WriteLine($"  #{e.Seq} {e.Message?.Sender}: {e.Message?.Text}");
                break;
            case "/members" when current is not null:
                foreach (var m in (await client.GetMembersAsync(new GetMembersRequest(current))).Members) Console.WriteLine($"  {m.UserId} {m.Role}");
                break;
            case "/leave" when current is not null:
                await client.QuitGroupAsync(current);
                current = null;
                break;
            case "/exit":
                return 0;
            case var command when command.StartsWith('/'):
                Console.WriteLine("? /help lists the commands (most need a current group: /create, /join or /use)");
                break;
            default:
                if (current is null) Console.WriteLine("? no current group: /create, /join or /use one");
                else await client.SendTextAsync(current, line);
                break;
        }
    }
    catch (RealtimeHubException e)
    {
        Console.WriteLine($"! {e.Message}");
    }
}
return 0;
