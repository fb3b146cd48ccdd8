using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Realtime.Soak;

/// <summary>
/// A terminal that completed the SignalR handshake and then never reads again (a frozen app, a phone whose radio
/// stalled): a raw WebSocket whose socket has a small receive buffer, so the server's writes to it back up within
/// minutes rather than hours. It keeps sending a SignalR ping every 10 s (a client that sent nothing would be dropped
/// after the server's 30 s client timeout, which is not the case under test). When the server closes it (its
/// side of the TCP connection leaves ESTABLISHED in /proc/net/tcp), the time is recorded and a new frozen
/// terminal of the same user takes its place, so one is there for the whole run.
/// </summary>
public sealed class FrozenReader(SoakContext ctx, string user, int node)
{
    public const int ReceiveBuffer = 64 * 1024;
    private const int MaxTerminals = 50;
    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");

    /// <summary>Each frozen terminal: connected at, closed by the server at (s since the load started; null: open at the end).</summary>
    public readonly List<(double ConnectedAt, double? ClosedAt)> Terminals = [];

    public int Node => node;

    /// <summary>The most bytes seen waiting between the server and the frozen reader: the server's send queue plus ours, unread.</summary>
    public long MaxQueuedBytes { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && Terminals.Count < MaxTerminals)
        {
            Socket? socket = null;
            using var ws = new ClientWebSocket();
            try
            {
                using var handler = new SocketsHttpHandler
                {
                    ConnectCallback = async (context, ct) =>
                    {
                        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = ReceiveBuffer };
                        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), ct);
                        socket = s;
                        return new NetworkStream(s, ownsSocket: true);
                    },
                };
                using var invoker = new HttpMessageInvoker(handler);
                var hub = ctx.Options.Urls[node];
                var url = new UriBuilder(hub) { Scheme = "ws", Query = $"access_token={Uri.EscapeDataString(ctx.Token(user))}&device=frozen" }.Uri;
                using (var cts = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    cts.CancelAfter(TimeSpan.FromSeconds(10));
                    await ws.ConnectAsync(url, invoker, cts.Token);
                    await ws.SendAsync(Handshake, WebSocketMessageType.Text, true, cts.Token);
                    // The handshake answer ("{}\u001e"), and then never another read.
                    var buffer = new byte[256];
                    var answer = await ws.ReceiveAsync(buffer, cts.Token);
                    if (answer.Count == 0 || buffer[answer.Count - 1] != 0x1e) throw new InvalidOperationException("no handshake answer");
                }
                var connectedAt = Clock.Seconds;
                Terminals.Add((connectedAt, null));
                var localPort = ((IPEndPoint)socket!.LocalEndPoint!).Port;
                Clock.Log($"frozen terminal #{Terminals.Count} of {user} connected to node {node + 1} (local port {localPort}); it reads nothing more");
                var serverPort = hub.Port;
                var lastPing = Clock.Seconds;
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(1000, stop).ContinueWith(_ => { }, TaskScheduler.Default);
                    var (established, queued) = Inspect(serverPort, localPort);
                    MaxQueuedBytes = Math.Max(MaxQueuedBytes, queued);
                    if (!established)
                    {
                        Terminals[^1] = (connectedAt, Clock.Seconds);
                        Clock.Log($"frozen terminal #{Terminals.Count} was closed by node {node + 1} after {Clock.Seconds - connectedAt:0} s");
                        break;
                    }
                    if (Clock.Seconds - lastPing >= 10)
                    {
                        lastPing = Clock.Seconds;
                        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                        try { await ws.SendAsync(Ping, WebSocketMessageType.Text, true, cts.Token); }
                        catch (Exception) { /* the server side check above decides */ }
                    }
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                Clock.Log($"frozen terminal: {ex.GetType().Name}: {ex.Message}");
                await Task.Delay(1000, CancellationToken.None);
            }
            catch (Exception)
            {
                // stopping
            }
            finally
            {
                ws.Abort();
            }
        }
    }

    /// <summary>
    /// From /proc/net/tcp: whether the server's end of our connection (local port = the node's, remote = ours) is
    /// still ESTABLISHED, and the bytes queued: the server end's send queue plus our end's unread receive queue.
    /// </summary>
    private static (bool Established, long Queued) Inspect(int serverPort, int clientPort)
    {
        bool? established = null;
        long queued = 0;
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5) continue;
            var queues = f[4].Split(':');
            if (Port(f[1]) == serverPort && Port(f[2]) == clientPort)
            {
                established = f[3] == "01";
                queued += long.Parse(queues[0], NumberStyles.HexNumber);
            }
            else if (Port(f[1]) == clientPort && Port(f[2]) == serverPort)
            {
                queued += long.Parse(queues[1], NumberStyles.HexNumber);
            }
        }
        return (established ?? false, queued);

        static int Port(string address) => int.Parse(address[(address.IndexOf(':') + 1)..], NumberStyles.HexNumber);
    }
}
