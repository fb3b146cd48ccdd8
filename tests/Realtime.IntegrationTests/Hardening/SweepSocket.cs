using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>How a hub connection answered one frame of the bad-input sweep.</summary>
internal enum HubAnswerKind
{
    /// <summary>A completion frame (type 3) for the invocation: <see cref="HubAnswer.Frame"/> has "error" or "result".</summary>
    Completion,

    /// <summary>The server closed the connection: a close frame (type 7, its error in Detail) and/or the WebSocket closing.</summary>
    Closed,

    /// <summary>Nothing came back within the timeout: a hang.</summary>
    Timeout,
}

internal sealed record HubAnswer(HubAnswerKind Kind, JsonElement Frame, string Detail)
{
    public string? Error => Kind == HubAnswerKind.Completion && Frame.TryGetProperty("error", out var e) ? e.GetString() : null;

    public bool HasResult => Kind == HubAnswerKind.Completion && Frame.TryGetProperty("result", out _);

    public override string ToString() => Kind switch
    {
        HubAnswerKind.Completion => Abbrev.Of(Frame.GetRawText(), 300),
        HubAnswerKind.Closed => $"connection closed ({Detail})",
        _ => $"no answer ({Detail})",
    };
}

/// <summary>
/// A raw hub connection for the sweep (JSON protocol, version 1): frames go out exactly as written, as text
/// or as bytes (invalid UTF-8, fragments), and every way the server may answer is told apart — a completion,
/// a close frame, the socket closing, or silence — where <see cref="RawHubSocket"/> throws. Every receive has
/// a timeout; after a close or a timeout the socket is done (<see cref="IsOpen"/> false).
/// With <see cref="MessagePack"/> it speaks the MessagePack hub protocol instead: an invocation's JSON arguments
/// are transcoded value for value (<see cref="MessagePackFrames"/>) and the server's frames are read back in their
/// JSON form, so the same cases are judged the same way.
/// </summary>
internal sealed class SweepSocket : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket;
    private readonly List<byte> _pending = [];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Queue<JsonElement> _binaryFrames = new();
    private bool _handshaken;
    private int _lastId;
    private bool _done;

    private SweepSocket(ClientWebSocket socket, bool messagePack) => (_socket, MessagePack) = (socket, messagePack);

    public bool IsOpen => !_done && _socket.State == WebSocketState.Open;

    public bool MessagePack { get; }

    /// <summary>Connects with a user token and completes the handshake.</summary>
    public static async Task<SweepSocket> ConnectAsync(Uri hubUrl, string user, bool messagePack = false)
    {
        var url = new UriBuilder(hubUrl)
        {
            Scheme = hubUrl.Scheme == "https" ? "wss" : "ws",
            Query = $"access_token={Uri.EscapeDataString(TestTokens.Issue(user))}&device=sweep",
        }.Uri;
        var ws = new ClientWebSocket();
        using (var cts = new CancellationTokenSource(Timeout)) await ws.ConnectAsync(url, cts.Token);
        var socket = new SweepSocket(ws, messagePack);
        await socket.SendTextAsync(messagePack ? MessagePackFrames.Handshake.TrimEnd('\u001e') : """{"protocol":"json","version":1}""");
        var handshake = await socket.NextAsync(_ => true);
        socket._handshaken = true;
        if (handshake.Kind != HubAnswerKind.Completion || handshake.Frame.TryGetProperty("error", out _))
            throw new InvalidOperationException($"handshake of {user} failed: {handshake}");
        return socket;
    }

    /// <summary>Sends a frame's text followed by the record separator.</summary>
    public Task SendTextAsync(string json) => SendBytesAsync([.. Encoding.UTF8.GetBytes(json), RecordSeparator]);

    /// <summary>Sends bytes as one text message, in fragments of <paramref name="fragment"/> bytes when given.</summary>
    public async Task SendBytesAsync(byte[] bytes, int fragment = int.MaxValue)
    {
        using var cts = new CancellationTokenSource(Timeout);
        for (var at = 0; at < bytes.Length; at += fragment)
        {
            var count = Math.Min(fragment, bytes.Length - at);
            var type = MessagePack && _handshaken ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
            await _socket.SendAsync(bytes.AsMemory(at, count), type, at + count >= bytes.Length, cts.Token);
        }
    }

    /// <summary>Invokes <paramref name="method"/> with <paramref name="arguments"/> written verbatim as the arguments array.</summary>
    public async Task<HubAnswer> InvokeAsync(string method, string arguments)
    {
        var id = "s" + ++_lastId;
        if (MessagePack) return await SendAndAwaitAsync(MessagePackFrames.Invocation(id, method, arguments), id);
        var frame = $$"""{"type":1,"invocationId":"{{id}}","target":{{JsonSerializer.Serialize(method)}},"arguments":{{arguments}}}""";
        return await SendAndAwaitAsync(Encoding.UTF8.GetBytes(frame + (char)RecordSeparator), id);
    }

    /// <summary>
    /// Sends a frame as given and waits for the completion of <paramref name="invocationId"/> (or, when null,
    /// any completion), a close, or the timeout. A send the server cuts short counts as a close.
    /// </summary>
    public async Task<HubAnswer> SendAndAwaitAsync(byte[] frame, string? invocationId, int fragment = int.MaxValue)
    {
        try
        {
            await SendBytesAsync(frame, fragment);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            // The server may close while a large frame is still going out; what it said is read below.
            if (e is OperationCanceledException) return Finish(new HubAnswer(HubAnswerKind.Timeout, default, "sending took longer than " + Timeout));
        }
        return await NextAsync(f => f.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.Number && t.GetInt32() == 3
            && (invocationId is null || f.TryGetProperty("invocationId", out var i) && i.GetString() == invocationId));
    }

    /// <summary>The next frame matching <paramref name="wanted"/> (a close frame always ends the wait); pings and pushes are skipped.</summary>
    private async Task<HubAnswer> NextAsync(Func<JsonElement, bool> wanted)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            while (true)
            {
                JsonElement? next = null;
                if (_binaryFrames.Count > 0) next = _binaryFrames.Dequeue();
                else if (MessagePack && _handshaken)
                {
                    foreach (var f in MessagePackFrames.TakeFrames(_pending)) _binaryFrames.Enqueue(f);
                    if (_binaryFrames.Count > 0) continue;
                }
                else if (_pending.IndexOf(RecordSeparator) is var end and >= 0)
                {
                    next = JsonDocument.Parse(Encoding.UTF8.GetString([.. _pending.GetRange(0, end)])).RootElement.Clone();
                    _pending.RemoveRange(0, end + 1);
                }
                if (next is { } frame)
                {
                    if (frame.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.Number && type.GetInt32() == 7)
                        return Finish(new HubAnswer(HubAnswerKind.Closed, frame,
                            "close frame: " + (frame.TryGetProperty("error", out var error) ? error.GetString() : "(no error)")));
                    if (wanted(frame)) return new HubAnswer(HubAnswerKind.Completion, frame, "");
                    continue;
                }
                var read = await _socket.ReceiveAsync(_buffer, cts.Token);
                if (read.MessageType == WebSocketMessageType.Close)
                    return Finish(new HubAnswer(HubAnswerKind.Closed, default, $"WebSocket close {_socket.CloseStatus} '{_socket.CloseStatusDescription}'"));
                _pending.AddRange(_buffer.AsSpan(0, read.Count));
            }
        }
        catch (OperationCanceledException)
        {
            return Finish(new HubAnswer(HubAnswerKind.Timeout, default, $"nothing within {Timeout.TotalSeconds:0} s"));
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            return Finish(new HubAnswer(HubAnswerKind.Closed, default, $"connection ended: {e.Message}"));
        }
    }

    private HubAnswer Finish(HubAnswer answer)
    {
        if (answer.Kind != HubAnswerKind.Completion) _done = true;
        return answer;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // Already gone.
        }
        _socket.Dispose();
    }
}

