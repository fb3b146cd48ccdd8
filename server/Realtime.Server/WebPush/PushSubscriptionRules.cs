using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Realtime.Server.Errors;

namespace Realtime.Server.WebPush;

/// <summary>The field rules of RegisterPushSubscription / UnregisterPushSubscription (SPEC §7), each failing with InvalidArgument naming the field.</summary>
public static partial class PushSubscriptionRules
{
    /// <summary>At most this many subscriptions per user of an app.</summary>
    public const int MaxPerUser = 10;

    /// <summary>Browsers' endpoints are a few hundred characters; this bounds what a caller may make us store and call.</summary>
    public const int EndpointMax = 2048;

    [GeneratedRegex("^[A-Za-z0-9_-]+={0,2}$")]
    private static partial Regex Base64UrlText();

    /// <summary>
    /// An absolute https URL with a host and no user info or fragment, whose host, when an IP literal, is a public address;
    /// http (and https) to a loopback address only where <see cref="WebPushOptions.AllowLoopbackHttp"/> says so. What a
    /// host name resolves to is checked again at each connection (<see cref="EndpointGuard"/>).
    /// </summary>
    public static string Endpoint(string? value, WebPushOptions options, string field = "endpoint")
    {
        if (value is null) throw RealtimeException.Invalid(field, "is required");
        if (value.Length == 0 || value.Length > EndpointMax) throw RealtimeException.Invalid(field, $"must be 1-{EndpointMax} characters");
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !value.StartsWith(uri.Scheme + "://", StringComparison.Ordinal))
            throw RealtimeException.Invalid(field, "must be an absolute https URL");
        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0 || value.Any(c => c <= ' ' || c >= 0x7f))
            throw RealtimeException.Invalid(field, "must be a plain https URL (no user info, fragment, spaces or non-ASCII characters)");
        var loopback = false;
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(uri.IdnHost, out var ip))
        {
            loopback = IPAddress.IsLoopback(ip);
            if (!loopback && !EndpointGuard.IsPublic(ip)) throw RealtimeException.Invalid(field, "must not name a private, link-local or reserved address");
        }
        else if (uri.IdnHost.Equals("localhost", StringComparison.OrdinalIgnoreCase) || uri.IdnHost.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
            throw RealtimeException.Invalid(field, "must name a push service, not localhost");
        if (loopback && !options.AllowLoopbackHttp) throw RealtimeException.Invalid(field, "must not name a loopback address");
        if (uri.Scheme == Uri.UriSchemeHttp && !loopback)
            throw RealtimeException.Invalid(field, "must be an https URL" + (options.AllowLoopbackHttp ? " (http only to a loopback address)" : ""));
        if (!loopback && options.AllowedHostSuffixes.Count > 0 && !options.AllowedHostSuffixes.Any(s => uri.IdnHost.EndsWith(s, StringComparison.OrdinalIgnoreCase)))
            throw RealtimeException.Invalid(field, "is not on a push service this server sends to");
        return value;
    }

    /// <summary>p256dh: an uncompressed P-256 point (65 bytes) that is on the curve; auth: 16 bytes; both base64url.</summary>
    public static (string P256dh, string Auth) Keys(PushSubscriptionKeys? keys)
    {
        if (keys is null) throw RealtimeException.Invalid("keys", "is required");
        var p256dh = Decode(keys.P256dh, "keys.p256dh", 65);
        if (p256dh[0] != 0x04) throw RealtimeException.Invalid("keys.p256dh", "must be an uncompressed P-256 point");
        try
        {
            using var key = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = p256dh[1..33], Y = p256dh[33..] },
            });
        }
        catch (CryptographicException)
        {
            throw RealtimeException.Invalid("keys.p256dh", "is not a point on P-256");
        }
        Decode(keys.Auth, "keys.auth", 16);
        return (keys.P256dh!, keys.Auth!);
    }

    private static byte[] Decode(string? value, string field, int length)
    {
        if (value is null) throw RealtimeException.Invalid(field, "is required");
        byte[]? bytes = null;
        if (value.Length <= 4 * length && Base64UrlText().IsMatch(value))
        {
            try
            {
                bytes = Base64Url.DecodeFromChars(value.TrimEnd('='));
            }
            catch (FormatException)
            {
            }
        }
        if (bytes is null || bytes.Length != length) throw RealtimeException.Invalid(field, $"must be {length} bytes, base64url");
        return bytes;
    }
}
