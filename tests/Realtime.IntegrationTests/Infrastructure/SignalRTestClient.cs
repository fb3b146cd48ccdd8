using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// A minimal SignalR client for tests: JSON hub protocol version 1 over a raw WebSocket, without negotiation.
/// Supports invocations (with and without a result), server-to-client calls, pings and close messages.
/// </summary>
public sealed class SignalRTestClient : IAsyncDisposable
{
    /// <remarks>Generous: the suite runs many tests in parallel on two cores; a passing wait returns as soon as it can.</remarks>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private const int InvocationType = 1, CompletionType = 3, PingType = 6, CloseType = 7;
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(5);

    private readonly ClientWebSocket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<JsonElement> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, (string Method, TaskCompletionSource<JsonElement> Result)> _pending = new();
    private readonly object _gate = new(); // guards _received, _inbox, _waiters, _isClosed
    private readonly List<(string Target, JsonElement[] Args)> _received = [];
    private readonly List<(string Target, JsonElement[] Args)> _inbox = []; // received, not yet taken by WaitForAsync
    private readonly List<Waiter> _waiters = [];
    private bool _isClosed;
    private int _lastInvocationId;
    private Task _receiveLoop = Task.CompletedTask, _pingLoop = Task.CompletedTask;

    private SignalRTestClient(ClientWebSocket socket) => _socket = socket;

    /// <summary>Everything the server called on this client, in arrival order.</summary>
    public IReadOnlyList<(string Target, JsonElement[] Args)> Received { get { lock (_gate) return _received.ToArray(); } }

    /// <summary>Completes when the connection ends, with the error of the server's close message, if any.</summary>
    public Task<string?> Closed => _closed.Task;

