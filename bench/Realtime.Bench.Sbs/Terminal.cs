using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Realtime.Bench.Sbs;

/// <summary>The payload every benchmark message carries: stream id, the stream's sequence number, and the sender's Stopwatch timestamp.</summary>
public sealed class Msg
{
    public int G { get; set; }
    public int K { get; set; }
    public long T { get; set; }
}

/// <summary>Realtime's GroupEvent, reduced to what the bench reads (the rest of the JSON is skipped, not materialised).</summary>
public sealed class RtEvent
{
    public string? Type { get; set; }
    public RtData? Data { get; set; }
}

public sealed class RtData
{
    public Msg? Payload { get; set; }
}

/// <summary>A push the bench does not read (Realtime's SystemMessage): every property is skipped.</summary>
public sealed class Ignored;

/// <summary>SendMessage's request as Realtime takes it.</summary>
public sealed class RtSend
{
    public string GroupId { get; set; } = "";
    public Msg? Payload { get; set; }
}

/// <summary>Counts every push any terminal got (read or not), to tell when the servers have gone quiet.</summary>
public static class Pushes
{
    private static long _count;
    public static long Count => Interlocked.Read(ref _count);
    public static void Add() => Interlocked.Increment(ref _count);
}

/// <summary>
/// What one measurement collects from all terminals: latencies of the messages sent inside the measured window, the
/// arrivals per 250 ms since sending started, and how many arrived in all. Preallocated; a push costs a few
/// Interlocked increments.
/// </summary>
public sealed class Measure(long start, long measureFrom, long measureTo, double seconds)
{
    public const double Bucket = 0.25;
    public readonly long Start = start;
    public readonly long MeasureFrom = measureFrom;
    public readonly long MeasureTo = measureTo;
    public readonly Hist Hist = new();
    public readonly long[] Timeline = new long[(int)Math.Ceiling(seconds / Bucket) + 1];
    private long _received, _measured;

    public long Received => Interlocked.Read(ref _received);
    public long MeasuredReceived => Interlocked.Read(ref _measured);

    public void Arrive(long sentAt, long now)
    {
        Interlocked.Increment(ref _received);
        var b = (now - Start) * 4 / Stopwatch.Frequency;
        if (b >= 0 && b < Timeline.Length) Interlocked.Increment(ref Timeline[b]);
        if (sentAt >= MeasureFrom && sentAt < MeasureTo)
        {
            Interlocked.Increment(ref _measured);
            Hist.Record((now - sentAt) * 1_000_000 / Stopwatch.Frequency);
        }
    }
}

/// <summary>
/// One connection and its receiver state for the stream it is armed for: a byte per expected sequence number, the
/// highest seen, and counters. SignalR calls a connection's handlers one at a time, so this state has one writer.
/// </summary>
public sealed class Terminal(HubConnection connection, int index, int node)
{
    public HubConnection Connection => connection;
    public int Index => index;
    public int Node => node;

    private volatile Measure? _measure;
    private int _stream = -1;
    private byte[] _seen = [];
    private int _maxK;
    public int Received, Duplicates, OutOfOrder, Stray;

    /// <summary>Arms the terminal for one stream of at most <paramref name="capacity"/> messages; call while no messages of it are in flight.</summary>
    public void Arm(int stream, int capacity, Measure measure)
    {
        _measure = null;
        _stream = stream;
        if (_seen.Length < capacity) _seen = new byte[capacity];
        else Array.Clear(_seen);
        _maxK = -1;
        Received = Duplicates = OutOfOrder = Stray = 0;
        _measure = measure;
    }

    public void Disarm() => _measure = null;

    public void OnMessage(Msg? m)
    {
        var now = Stopwatch.GetTimestamp();
        Pushes.Add();
        var measure = _measure;
        if (m is null || measure is null || m.G != _stream || (uint)m.K >= (uint)_seen.Length)
        {
            Stray++;
            return;
        }
        if (_seen[m.K] != 0)
        {
            Duplicates++;
            return;
        }
        _seen[m.K] = 1;
        Received++;
        if (m.K < _maxK) OutOfOrder++;
        else _maxK = m.K;
        measure.Arrive(m.T, now);
    }
}

