using Realtime.Server;
using Realtime.Server.Operations;

if (args.Length > 0 && args[0] == "token")
{
    // The token verb reads the same configuration as the server, so the same apps exist.
    var cli = RealtimeApp.Build([]);
    return TokenCommand.Run(args[1..], cli.Services, Console.Out, Console.Error);
}

if (args.Length > 0 && args[0] == "vapid-keys")
    return VapidKeysCommand.Run(args[1..], Console.Out, Console.Error);

var app = RealtimeApp.Build(args);
await RealtimeApp.StartAsync(app);
await app.WaitForShutdownAsync();
return 0;
