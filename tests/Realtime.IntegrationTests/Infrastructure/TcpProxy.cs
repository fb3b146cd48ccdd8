using System.Net;
using System.Net.Sockets;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP forwarder a test can cut: to the server behind it, that is the same as the
/// network or the peer going away, without stopping a server other tests share. Or stall: the
/// connections stay open and nothing is forwarded until Resume, as with a half-dead network.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private readonly Task _accepting;
    private volatile bool _cut;
    private volatile TaskCompletionSource? _stalled;

    public TcpProxy(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Drops every open connection and refuses new ones until Restore.</summary>
    public void Cut()
    {
        _cut = true;
        lock (_gate)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    public void Restore() => _cut = false;

    /// <summary>Keeps every connection open but forwards nothing, either way, until Resume.</summary>
    public void Stall() => _stalled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Forwards again, first what was held back.</summary>
    public void Resume()
    {
        var stalled = _stalled;
        _stalled = null;
        stalled?.TrySetResult();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try { inbound = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            if (_cut) { inbound.Dispose(); continue; }
            _ = PipeAsync(inbound);
        }
    }

    private async Task PipeAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(_target, _stop.Token);
            lock (_gate) { _open.Add(inbound); _open.Add(outbound); }
            var a = CopyAsync(inbound.GetStream(), outbound.GetStream(), _stop.Token);
            var b = CopyAsync(outbound.GetStream(), inbound.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception)
        {
            // A cut or a closed peer ends the pipe; both sides are closed below.
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    private async Task CopyAsync(Stream from, Stream to, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, ct)) > 0)
        {
            if (_stalled is { } stalled) await stalled.Task.WaitAsync(ct);
            await to.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Resume();
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        await _accepting;
    }
}