/// <summary>How the bench talks to one kind of server: connect, create a group, join it, send to it.</summary>
public interface ISystem
{
    string Name { get; }
    Task<Terminal> ConnectAsync(int index, int node, CancellationToken ct);
    /// <summary>Creates a group (Realtime: a FreeAccess ChatRoom owned by <paramref name="owner"/>) and returns the key to send to.</summary>
    Task<string> CreateGroupAsync(Terminal owner, string name);
    Task JoinAsync(Terminal t, string group);
    Task SendAsync(Terminal t, string group, Msg m);
}

public abstract class SystemBase(Options o) : ISystem
{
    protected Options Options => o;
    public abstract string Name { get; }
    protected abstract string Query(int index);
    protected abstract void Handlers(HubConnection c, Terminal t);

    public async Task<Terminal> ConnectAsync(int index, int node, CancellationToken ct)
    {
        var url = new UriBuilder(o.Urls[node] + "/hubs/groups") { Query = Query(index) }.Uri;
        var conn = new HubConnectionBuilder()
            .WithUrl(url, h =>
            {
                h.SkipNegotiation = true;
                h.Transports = HttpTransportType.WebSockets;
            })
            .Build();
        conn.HandshakeTimeout = TimeSpan.FromSeconds(20);
        conn.ServerTimeout = TimeSpan.FromSeconds(60);
        var t = new Terminal(conn, index, node);
        Handlers(conn, t);
        try
        {
            await conn.StartAsync(ct);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        return t;
    }

    public abstract Task<string> CreateGroupAsync(Terminal owner, string name);
    public abstract Task JoinAsync(Terminal t, string group);
    public abstract Task SendAsync(Terminal t, string group, Msg m);
}

/// <summary>Realtime: user tokens for app demo, ChatRooms (FreeAccess), ApplyToJoin, SendMessage {groupId, payload}.</summary>
public sealed class RealtimeSystem(Options o) : SystemBase(o)
{
    private readonly JsonWebTokenHandler _tokens = new();
    private readonly SymmetricSecurityKey _key = new(Encoding.UTF8.GetBytes(o.Secret));
    private readonly string _run = $"x{DateTime.UtcNow:HHmmss}{Random.Shared.Next(1000):000}";

    public override string Name => "realtime";

    private string Token(string user) => _tokens.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Options.App,
        Claims = new Dictionary<string, object> { ["sub"] = user },
        Expires = DateTime.UtcNow.AddHours(2),
        SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
    });

    protected override string Query(int index) =>
        $"access_token={Uri.EscapeDataString(Token(index < 0 ? $"{_run}-s{-index}" : $"{_run}-u{index}"))}&device=sbs";

    protected override void Handlers(HubConnection c, Terminal t)
    {
        c.On<RtEvent>("GroupEvent", e =>
        {
            if (e.Type == "Message") t.OnMessage(e.Data?.Payload);
            else Pushes.Add();
        });
        c.On<Ignored>("SystemMessage", _ => Pushes.Add());
    }

    public override async Task<string> CreateGroupAsync(Terminal owner, string name)
    {
        var g = await owner.Connection.InvokeAsync<JsonElement>("CreateGroup",
            new { type = "ChatRoom", name, applyJoinOption = "FreeAccess", maxMembers = 10000 });
        return g.GetProperty("groupId").GetString()!;
    }

    public override async Task JoinAsync(Terminal t, string group)
    {
        var r = await t.Connection.InvokeAsync<JsonElement>("ApplyToJoin", new { groupId = group });
        var result = r.GetProperty("result").GetString();
        if (result != "Joined") throw new InvalidOperationException($"ApplyToJoin answered {r}");
    }

    public override Task SendAsync(Terminal t, string group, Msg m) =>
        t.Connection.SendCoreAsync("SendMessage", [new RtSend { GroupId = group, Payload = m }]);
}

/// <summary>Stock SignalR (bench/Realtime.Bench.Stock): Join(group), Send(group, payload) → GroupEvent(payload).</summary>
public sealed class StockSystem(Options o) : SystemBase(o)
{
    public override string Name => Options.System;
    protected override string Query(int index) => "";

    protected override void Handlers(HubConnection c, Terminal t) => c.On<Msg>("GroupEvent", t.OnMessage);

    public override Task<string> CreateGroupAsync(Terminal owner, string name) => Task.FromResult(name);

    public override Task JoinAsync(Terminal t, string group) => t.Connection.InvokeAsync("Join", group);

    public override Task SendAsync(Terminal t, string group, Msg m) => t.Connection.SendCoreAsync("Send", [group, m]);
}
