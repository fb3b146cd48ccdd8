using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Realtime.Bench.Backplane;

/// <summary>
/// A TCP proxy between one node and a standalone Redis that counts the pub/sub messages Redis pushes to
/// the node (RESP2 "*3 $7 message ..." frames: the "$7\r\nmessage\r\n" marker, matched across reads). Used
/// only by the routing check, so both backplanes are counted the same way, from the wire.
/// </summary>
public sealed class CountingProxy : IAsyncDisposable
{
    private static readonly byte[] Marker = Encoding.ASCII.GetBytes("$7\r\nmessage\r\n");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private readonly Task _accepting;
    private long _messages;

    public CountingProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Pub/sub messages Redis pushed through this proxy so far.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Stopped.
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            var outbound = new TcpClient { NoDelay = true };
            inbound.NoDelay = true;
            try
            {
                await outbound.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            }
            catch (Exception)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_clients)
            {
                _clients.Add(inbound);
                _clients.Add(outbound);
            }

            _ = PumpAsync(inbound.GetStream(), outbound.GetStream(), count: false);
            _ = PumpAsync(outbound.GetStream(), inbound.GetStream(), count: true);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool count)
    {
        var buffer = new byte[64 * 1024];
        var state = 0;
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (count)
                {
                    // The marker's first byte ('$') occurs only at its start, so a plain state machine matches it.
                    for (var i = 0; i < read; i++)
                    {
                        var b = buffer[i];
                        if (b == Marker[state])
                        {
                            if (++state == Marker.Length)
                            {
                                Interlocked.Increment(ref _messages);
                                state = 0;
                            }
                        }
                        else
                        {
                            state = b == Marker[0] ? 1 : 0;
                        }
                    }
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // Closed or stopped.
        }
        finally
        {
            try
            {
                to.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception)
            {
                // Already gone.
            }
        }
    }
}
