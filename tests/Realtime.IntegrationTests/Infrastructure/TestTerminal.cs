using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Protocol;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// A terminal for tests: a thin wrapper over the official SignalR client (JSON or MessagePack hub protocol,
/// WebSockets, no negotiation) that records every server-to-client call and answers invocations as JSON.
/// </summary>
public sealed class TestTerminal : IAsyncDisposable
{
    /// <remarks>Generous: the suite runs many tests in parallel on two cores; a passing wait returns as soon as it can.</remarks>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private const string ServerClosedPrefix = "The server closed the connection";
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(5);
    private static readonly JsonElement JsonNull = JsonDocument.Parse("null").RootElement.Clone();

    private readonly HubConnection _connection;
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new(); // guards _received, _inbox, _waiters, _isClosed
    private readonly List<(string Target, JsonElement[] Args)> _received = [];
    private readonly List<(string Target, JsonElement[] Args)> _inbox = []; // received, not yet taken by WaitForAsync
    private readonly List<Waiter> _waiters = [];
    private bool _isClosed;

    private TestTerminal(HubConnection connection)
    {
        _connection = connection;
        // Every server-to-client method of the hub, arguments taken as raw JSON.
        foreach (var method in ServerMethods)
        {
            connection.On(method, [typeof(JsonElement)], (args, _) =>
            {
                Deliver(method, [.. args.Select(a => a is JsonElement e ? e : JsonSerializer.SerializeToElement(a, JsonOptions))]);
                return Task.CompletedTask;
            }, this);
        }
        connection.Closed += error =>
        {
            OnClosed(error);
            return Task.CompletedTask;
        };
    }

    /// <summary>
    /// The hub's server-to-client methods (SPEC §4), each with one argument. Listed rather than
    /// reflected from the server's IGroupClient so the bench can share this file; a test checks
    /// the two agree.
    /// </summary>
    public static readonly string[] ServerMethods = ["SystemMessage", "GroupEvent"];

    /// <summary>Everything the server called on this client, in arrival order.</summary>
    public IReadOnlyList<(string Target, JsonElement[] Args)> Received { get { lock (_gate) return _received.ToArray(); } }

    /// <summary>Completes when the connection ends, with the error the server closed it with, if any.</summary>
    public Task<string?> Closed => _closed.Task;

    /// <summary>
    /// Connects and returns once the hub's OnConnectedAsync has finished (the terminal is attached to its groups).
    /// The token goes in the access_token query parameter, as browsers send it, or with <paramref name="useBearerHeader"/>
    /// in an "Authorization: Bearer" header. <paramref name="waitUntilAttached"/> false returns at the handshake, as a
    /// real client's start does. <paramref name="messagePack"/> speaks the MessagePack hub protocol (arguments and
    /// results cross as the MessagePack form of their JSON, as the server's protocol expects).
    /// </summary>
    public static async Task<TestTerminal> ConnectAsync(
        Uri hubUrl, string? accessToken, string? device = null, bool useBearerHeader = false, TimeSpan? timeout = null,
        bool waitUntilAttached = true, bool messagePack = false)
    {
        var limit = timeout ?? DefaultTimeout;
        var builder = new HubConnectionBuilder()
            .WithUrl(BuildUrl(hubUrl, useBearerHeader ? null : accessToken, device), options =>
            {
                options.SkipNegotiation = true;
                options.Transports = HttpTransportType.WebSockets;
                // Off the browser the .NET client sends this token as an "Authorization: Bearer" header.
                if (useBearerHeader && accessToken is not null) options.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
            });
        if (messagePack) builder.AddMessagePackProtocol(o => o.SerializerOptions = JsonMessagePack.SerializerOptions(JsonOptions));
        else builder.AddJsonProtocol(o => o.PayloadSerializerOptions = JsonOptions);
        var connection = builder.Build();
        connection.HandshakeTimeout = limit;
        connection.KeepAliveInterval = PingInterval;

        var client = new TestTerminal(connection);
        try
        {
            using (var cts = new CancellationTokenSource(limit))
            {
                try { await connection.StartAsync(cts.Token); }
                catch (OperationCanceledException e) when (cts.IsCancellationRequested) { throw new TimeoutException($"Connecting to {hubUrl} timed out after {limit.TotalSeconds:0.###} s.", e); }
            }
            // The handshake answer precedes OnConnectedAsync, but invocations wait for it: after this answer the terminal is attached.
            if (waitUntilAttached) await client.InvokeAsync("WhoAmI");
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
        using var cts = new CancellationTokenSource(DefaultTimeout);
        try
        {
            var result = await _connection.InvokeCoreAsync(method, typeof(JsonElement), args ?? [null], cts.Token);
            return result is JsonElement element ? element : JsonNull;
        }
        catch (HubException e) when (!e.Message.StartsWith(ServerClosedPrefix, StringComparison.Ordinal))
        {
            throw new HubErrorException(e.Message);
        }
        catch (OperationCanceledException e) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after {DefaultTimeout.TotalSeconds:0.###} s waiting for the completion of '{method}'.", e);
        }
        catch (Exception e) when (e is OperationCanceledException or HubException)
        {
            throw new InvalidOperationException($"The connection closed before '{method}' completed: {e.Message}", e);
        }
    }

    public async Task<T> InvokeAsync<T>(string method, params object?[] args)
    {
        var result = await InvokeAsync(method, args);
        return result.ValueKind == JsonValueKind.Undefined ? default! : result.Deserialize<T>(JsonOptions)!;
    }

    /// <summary>Fire-and-forget invocation: the server sends no completion.</summary>
    public async Task SendAsync(string method, params object?[] args)
    {
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await _connection.SendCoreAsync(method, args ?? [null], cts.Token);
    }

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

    /// <summary>Stops the connection and waits until it has ended.</summary>
    public async Task CloseAsync()
    {
        await _connection.StopAsync().WaitAsync(DefaultTimeout);
        OnClosed(null); // in case the connection never started, so no Closed event comes
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        finally
        {
            await _connection.DisposeAsync().AsTask().WaitAsync(DefaultTimeout);
        }
    }

    private static Uri BuildUrl(Uri hubUrl, string? queryToken, string? device)
    {
        var builder = new UriBuilder(hubUrl);
        var query = new List<string>();
        if (builder.Query.Length > 1) query.Add(builder.Query[1..]);
        if (queryToken is not null) query.Add("access_token=" + Uri.EscapeDataString(queryToken));
        if (device is not null) query.Add("device=" + Uri.EscapeDataString(device));
        builder.Query = string.Join('&', query);
        return builder.Uri;
    }

    private void OnClosed(Exception? error)
    {
        lock (_gate)
        {
            if (_isClosed) return;
            _isClosed = true;
            foreach (var waiter in _waiters)
                waiter.Result.TrySetException(new InvalidOperationException($"The connection closed before a matching '{waiter.Target}' call arrived. {DescribeReceived()}"));
            _waiters.Clear();
        }
        _closed.TrySetResult(error?.Message);
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
