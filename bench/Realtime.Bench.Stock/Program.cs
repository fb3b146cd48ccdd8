using Microsoft.AspNetCore.SignalR;

// A stock SignalR server for bench/sbs.sh: one hub at /hubs/groups with Join(group) and Send(group, payload), no auth.
//   Realtime.Bench.Stock --port 5382 [--redis 127.0.0.1:26383]
// Without --redis: SignalR's default in-memory lifetime manager (one node). With it: the official
// Microsoft.AspNetCore.SignalR.StackExchangeRedis backplane, so several nodes share groups.
var port = 5382;
string? redis = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length: port = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--redis" when i + 1 < args.Length: redis = args[++i]; break;
        default:
            Console.Error.WriteLine("usage: Realtime.Bench.Stock --port PORT [--redis HOST:PORT]");
            return 2;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
var signalR = builder.Services.AddSignalR();
if (redis is not null)
{
    signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal("sbs-stock"));
}

var app = builder.Build();
app.UseWebSockets();
app.MapGet("/healthz", () => "ok");
app.MapGet("/readyz", () => "ok");
app.MapHub<StockHub>("/hubs/groups");
Console.Error.WriteLine($"stock SignalR on http://127.0.0.1:{port} ({(redis is null ? "in-memory" : $"Redis backplane {redis}")})");
await app.RunAsync();
return 0;

/// <summary>The hub: join a group, and send a payload to a group, which every member (the caller too, if it joined) gets as GroupEvent.</summary>
public sealed class StockHub : Hub
{
    public Task Join(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

    public Task Send(string group, System.Text.Json.JsonElement payload) => Clients.Group(group).SendAsync("GroupEvent", payload);
}
