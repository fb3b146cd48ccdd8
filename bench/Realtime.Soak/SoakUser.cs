using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Realtime.Soak;

/// <summary>A reconnect: when the connection dropped (s since the load started), from and to which node, how long it took.</summary>
public sealed record Reconnect(double At, int From, int To, double Seconds, int Attempts);

/// <summary>
/// One user with one terminal, behaving like a careful client: it keeps a cursor per stream (its system messages and
/// each group), notices gaps in live pushes and fills them with Sync, reconnects when its connection drops (to the
/// other node, or back to the same one), then syncs from its cursors, and retries a command cut off by a lost
/// connection once, with the same requestId/clientMsgId. It keeps only flags per seq, never the pushes themselves.
/// </summary>
public sealed class SoakUser(SoakContext ctx, string id, int index)
{
    public static readonly TimeSpan InvokeTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReconnectBudget = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan GapPatience = TimeSpan.FromSeconds(2);
    private const int SyncLimit = 1000;
    private const int MaxSyncPages = 200;

    private readonly object _gate = new();
    private readonly Dictionary<long, Guid> _systemIds = [];
    private HubConnection? _conn;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private int _reconnecting, _syncing;

    public string Id => id;
    public int Index => index;
    public int Node { get; private set; }
    public bool GaveUp { get; private set; }
    public bool Connected { get { lock (_gate) return _conn is { State: HubConnectionState.Connected } && _ready.Task.IsCompleted; } }

    public readonly StreamState System = new();
    public readonly Dictionary<string, StreamState> Groups = new(StringComparer.Ordinal);
    public readonly List<Reconnect> Reconnects = [];
    public int SystemConflicts, SyncOrderViolations, TooOld, Disconnects;

    public StreamState Stream(string groupId)
    {
        lock (_gate)
        {
            if (!Groups.TryGetValue(groupId, out var s)) Groups[groupId] = s = new StreamState();
            return s;
        }
    }

    // ------------------------------------------------------------------ connection

