using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Realtime.Server.WebPush;

/// <summary>
/// Keeps pushes from reaching into the server's own network (SSRF): an endpoint is a URL a client chose, so every
/// connection resolves the host itself and connects only to a public address (loopback too where
/// <see cref="WebPushOptions.AllowLoopbackHttp"/> allows it, for tests). Checked at connect time, not only at
/// registration, so a name that later resolves elsewhere (DNS rebinding) is still refused. No proxy, no redirects.
/// </summary>
public sealed class EndpointGuard(IOptions<WebPushOptions> options)
{
    public const string HttpClientName = "WebPush";

    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(Allowed).ToList();
        if (allowed.Count == 0) throw new EndpointRefusedException($"{host} resolves to no address a push may go to ({string.Join(", ", addresses.Select(a => a.ToString()))})");
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw last!;
    }

    private bool Allowed(IPAddress address) =>
        IsPublic(address) || (options.Value.AllowLoopbackHttp && IPAddress.IsLoopback(address));

    /// <summary>An address on the public internet: not loopback, private, shared (CGNAT), link-local, multicast, documentation or otherwise reserved.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        var v6 = address.GetAddressBytes();
        return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal
            || address.IsIPv4MappedToIPv6
            || (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8) // 2001:db8::/32 documentation
            || (v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b) // 64:ff9b::/96 NAT64 reaches IPv4 ranges
            || v6[0] == 0x00); // ::/8 reserved, IPv4-compatible
    }
}

/// <summary>The endpoint's host is not one a push may connect to: permanent, not retried.</summary>
public sealed class EndpointRefusedException(string message) : IOException(message);
