using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Realtime.Client;

/// <summary>
/// One terminal of one user: a SignalR connection to any node of a Realtime deployment that keeps
/// the user's streams whole. Every push and every Sync answer goes through one delivery loop, which
/// hands events to the app in seq order per stream, each exactly once: duplicates are dropped, a gap
/// is filled by Sync, and Sync runs on start and after every reconnect. Handlers run on that loop one
/// at a time; they may call the client's methods but should not block.
/// </summary>
public sealed partial class RealtimeClient : IAsyncDisposable
{
    private readonly RealtimeClientOptions _options;
    private readonly FailoverConnectionFactory _connections;
    private readonly JitteredRetryPolicy _retry;
    private readonly HubConnection _hub;
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<TaskCompletionSource> _syncWaiters = [];
    // The first Sync of every stream (not one a push asked for): StartAsync returns after it.
    private readonly TaskCompletionSource _firstFullSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamTracker _tracker = new();
    private Task _pump = Task.CompletedTask;
    private Task _restart = Task.CompletedTask;

    private abstract record Work;

    private sealed record PushWork(IStreamItem Item) : Work;

    private sealed record SyncWork(string Reason) : Work;

    public RealtimeClient(RealtimeClientOptions options)
    {
        _options = options;
        if (options.SyncLimit is < 1 or > 1000) throw new ArgumentOutOfRangeException(nameof(options), "SyncLimit must be 1-1000");
        _connections = new FailoverConnectionFactory(options.HubUrls(), options.Device, options.AccessTokenProvider, options.LoggerFactory);
        _retry = new JitteredRetryPolicy(options.ReconnectBaseDelay, options.ReconnectMaxDelay, giveUpAfter: TimeSpan.FromMinutes(2));
        var builder = new HubConnectionBuilder().WithAutomaticReconnect(_retry);
        builder.Services.AddSingleton<IConnectionFactory>(_connections);
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(_connections.Current)); // the factory decides; SignalR wants one
        ClientProtocol.Add(builder, options.Protocol);
        _hub = builder.Build();
        _hub.On<SystemMessage>("SystemMessage", m => _work.Writer.TryWrite(new PushWork(m)));
        _hub.On<GroupEvent>("GroupEvent", e => _work.Writer.TryWrite(new PushWork(e)));
        _hub.Reconnecting += e =>
        {
            // A dropped connection tries the next node first: the one it had may be the one that stopped.
            _connections.MoveNext();
            Raise(Disconnected, e);
            return Task.CompletedTask;
        };
        _hub.Reconnected += _ =>
        {
            Raise(Connected, _connections.Current);
            _work.Writer.TryWrite(new SyncWork("reconnect"));
            return Task.CompletedTask;
        };
        _hub.Closed += e =>
        {
            // Automatic reconnect gave up (or the server refused it): start over, with the same backoff, until disposed.
            if (_stopping.IsCancellationRequested) return Task.CompletedTask;
            _connections.MoveNext();
            Raise(Disconnected, e);
            _restart = Task.Run(() => ConnectLoopAsync("restart"));
            return Task.CompletedTask;
        };
    }

    // ---- what the app sees, in order per stream
    public event Action<SystemMessage>? SystemMessageReceived;

    public event Action<GroupEvent>? GroupEventReceived;

    /// <summary>A stream lost events to retention, or a group id now names another group: reload that state.</summary>
    public event Action<StreamTooOld>? TooOld;

    /// <summary>The user left, was kicked, or the group was dissolved; raised once, after the group's last event.</summary>
    public event Action<GroupRemoved>? Removed;

    /// <summary>Every item above, in the order delivered.</summary>
    public event Action<IStreamItem>? Received;

    public event Action<SyncCompleted>? Synced;

    /// <summary>Connected (first time or again) to this node's hub URL.</summary>
    public event Action<Uri>? Connected;

    public event Action<Exception?>? Disconnected;

    /// <summary>A handler threw or a Sync failed (it is retried); the client carries on.</summary>
    public event Action<Exception>? Error;

    public HubConnectionState State => _hub.State;

    /// <summary>The hub URL of the node in use (or tried next).</summary>
    public Uri CurrentUrl => _connections.Current;

    /// <summary>What the delivery loop has seen so far: duplicates dropped and gaps detected.</summary>
    public ClientStats Stats => new(_tracker.DuplicatesDropped, _tracker.GapsDetected);

    /// <summary>The cursors as they stand (what the store gets after each batch).</summary>
    public CursorSnapshot Cursors { get; private set; } = CursorSnapshot.Empty;

    /// <summary>Loads the cursors, connects (retrying with backoff across the URLs) and returns after the first Sync was delivered.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        Cursors = await _options.CursorStore.LoadAsync(ct);
        _tracker = new StreamTracker(Cursors);
        _pump = Task.Run(PumpAsync);
        await ConnectLoopAsync("start", ct);
        await _firstFullSync.Task.WaitAsync(ct);
    }

    /// <summary>Completes after the next Sync that delivered everything (for tests and for apps that want to show "up to date").</summary>
    public Task NextSync()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_syncWaiters) _syncWaiters.Add(tcs);
        return tcs.Task;
    }

    /// <summary>Asks for a Sync now (the client already syncs on its own; an app may after being in the background).</summary>
    public void RequestSync() => _work.Writer.TryWrite(new SyncWork("requested"));

    private async Task ConnectLoopAsync(string reason, CancellationToken ct = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        for (var attempt = 0L; ; attempt++)
        {
            try
            {
                await _hub.StartAsync(linked.Token);
                Raise(Connected, _connections.Current);
                _work.Writer.TryWrite(new SyncWork(reason));
                return;
            }
            catch (Exception e) when (reason == "start" && Refused(e))
            {
                // A bad, expired or foreign token will not get better by waiting: the app must get another one.
                throw new RealtimeHubException("Unauthorized", "[Unauthorized] the server refused the token", e);
            }
            catch (Exception e) when (!linked.IsCancellationRequested && e is not InvalidOperationException)
            {
                // After a first success a refusal is retried too: the token provider may hand out a fresh token.
                Report(e);
                await Task.Delay(_retry.Delay(attempt), linked.Token);
            }
        }
    }

    /// <summary>The handshake answered 401 or 403 (SignalR's WebSocket transport says so only in the message).</summary>
    private static bool Refused(Exception e) =>
        e is System.Net.WebSockets.WebSocketException && (e.Message.Contains("'401'") || e.Message.Contains("'403'"))
        || e is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden };

    private async Task PumpAsync()
    {
        var output = new List<IStreamItem>();
        try
        {
            await foreach (var work in _work.Reader.ReadAllAsync(_stopping.Token))
            {
                output.Clear();
                switch (work)
                {
                    case PushWork { Item: SystemMessage m }:
                        if (_tracker.OnPush(m, output)) await RunSyncAsync("push", full: false, output);
                        break;
                    case PushWork { Item: GroupEvent e }:
                        if (_tracker.OnPush(e, output)) await RunSyncAsync("push", full: false, output);
                        break;
                    case SyncWork s:
                        await RunSyncAsync(s.Reason, full: true, output);
                        break;
                }
                Deliver(output);
                Cursors = _tracker.Snapshot();
                await _options.CursorStore.SaveAsync(Cursors, _stopping.Token);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sync rounds until nothing is left (hasMore, a new incarnation, a membership change). Delivers as it goes.</summary>
    private async Task RunSyncAsync(string reason, bool full, List<IStreamItem> output)
    {
        var clock = Stopwatch.StartNew();
        var (rounds, delivered, wasFull) = (0, 0, full);
        try
        {
            if (reason == "start" && _tracker.IsEmpty && _options.StartJoinedGroupsAtLastSeq) await TrackJoinedGroupsAsync();
            bool more;
            do
            {
                var request = _tracker.NextSyncRequest(full, _options.SyncLimit);
                full = false;
                var result = await InvokeAsync<SyncResult>("Sync", [request], _stopping.Token);
                var before = output.Count;
                more = _tracker.ApplySync(result, output);
                rounds++;
                delivered += output.Count - before;
                // The system stream lost messages to retention: JoinedGroup ones among them, maybe.
                if (output.Skip(before).Any(i => i is StreamTooOld { GroupId: null })) more |= await TrackJoinedGroupsAsync();
                Deliver(output);
                output.Clear();
            } while (more);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            Deliver(output);
            output.Clear();
            Report(e);
            // A dropped connection syncs again when it is back; an error on a live one is retried after a pause.
            if (_hub.State == HubConnectionState.Connected) _ = RetrySyncAsync();
            return;
        }
        Synced?.Invoke(new SyncCompleted(reason, clock.Elapsed, delivered, rounds));
        if (wasFull) _firstFullSync.TrySetResult();
        lock (_syncWaiters)
        {
            foreach (var w in _syncWaiters) w.TrySetResult();
            _syncWaiters.Clear();
        }
    }

    private async Task RetrySyncAsync()
    {
        await Task.Delay(_retry.Delay(2), _stopping.Token);
        _work.Writer.TryWrite(new SyncWork("retry"));
    }

    /// <summary>Follows the joined groups the tracker does not know yet from their lastSeq. True when there were any.</summary>
    private async Task<bool> TrackJoinedGroupsAsync()
    {
        var found = false;
        for (var offset = 0; ; offset += 1000)
        {
            var page = await GetJoinedGroupsAsync(new GetJoinedGroupsRequest(offset, 1000), _stopping.Token);
            foreach (var g in page.Groups)
            {
                found |= _tracker.CursorOf(g.GroupId) is null;
                _tracker.Track(g.GroupId, g.LastSeq, g.Epoch);
            }
            if (page.Groups.Count < 1000) return found;
        }
    }

    private void Deliver(List<IStreamItem> items)
    {
        foreach (var item in items)
        {
            try
            {
                switch (item)
                {
                    case SystemMessage m: SystemMessageReceived?.Invoke(m); break;
                    case GroupEvent e: GroupEventReceived?.Invoke(e); break;
                    case StreamTooOld t: TooOld?.Invoke(t); break;
                    case GroupRemoved r: Removed?.Invoke(r); break;
                }
                Received?.Invoke(item);
            }
            catch (Exception e)
            {
                Report(e);
            }
        }
    }

    /// <summary>Connection events: an app handler that throws is reported, and must not look like a failed connect.</summary>
    private void Raise<T>(Action<T>? handler, T arg)
    {
        try
        {
            handler?.Invoke(arg);
        }
        catch (Exception e)
        {
            Report(e);
        }
    }

    private void Report(Exception e)
    {
        try
        {
            Error?.Invoke(e);
        }
        catch
        {
            // The app's error handler failing must not stop delivery.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _work.Writer.TryComplete();
        await _hub.DisposeAsync();
        await Task.WhenAll(_pump, _restart).ContinueWith(_ => { }, TaskScheduler.Default);
        _firstFullSync.TrySetCanceled();
        lock (_syncWaiters)
        {
            foreach (var w in _syncWaiters) w.TrySetCanceled();
            _syncWaiters.Clear();
        }
        _stopping.Dispose();
    }
}