    public async Task ConnectAsync(int node)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var conn = await ConnectOnceAsync(node);
                lock (_gate)
                {
                    _conn = conn;
                    Node = node;
                    _ready.TrySetResult();
                }
                return;
            }
            catch (Exception) when (attempt < 3)
            {
                await Task.Delay(1000);
            }
        }
    }

    private async Task<HubConnection> ConnectOnceAsync(int node)
    {
        var url = new UriBuilder(ctx.Options.Urls[node]) { Query = $"access_token={Uri.EscapeDataString(ctx.Token(id))}&device=soak" }.Uri;
        var conn = new HubConnectionBuilder()
            .WithUrl(url, o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions = SoakContext.JsonOptions)
            .Build();
        conn.HandshakeTimeout = ConnectTimeout;
        conn.KeepAliveInterval = TimeSpan.FromSeconds(10);
        conn.ServerTimeout = TimeSpan.FromSeconds(30);
        conn.On<JsonElement>("GroupEvent", e => OnGroupEvent(e));
        conn.On<JsonElement>("SystemMessage", e => OnSystemMessage(e));
        conn.Closed += error => OnClosed(conn);
        using var cts = new CancellationTokenSource(ConnectTimeout);
        try
        {
            await conn.StartAsync(cts.Token);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        return conn;
    }

    private Task OnClosed(HubConnection conn)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(conn, _conn) || _stopping) return Task.CompletedTask;
            _conn = null;
            if (_ready.Task.IsCompleted) _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Disconnects++;
        }
        _ = Task.Run(ReconnectAsync);
        _ = Task.Run(async () => { try { await conn.DisposeAsync(); } catch { /* already gone */ } });
        return Task.CompletedTask;
    }

    private async Task ReconnectAsync()
    {
        while (true)
        {
            if (Interlocked.Exchange(ref _reconnecting, 1) == 1) return;
            try
            {
                await ReconnectLoopAsync();
            }
            finally
            {
                Volatile.Write(ref _reconnecting, 0);
            }
            lock (_gate)
            {
                if (_conn is not null || _stopping || GaveUp) return;
            }
        }
    }

    /// <summary>
    /// Half of each node's users try the other node first, then alternate; the other half wait for their own node for
    /// 30 s first, so after a node restart some clients come back to it and the others stay where they went.
    /// </summary>
    private int ChooseNode(int attempt, int from)
    {
        var n = ctx.Options.Urls.Length;
        if (index / n % 2 == 1 && attempt < 30) return from;
        return (from + 1 + attempt) % n;
    }

    private async Task ReconnectLoopAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var at = Clock.Seconds;
        var from = Node;
        for (var attempt = 0; !_stopping && Clock.Ms(started, Stopwatch.GetTimestamp()) < ReconnectBudget.TotalMilliseconds; attempt++)
        {
            var node = ChooseNode(attempt, from);
            HubConnection conn;
            try
            {
                conn = await ConnectOnceAsync(node);
            }
            catch (Exception)
            {
                await Task.Delay(1000);
                continue;
            }
            lock (_gate)
            {
                _conn = conn;
                Node = node;
                System.LastLiveSeq = 0;
                foreach (var s in Groups.Values) s.LastLiveSeq = 0;
            }
            // Pushes raised before this terminal was attached are only in the log: sync before anything else.
            await SyncAllAsync("reconnect", CancellationToken.None);
            lock (_gate)
            {
                if (ReferenceEquals(_conn, conn) && conn.State == HubConnectionState.Connected)
                {
                    Reconnects.Add(new Reconnect(at, from, node, Clock.Ms(started, Stopwatch.GetTimestamp()) / 1000, attempt + 1));
                    _ready.TrySetResult();
                    return;
                }
            }
        }
        if (!_stopping)
        {
            GaveUp = true;
            Clock.Log($"{id} gave up reconnecting after {ReconnectBudget.TotalSeconds:0} s");
        }
    }

    public async Task StopAsync()
    {
        HubConnection? conn;
        lock (_gate)
        {
            _stopping = true;
            conn = _conn;
            _conn = null;
        }
        if (conn is null) return;
        try
        {
            await conn.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await conn.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
            // closing at the end: nothing to do about it
        }
    }

    // ------------------------------------------------------------------ pushes

    private void OnGroupEvent(JsonElement e)
    {
        var arrived = Stopwatch.GetTimestamp();
        var (groupId, seq, entry, t0) = ParseEvent(e);
        ctx.Log(groupId).Add(seq, entry);
        lock (_gate)
        {
            if (!Groups.TryGetValue(groupId, out var s)) Groups[groupId] = s = new StreamState();
            Live(s, seq, arrived);
        }
        ctx.Recorder.Delivery(t0 != 0 ? Clock.Ms(t0, arrived) : double.NaN);
    }

    private void OnSystemMessage(JsonElement m)
    {
        var arrived = Stopwatch.GetTimestamp();
        var seq = m.GetProperty("seq").GetInt64();
        var messageId = m.GetProperty("id").GetGuid();
        lock (_gate)
        {
            CheckSystemId(seq, messageId);
            Live(System, seq, arrived);
        }
    }

    private static void Live(StreamState s, long seq, long arrived)
    {
        var before = s.Mark(seq, StreamState.Live);
        if ((before & StreamState.Live) != 0) s.LiveTwice++;
        if (seq <= s.LastLiveSeq) s.LiveBackwards++;
        else s.LastLiveSeq = seq;
        if (seq > s.Cursor + 1 && s.GapSince == 0) s.GapSince = arrived;
        s.Advance();
    }

    private void CheckSystemId(long seq, Guid messageId)
    {
        if (_systemIds.TryGetValue(seq, out var known))
        {
            if (known != messageId) SystemConflicts++;
        }
        else
        {
            _systemIds[seq] = messageId;
        }
    }

    public static (string GroupId, long Seq, LogEntry Entry, long T0) ParseEvent(JsonElement e)
    {
        var groupId = e.GetProperty("groupId").GetString()!;
        var seq = e.GetProperty("seq").GetInt64();
        var type = e.GetProperty("type").GetString()!;
        string[]? users = null;
        string? clientMsgId = null;
        long t0 = 0;
        if (e.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            switch (type)
            {
                case "MembersJoined" or "MembersKicked":
                    users = [.. data.GetProperty("userIds").EnumerateArray().Select(u => u.GetString()!)];
                    break;
                case "MemberQuit":
                    users = [data.GetProperty("userId").GetString()!];
                    break;
                case "Message":
                    if (data.TryGetProperty("clientMsgId", out var c) && c.ValueKind == JsonValueKind.String) clientMsgId = c.GetString();
                    if (data.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("t0", out var t)) t0 = t.GetInt64();
                    break;
            }
        }
        var entry = new LogEntry(e.GetProperty("id").GetGuid(), type, e.GetProperty("at").GetDateTimeOffset().ToUnixTimeMilliseconds(), users, clientMsgId);
        return (groupId, seq, entry, t0);
    }

    // ------------------------------------------------------------------ Sync

    /// <summary>True when some stream has had a gap for longer than a reordering between nodes could explain.</summary>
    public bool HasOldGap()
    {
        var limit = Stopwatch.GetTimestamp() - (long)(GapPatience.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            if (System.GapSince != 0 && System.GapSince < limit) return true;
            return Groups.Values.Any(s => s.GapSince != 0 && s.GapSince < limit);
        }
    }

    /// <summary>
    /// Syncs the system stream and every group of the run from this terminal's cursors, paging by next/hasMore until
    /// nothing has more; then every completed stream's cursor moves to its `next` (everything visible up to there
    /// has now arrived). Answers false when it could not finish (connection lost, another Sync running).
    /// </summary>
    public async Task<bool> SyncAllAsync(string reason, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _syncing, 1) == 1) return false;
        int pages = 0, items = 0, fresh = 0;
        var complete = false;
        try
        {
            HubConnection? conn;
            long systemNext;
            var pending = new Dictionary<string, long>(StringComparer.Ordinal);
            lock (_gate)
            {
                conn = _conn;
                systemNext = System.Cursor;
                foreach (var g in ctx.GroupIds) pending[g] = Groups.TryGetValue(g, out var s) ? s.Cursor : 0;
            }
            if (conn is null) return false;
            var done = new Dictionary<string, long>(StringComparer.Ordinal);
            var systemMore = true;
            while ((pending.Count > 0 || systemMore) && pages < MaxSyncPages)
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(InvokeTimeout);
                var request = new { systemSince = systemNext, groups = pending, limit = SyncLimit };
                var result = (JsonElement)(await conn.InvokeCoreAsync("Sync", typeof(JsonElement), [request], cts.Token))!;
                pages++;

                var system = result.GetProperty("system");
                var previous = systemNext;
                foreach (var m in system.GetProperty("items").EnumerateArray())
                {
                    var seq = m.GetProperty("seq").GetInt64();
                    items++;
                    lock (_gate)
                    {
                        if (seq <= previous) SyncOrderViolations++;
                        previous = seq;
                        CheckSystemId(seq, m.GetProperty("id").GetGuid());
                        if (System.Mark(seq, StreamState.Synced) == 0) fresh++;
                    }
                }
                if (system.GetProperty("tooOld").GetBoolean()) Interlocked.Increment(ref TooOld);
                systemNext = system.GetProperty("next").GetInt64();
                systemMore = system.GetProperty("hasMore").GetBoolean();

                var groups = result.GetProperty("groups");
                foreach (var (groupId, since) in pending.ToList())
                {
                    var g = groups.GetProperty(groupId);
                    var last = since;
                    foreach (var e in g.GetProperty("items").EnumerateArray())
                    {
                        var (_, seq, entry, _) = ParseEvent(e);
                        items++;
                        ctx.Log(groupId).Add(seq, entry);
                        lock (_gate)
                        {
                            if (seq <= last) SyncOrderViolations++;
                            last = seq;
                            if (!Groups.TryGetValue(groupId, out var s)) Groups[groupId] = s = new StreamState();
                            if (s.Mark(seq, StreamState.Synced) == 0) fresh++;
                        }
                    }
                    if (g.GetProperty("tooOld").GetBoolean()) Interlocked.Increment(ref TooOld);
                    var next = g.GetProperty("next").GetInt64();
                    if (g.GetProperty("hasMore").GetBoolean()) pending[groupId] = next;
                    else
                    {
                        pending.Remove(groupId);
                        done[groupId] = next;
                    }
                }
            }
            lock (_gate)
            {
                if (!systemMore) System.Advance(systemNext);
                foreach (var (groupId, next) in done)
                {
                    if (!Groups.TryGetValue(groupId, out var s)) Groups[groupId] = s = new StreamState();
                    s.Advance(next);
                }
            }
            complete = pending.Count == 0 && !systemMore;
            return complete;
        }
        catch (Exception ex) when (ex is HubException or OperationCanceledException or InvalidOperationException or IOException or WebSocketException)
        {
            return false;
        }
        finally
        {
            ctx.CountSync(reason, pages, items, fresh, failed: !complete);
            Volatile.Write(ref _syncing, 0);
        }
    }

    /// <summary>The end-of-run Sync: retried (another Sync may be running, a connection coming back) within a bound.</summary>
    public async Task<bool> FinalSyncAsync()
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (Connected && await SyncAllAsync("final", CancellationToken.None)) return true;
            await Task.Delay(1000);
        }
        return false;
    }

    // ------------------------------------------------------------------ commands

    /// <summary>
    /// Invokes a command and waits for its answer. A command cut off by a lost connection or a timeout is sent again
    /// once, after the reconnect, with the same arguments (so the same requestId/clientMsgId: the server answers the
    /// first result if the first attempt had committed). Error: the code in brackets, "ConnectionLost", "Timeout",
    /// "NotConnected", or "Stopped" (the run is over).
    /// </summary>
    public async Task<(JsonElement Result, string? Error, bool Retried)> CallAsync(string method, object?[] args, CancellationToken stop)
    {
        for (var attempt = 0; ; attempt++)
        {
            HubConnection? conn;
            Task ready;
            lock (_gate) ready = _ready.Task;
            try
            {
                await ready.WaitAsync(ReconnectBudget, stop);
            }
            catch (OperationCanceledException)
            {
                return (default, "Stopped", attempt > 0);
            }
            catch (TimeoutException)
            {
                return (default, "NotConnected", attempt > 0);
            }
            lock (_gate) conn = _conn;
            if (conn is null)
            {
                await Task.Delay(200, CancellationToken.None);
                if (attempt < 5) continue;
                return (default, "NotConnected", true);
            }

            using var cts = new CancellationTokenSource(InvokeTimeout);
            try
            {
                var result = await conn.InvokeCoreAsync(method, typeof(JsonElement), args, cts.Token);
                return (result is JsonElement e ? e : default, null, attempt > 0);
            }
            catch (HubException ex) when (CodeOf(ex.Message) is { } code)
            {
                return (default, code, attempt > 0);
            }
            catch (Exception ex) when (ex is HubException or OperationCanceledException or InvalidOperationException or IOException or WebSocketException)
            {
                var what = cts.IsCancellationRequested ? "Timeout" : "ConnectionLost";
                if (attempt >= 1 || stop.IsCancellationRequested) return (default, what, attempt > 0);
                ctx.Recorder.Retries.AddOrUpdate($"{method} retried after {what}", 1, (_, n) => n + 1);
                // Let the Closed handler replace the connection before waiting for it to be ready again.
                for (var i = 0; i < 50 && conn.State == HubConnectionState.Connected && what == "ConnectionLost"; i++) await Task.Delay(100);
                if (what == "ConnectionLost") await Task.Delay(200);
            }
        }
    }

    /// <summary>"… HubException: [GroupFull] …" or "[GroupFull] …" → GroupFull; null when the message carries no code.</summary>
    public static string? CodeOf(string message)
    {
        var start = message.IndexOf('[');
        var end = start >= 0 ? message.IndexOf(']', start) : -1;
        if (end <= start + 1) return null;
        var code = message[(start + 1)..end];
        return code.All(char.IsLetterOrDigit) ? code : null;
    }
}
