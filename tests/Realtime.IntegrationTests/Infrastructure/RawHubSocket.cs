using System.Net.WebSockets;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// The one thing the official SignalR client cannot show: the HTTP status with which the server refuses the WebSocket
/// upgrade of /hubs/groups (bad token 401, admin token 403, bad device 400). Only the connect-refusal tests use it;
/// every other test connects with <see cref="TestTerminal"/>.
/// </summary>
public sealed class RawHubSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private RawHubSocket(ClientWebSocket socket) => _socket = socket;

    /// <summary>Opens the WebSocket on the hub (token in the access_token query parameter), without a hub handshake.</summary>
    /// <exception cref="ConnectRefusedException">The server answered the upgrade with an HTTP status instead of 101.</exception>
    public static async Task<RawHubSocket> ConnectAsync(Uri hubUrl, string? accessToken, string? device, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TestTerminal.DefaultTimeout;
        var query = new List<string>();
        if (accessToken is not null) query.Add("access_token=" + Uri.EscapeDataString(accessToken));
        if (device is not null) query.Add("device=" + Uri.EscapeDataString(device));
        var url = new UriBuilder(hubUrl) { Scheme = hubUrl.Scheme == "https" ? "wss" : "ws", Query = string.Join('&', query) }.Uri;

        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            using var cts = new CancellationTokenSource(limit);
            await socket.ConnectAsync(url, cts.Token);
            return new RawHubSocket(socket);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            if (ex is OperationCanceledException) throw new TimeoutException($"Connecting to {hubUrl} timed out after {limit}.", ex);
            throw new ConnectRefusedException(status == 0 ? null : status, $"Connecting to {hubUrl} failed{(status == 0 ? "" : $" with HTTP {status}")}: {ex.Message}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TestTerminal.DefaultTimeout);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // Already gone.
        }
        _socket.Dispose();
    }
}

/// <summary>The server refused the WebSocket upgrade with an HTTP status (null when no response came).</summary>
public sealed class ConnectRefusedException(int? statusCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;
}
