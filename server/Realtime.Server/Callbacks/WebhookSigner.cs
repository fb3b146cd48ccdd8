using System.Security.Cryptography;
using System.Text;

namespace Realtime.Server.Callbacks;

/// <summary>
/// Signs webhook bodies (SPEC §7): X-Realtime-Signature = "sha256=" + hex HMAC-SHA256 of
/// timestamp + "." + body with the app's secret. Receivers recompute it and compare.
/// </summary>
public static class WebhookSigner
{
    public const string TimestampHeader = "X-Realtime-Timestamp";
    public const string SignatureHeader = "X-Realtime-Signature";
    public const string DeliveryHeader = "X-Realtime-Delivery";

    public static string Sign(string secret, string timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    public static bool Verify(string secret, string timestamp, string body, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));

    /// <summary>A signed POST of a JSON body.</summary>
    public static HttpRequestMessage Request(string url, string secret, string body, Guid deliveryId, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(secret, timestamp, body));
        request.Headers.Add(DeliveryHeader, deliveryId.ToString());
        return request;
    }
}