/// <summary>One connection per user, opened on first use and again after the server closed it.</summary>
internal sealed class SweepSockets(Uri hubUrl, bool messagePack = false) : IAsyncDisposable
{
    private readonly Dictionary<string, SweepSocket> _sockets = new(StringComparer.Ordinal);

    public int Reconnects { get; private set; }

    public async Task<SweepSocket> OfAsync(string user)
    {
        if (_sockets.TryGetValue(user, out var socket) && socket.IsOpen) return socket;
        if (socket is not null)
        {
            Reconnects++;
            await socket.DisposeAsync();
        }
        return _sockets[user] = await SweepSocket.ConnectAsync(hubUrl, user, messagePack);
    }

    /// <summary>A call that must succeed (world setup and state reads): answers its result.</summary>
    public async Task<JsonElement> CallAsync(string user, string method, string arguments)
    {
        var answer = await (await OfAsync(user)).InvokeAsync(method, arguments);
        if (!answer.HasResult) throw new InvalidOperationException($"{user}: {method} {Abbrev.Of(arguments, 200)} failed: {answer}");
        return answer.Frame.GetProperty("result");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets.Values) await socket.DisposeAsync();
        _sockets.Clear();
    }
}

internal static class Abbrev
{
    /// <summary>Text cut to <paramref name="max"/> chars for a failure message, saying how long it was.</summary>
    public static string Of(string text, int max = 160)
    {
        var flat = text.Replace('\n', ' ').Replace('\r', ' ');
        return flat.Length <= max ? flat : $"{flat[..max]}…({flat.Length} chars)";
    }
}
