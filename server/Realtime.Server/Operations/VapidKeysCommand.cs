using Realtime.Server.WebPush;

namespace Realtime.Server.Operations;

/// <summary>`vapid-keys [--app A]`: prints a new VAPID key pair (P-256, base64url) as the settings of an app's Web Push.</summary>
public static class VapidKeysCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var app = "{appId}";
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--app" && i + 1 < args.Length && Ids.IsValidUserId(args[i + 1])) app = args[++i];
            else
            {
                error.WriteLine($"unknown or incomplete option '{args[i]}'");
                error.WriteLine("usage: vapid-keys [--app <appId>]");
                return 2;
            }
        }
        var (publicKey, privateKey) = VapidKeys.Generate();
        output.WriteLine($"Realtime__Apps__{app}__WebPush__PublicKey={publicKey}");
        output.WriteLine($"Realtime__Apps__{app}__WebPush__PrivateKey={privateKey}");
        output.WriteLine($"Realtime__Apps__{app}__WebPush__Subject=mailto:ops@example.com");
        return 0;
    }
}