    public static async Task<SignalRTestClient> ConnectAsync(Uri hubUrl, string? accessToken, string? device = null, bool useBearerHeader = false, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var url = BuildUrl(hubUrl, useBearerHeader ? null : accessToken, device);
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (useBearerHeader && accessToken is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {accessToken}");
        try
        {
            using var cts = new CancellationTokenSource(limit);
            await socket.ConnectAsync(url, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            if (ex is OperationCanceledException) throw new TimeoutException($"Connecting to {hubUrl} timed out after {limit}.", ex);
            throw new ConnectRefusedException(status == 0 ? null : status, $"Connecting to {hubUrl} failed{(status == 0 ? "" : $" with HTTP {status}")}: {ex.Message}", ex);
        }

        var client = new SignalRTestClient(socket);
        try
        {
            client._receiveLoop = Task.Run(client.ReceiveLoopAsync);
            await client.SendRawAsync("""{"protocol":"json","version":1}""");
            var reply = await WithTimeout(client._handshake.Task, limit, "the handshake reply");
            if (reply.TryGetProperty("error", out var error)) throw new ConnectRefusedException(null, $"Handshake rejected: {error.GetString()}");
            client._pingLoop = Task.Run(client.PingLoopAsync);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Invokes a hub method and waits for its completion; a void method's result is JSON null.</summary>
    /// <exception cref="HubErrorException">The server completed the invocation with an error.</exception>
    public async Task<JsonElement> InvokeAsync(string method, params object?[] args)
    {
        var id = Interlocked.Increment(ref _lastInvocationId).ToString(CultureInfo.InvariantCulture);
        var result = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = (method, result);
        try
        {
            await SendRawAsync(JsonSerializer.Serialize(new { type = InvocationType, invocationId = id, target = method, arguments = args ?? [null] }, JsonOptions));
            return await WithTimeout(result.Task, DefaultTimeout, $"the completion of '{method}'");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public async Task<T> InvokeAsync<T>(string method, params object?[] args)
    {
        var result = await InvokeAsync(method, args);
        return result.ValueKind == JsonValueKind.Undefined ? default! : result.Deserialize<T>(JsonOptions)!;
    }

    /// <summary>Fire-and-forget invocation: the server sends no completion.</summary>
    public Task SendAsync(string method, params object?[] args) =>
        SendRawAsync(JsonSerializer.Serialize(new { type = InvocationType, target = method, arguments = args ?? [null] }, JsonOptions));

    /// <summary>
    /// Returns the arguments of the oldest server call to <paramref name="target"/> (case-insensitive) that matches and was
    /// not yet returned by an earlier call, waiting for it if needed.
    /// </summary>
    public async Task<JsonElement[]> WaitForAsync(string target, Func<JsonElement[], bool>? match = null, TimeSpan? timeout = null)
    {
        var waiter = new Waiter(target, match ?? (_ => true));
        var limit = timeout ?? DefaultTimeout;
        lock (_gate)
        {
            var index = _inbox.FindIndex(call => waiter.Matches(call.Target, call.Args));
            if (index >= 0)
            {
                var found = _inbox[index];
                _inbox.RemoveAt(index);
                return found.Args;
            }
            if (_isClosed) throw new InvalidOperationException($"The connection is closed and no matching '{target}' call was received. {DescribeReceived()}");
            _waiters.Add(waiter);
        }
        try
        {
            return await waiter.Result.Task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
                if (waiter.Result.Task.IsCompletedSuccessfully) return waiter.Result.Task.Result; // delivered at the last moment
                throw new TimeoutException($"No '{target}' call{(match is null ? "" : " matching the predicate")} arrived within {limit.TotalSeconds:0.###} s. {DescribeReceived()}");
            }
        }
    }

    /// <summary>Closes the WebSocket and waits for the receive loop to end.</summary>
    public async Task CloseAsync()
    {
        if (!_closed.Task.IsCompleted)
        {
            try
            {
                await WithSendLock(ct => _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct));
                await _receiveLoop.WaitAsync(DefaultTimeout);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
                await _stop.CancelAsync(); // aborts the socket, which ends the receive loop
            }
        }
        await _receiveLoop;
        await _pingLoop;
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    private static Uri BuildUrl(Uri hubUrl, string? queryToken, string? device)
    {
        var builder = new UriBuilder(hubUrl)
        {
            Scheme = hubUrl.Scheme switch
            {
                "http" or "ws" => "ws",
                "https" or "wss" => "wss",
                var other => throw new ArgumentException($"Unsupported scheme '{other}'.", nameof(hubUrl)),
            },
        };
        var query = new List<string>();
        if (builder.Query.Length > 1) query.Add(builder.Query[1..]);
        if (queryToken is not null) query.Add("access_token=" + Uri.EscapeDataString(queryToken));
        if (device is not null) query.Add("device=" + Uri.EscapeDataString(device));
        builder.Query = string.Join('&', query);
        return builder.Uri;
    }

    private static async Task<T> WithTimeout<T>(Task<T> task, TimeSpan limit, string what)
    {
        try { return await task.WaitAsync(limit); }
        catch (TimeoutException) when (!task.IsCompleted) { throw new TimeoutException($"Timed out after {limit.TotalSeconds:0.###} s waiting for {what}."); }
    }

    private async Task SendRawAsync(string json)
    {
        if (_closed.Task.IsCompleted) throw new InvalidOperationException("The connection is closed.");
        var bytes = Encoding.UTF8.GetBytes(json + '\u001e');
        await WithSendLock(ct => _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct));
    }

    private async Task WithSendLock(Func<CancellationToken, Task> send)
    {
        await _sendLock.WaitAsync(_stop.Token);
        try { await send(_stop.Token); }
        finally { _sendLock.Release(); }
    }

    private async Task PingLoopAsync()
    {
        using var timer = new PeriodicTimer(PingInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) await SendRawAsync("""{"type":6}""");
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection ended.
        }
    }

    private async Task ReceiveLoopAsync()
    {
        string? closeError = null;
        var buffer = new byte[16 * 1024];
        var splitter = new RecordSplitter();
        try
        {
            var open = true;
            while (open)
            {
                var frame = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (frame.MessageType == WebSocketMessageType.Close) break;
                foreach (var record in splitter.Append(buffer.AsSpan(0, frame.Count)))
                {
                    var message = JsonSerializer.Deserialize<JsonElement>(record);
                    if (!_handshake.Task.IsCompleted) _handshake.TrySetResult(message);
                    else if (!Handle(message, ref closeError)) { open = false; break; }
                }
            }
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await WithSendLock(ct => _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct));
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket was aborted (by the server or by CloseAsync).
        }
        catch (Exception ex)
        {
            closeError = $"SignalRTestClient receive loop failed: {ex}";
        }
        finally
        {
            lock (_gate) _isClosed = true;
            await _stop.CancelAsync(); // stops the ping loop
            _handshake.TrySetException(new ConnectRefusedException(null, $"The connection closed during the handshake. {closeError}"));
            foreach (var (_, (method, result)) in _pending)
                result.TrySetException(new InvalidOperationException($"The connection closed before '{method}' completed{(closeError is null ? "." : $": {closeError}")}"));
            lock (_gate)
            {
                foreach (var waiter in _waiters)
                    waiter.Result.TrySetException(new InvalidOperationException($"The connection closed before a matching '{waiter.Target}' call arrived. {DescribeReceived()}"));
                _waiters.Clear();
            }
            _closed.TrySetResult(closeError);
        }
    }

    /// <summary>Handles one hub message; returns false for a close message.</summary>
    private bool Handle(JsonElement message, ref string? closeError)
    {
        switch (message.GetProperty("type").GetInt32())
        {
            case InvocationType:
                var target = message.GetProperty("target").GetString()!;
                Deliver(target, message.TryGetProperty("arguments", out var args) ? [.. args.EnumerateArray()] : []);
                if (message.TryGetProperty("invocationId", out var id)) // the server expects a client result we cannot give
                    _ = SendRawAsync(JsonSerializer.Serialize(new { type = CompletionType, invocationId = id.GetString(), error = "Client didn't provide a result." }))
                        .ContinueWith(t => t.Exception, TaskScheduler.Default); // observe a failed send
                return true;
            case CompletionType:
                if (_pending.TryRemove(message.GetProperty("invocationId").GetString()!, out var pending))
                {
                    if (message.TryGetProperty("error", out var error)) pending.Result.TrySetException(new HubErrorException(error.GetString() ?? ""));
                    else pending.Result.TrySetResult(message.TryGetProperty("result", out var result) ? result : default);
                }
                return true;
            case CloseType:
                closeError = message.TryGetProperty("error", out var closeMessageError) ? closeMessageError.GetString() : null;
                return false;
            case PingType:
            default: // stream messages are not supported
                return true;
        }
    }

    private void Deliver(string target, JsonElement[] args)
    {
        lock (_gate)
        {
            _received.Add((target, args));
            for (var i = 0; i < _waiters.Count; i++)
            {
                var waiter = _waiters[i];
                try
                {
                    if (!waiter.Matches(target, args)) continue;
                    _waiters.RemoveAt(i);
                    waiter.Result.TrySetResult(args);
                    return;
                }
                catch (Exception ex) // a throwing predicate fails its own wait only
                {
                    _waiters.RemoveAt(i--);
                    waiter.Result.TrySetException(ex);
                }
            }
            _inbox.Add((target, args));
        }
    }

    private string DescribeReceived()
    {
        var calls = _received.Select(c => $"{c.Target}({Truncate(string.Join(", ", c.Args.Select(a => a.GetRawText())))})").ToList();
        return calls.Count == 0 ? "Nothing was received." : $"Received so far: {string.Join("; ", calls.TakeLast(20))}";

        static string Truncate(string s) => s.Length <= 100 ? s : s[..100] + "…";
    }

    private sealed class Waiter(string target, Func<JsonElement[], bool> match)
    {
        public string Target => target;
        public TaskCompletionSource<JsonElement[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Matches(string callTarget, JsonElement[] args) => string.Equals(callTarget, target, StringComparison.OrdinalIgnoreCase) && match(args);
    }
}

/// <summary>Splits a byte stream into records terminated by the 0x1E record separator, across any chunking.</summary>
internal sealed class RecordSplitter
{
    private const byte RecordSeparator = 0x1E;
    private byte[] _buffer = new byte[4096];
    private int _length;

    public List<byte[]> Append(ReadOnlySpan<byte> chunk)
    {
        if (_length + chunk.Length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + chunk.Length));
        chunk.CopyTo(_buffer.AsSpan(_length));
        _length += chunk.Length;

        var records = new List<byte[]>();
        var start = 0;
        int end;
        while ((end = Array.IndexOf(_buffer, RecordSeparator, start, _length - start)) >= 0)
        {
            records.Add(_buffer[start..end]);
            start = end + 1;
        }
        _buffer.AsSpan(start, _length - start).CopyTo(_buffer); // keep the incomplete tail
        _length -= start;
        return records;
    }
}

/// <summary>The server completed an invocation with an error; the message is the server's error string, exactly.</summary>
public sealed class HubErrorException(string message) : Exception(message)
{
    private const string HubExceptionMarker = "HubException: ";

    /// <summary>
    /// The message the hub threw: SignalR sends a HubException as
    /// "An unexpected error occurred invoking 'M' on the server. HubException: [Code] text"; this is the "[Code] text" part.
    /// </summary>
    public string HubMessage => Message.IndexOf(HubExceptionMarker, StringComparison.Ordinal) is var i and >= 0 ? Message[(i + HubExceptionMarker.Length)..] : Message;
}

/// <summary>The server refused the connection: an HTTP status on the upgrade, or a handshake error (StatusCode null).</summary>
public sealed class ConnectRefusedException(int? statusCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;
}
