using System.Buffers.Text;
using System.Security.Cryptography;
using Lib.Net.Http.WebPush.Authentication;
using Realtime.Server.Apps;

namespace Realtime.Server.WebPush;

/// <summary>
/// The apps' VAPID key pairs (RFC 8292), checked once at start-up: a key that does not decode, is not on P-256,
/// or whose private half does not match its public half stops the node rather than every push later.
/// </summary>
public sealed class VapidKeys : IDisposable
{
    private readonly Dictionary<string, VapidAuthentication> _byApp = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VapidAuthentication> _byPublicKey = new(StringComparer.Ordinal);

    public VapidKeys(AppRegistry apps)
    {
        foreach (var appId in apps.AppIds)
        {
            var settings = apps.Get(appId).WebPush;
            if (string.IsNullOrEmpty(settings.PublicKey) && string.IsNullOrEmpty(settings.PrivateKey)) continue;
            var problem = ProblemOf(settings);
            if (problem is not null) throw new InvalidOperationException($"App '{appId}': Realtime:Apps:{appId}:WebPush {problem} (`vapid-keys` prints a new pair).");
            var vapid = new VapidAuthentication(settings.PublicKey!, settings.PrivateKey!) { Subject = settings.Subject };
            _byApp[appId] = vapid;
            _byPublicKey[settings.PublicKey!] = vapid;
        }
    }

    public VapidAuthentication? Of(string appId) => _byApp.GetValueOrDefault(appId);

    /// <summary>The signer of a request, by the `k` it sent (see <see cref="WebPushRequestHandler"/>).</summary>
    public VapidAuthentication? OfPublicKey(string publicKey) => _byPublicKey.GetValueOrDefault(publicKey);

    /// <summary>A new key pair, base64url as configuration takes it.</summary>
    public static (string PublicKey, string PrivateKey) Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(includePrivateParameters: true);
        return (Base64Url.EncodeToString([0x04, .. p.Q.X!, .. p.Q.Y!]), Base64Url.EncodeToString(p.D!));
    }

    /// <summary>Why the settings cannot sign, or null.</summary>
    public static string? ProblemOf(WebPushAppSettings s)
    {
        if (string.IsNullOrEmpty(s.PublicKey) || string.IsNullOrEmpty(s.PrivateKey)) return "needs both PublicKey and PrivateKey";
        if (!Uri.TryCreate(s.Subject, UriKind.Absolute, out var subject) || (subject.Scheme != "mailto" && subject.Scheme != Uri.UriSchemeHttps))
            return "needs Subject, a mailto: or https: URL push services can reach the sender at";
        if (s.Ttl < TimeSpan.Zero || s.Ttl > TimeSpan.FromDays(28)) return "Ttl must be between 0 and 28 days";
        byte[] publicKey, privateKey;
        try
        {
            publicKey = Base64Url.DecodeFromChars(s.PublicKey);
            privateKey = Base64Url.DecodeFromChars(s.PrivateKey);
        }
        catch (FormatException)
        {
            return "keys must be base64url";
        }
        if (publicKey.Length != 65 || publicKey[0] != 0x04) return "PublicKey must be an uncompressed P-256 point (65 bytes)";
        if (privateKey.Length != 32) return "PrivateKey must be 32 bytes";
        try
        {
            // Import the private scalar alone: the public point is derived from it and must be the configured one.
            using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = privateKey });
            var q = key.ExportParameters(false).Q;
            if (!publicKey.AsSpan(1, 32).SequenceEqual(q.X) || !publicKey.AsSpan(33, 32).SequenceEqual(q.Y))
                return "PublicKey is not the public half of PrivateKey";
        }
        catch (CryptographicException)
        {
            return "PrivateKey is not a P-256 key";
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var vapid in _byApp.Values) vapid.Dispose();
    }
}
