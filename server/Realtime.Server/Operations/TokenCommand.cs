using Realtime.Server.Apps;
using Realtime.Server.Auth;

namespace Realtime.Server.Operations;

/// <summary>`token --app A --user U [--ttl seconds] [--admin]`: prints a token signed with the app's secret.</summary>
public static class TokenCommand
{
    public static int Run(string[] args, IServiceProvider services, TextWriter output, TextWriter error)
    {
        string? app = null, user = null;
        var ttl = TimeSpan.FromHours(24);
        var admin = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--app" when i + 1 < args.Length: app = args[++i]; break;
                case "--user" when i + 1 < args.Length: user = args[++i]; break;
                case "--ttl" when i + 1 < args.Length && int.TryParse(args[i + 1], out var s) && s > 0:
                    ttl = TimeSpan.FromSeconds(s); i++; break;
                case "--admin": admin = true; break;
                default:
                    error.WriteLine($"unknown or incomplete option '{args[i]}'");
                    return Usage(error);
            }
        }
        if (app is null || user is null) return Usage(error);
        if (!Ids.IsValidUserId(user))
        {
            error.WriteLine("--user must be 1-64 chars of [A-Za-z0-9_.@-]");
            return 2;
        }
        if (services.GetRequiredService<AppRegistry>().KeyOf(app) is null)
        {
            error.WriteLine($"unknown app '{app}' (apps come from configuration; 'demo' exists in Development)");
            return 2;
        }
        output.WriteLine(services.GetRequiredService<TokenService>().Issue(app, user, ttl, admin));
        return 0;
    }

    private static int Usage(TextWriter error)
    {
        error.WriteLine("usage: token --app <appId> --user <userId> [--ttl <seconds>] [--admin]");
        return 2;
    }
}
