using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// What the official SignalR client cannot do: show the HTTP status with which the server refuses the WebSocket
/// upgrade of /hubs/groups (bad token 401, admin token 403, bad device 400), and send frames exactly as a hostile
/// client writes them (raw argument JSON, wrong argument counts, unknown frame types). Every other test connects
/// with <see cref="TestTerminal"/>.
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

    private const char RecordSeparator = '\u001e';
    private readonly StringBuilder _pending = new();
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder(); // a character may span two reads
    private int _lastId;

    /// <summary>The JSON hub protocol handshake; answers the server's handshake reply.</summary>
    public async Task<JsonElement> HandshakeAsync()
    {
        await SendFrameAsync("""{"protocol":"json","version":1}""");
        return await NextFrameAsync();
    }

    /// <summary>Sends one frame's text as given, followed by the record separator.</summary>
    public async Task SendFrameAsync(string json)
    {
        using var cts = new CancellationTokenSource(TestTerminal.DefaultTimeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>
    /// Invokes <paramref name="method"/> with <paramref name="arguments"/> written verbatim as the frame's arguments
    /// array, and answers its completion frame (with "error" or "result"). Other frames (pings, pushes) are skipped.
    /// </summary>
    public async Task<JsonElement> InvokeRawAsync(string method, string arguments)
    {
        var id = (++_lastId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendFrameAsync($$"""{"type":1,"invocationId":"{{id}}","target":{{JsonSerializer.Serialize(method)}},"arguments":{{arguments}}}""");
        while (true)
        {
            var frame = await NextFrameAsync();
            if (frame.GetProperty("type").GetInt32() == 3 && frame.GetProperty("invocationId").GetString() == id) return frame;
        }
    }

    /// <summary>The next frame the server sends; a Close frame (type 7) is returned like any other.</summary>
    /// <exception cref="WebSocketException">The connection ended without a further frame.</exception>
    public async Task<JsonElement> NextFrameAsync()
    {
        using var cts = new CancellationTokenSource(TestTerminal.DefaultTimeout);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf(RecordSeparator);
            if (end >= 0)
            {
                _pending.Remove(0, end + 1);
                return JsonDocument.Parse(text[..end]).RootElement.Clone();
            }
            var read = await _socket.ReceiveAsync(buffer, cts.Token);
            if (read.MessageType == WebSocketMessageType.Close)
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"closed by the server: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
            var chars = new char[read.Count];
            _pending.Append(chars, 0, _utf8.GetChars(buffer, 0, read.Count, chars, 0));
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
