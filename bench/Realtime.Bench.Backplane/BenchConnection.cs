using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Realtime.Bench.Backplane;

/// <summary>The hub every node routes for.</summary>
public sealed class BenchHub : Hub;

/// <summary>
/// A SignalR connection over in-memory pipes, as the integration tests' TestClient, but lean: it does not
/// keep or parse what it gets beyond finding each record's first argument (the publish timestamp, a
/// <see cref="Stopwatch"/> tick count) and handing the delivery latency to the <see cref="Recorder"/>.
/// What the node does for it is what it does for a real socket: the manager serializes once per protocol
/// (JSON here) and HubConnectionContext writes the record into the connection's pipe and flushes it.
/// </summary>
public sealed class BenchConnection
{
    private const byte RecordSeparator = 0x1e;
    private readonly Pipe _toClient = new();
    private readonly Pipe _fromClient = new();
    private readonly Recorder _recorder;
    private readonly Task _reading;

    public BenchConnection(string userId, Recorder recorder)
    {
        _recorder = recorder;
        var transport = new DuplexPipe(_fromClient.Reader, _toClient.Writer);
        var application = new DuplexPipe(_toClient.Reader, _fromClient.Writer);
        var context = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), transport, application);
        var options = new HubConnectionContextOptions
        {
            KeepAliveInterval = TimeSpan.FromMinutes(10),
            ClientTimeoutInterval = TimeSpan.FromMinutes(10),
        };
        Connection = new HubConnectionContext(context, options, NullLoggerFactory.Instance)
        {
            Protocol = new JsonHubProtocol(),
            UserIdentifier = userId,
        };
        _reading = Task.Run(ReadAsync);
    }

    public HubConnectionContext Connection { get; }

    public string ConnectionId => Connection.ConnectionId;

    public async Task CloseAsync()
    {
        await _toClient.Writer.CompleteAsync();
        await _fromClient.Writer.CompleteAsync();
        await _reading.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private async Task ReadAsync()
    {
        var reader = _toClient.Reader;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            while (buffer.PositionOf(RecordSeparator) is { } end)
            {
                var record = buffer.Slice(0, end);
                if (record.IsSingleSegment)
                {
                    Parse(record.FirstSpan);
                }
                else
                {
                    Parse(record.ToArray());
                }

                buffer = buffer.Slice(buffer.GetPosition(1, end));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    // {"type":1,"target":"m","arguments":[<ticks>]}: the number after the first '['.
    private void Parse(ReadOnlySpan<byte> json)
    {
        var now = Stopwatch.GetTimestamp();
        var open = json.IndexOf((byte)'[');
        if (open < 0)
        {
            return;
        }

        long ticks = 0;
        var i = open + 1;
        for (; i < json.Length && json[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            ticks = ticks * 10 + (json[i] - '0');
        }

        if (i == open + 1)
        {
            return;
        }

        _recorder.Delivered(now - ticks);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>Deliveries and their latency (publish → parsed by the connection), per measured phase.</summary>
public sealed class Recorder
{
    private long _delivered;
    private Histogram _histogram = new();

    public long DeliveredCount => Interlocked.Read(ref _delivered);

    /// <summary>Starts a new latency histogram; returns the previous one.</summary>
    public Histogram Swap() => Interlocked.Exchange(ref _histogram, new Histogram());

    public void Delivered(long elapsedTicks)
    {
        Interlocked.Increment(ref _delivered);
        Volatile.Read(ref _histogram).Add(elapsedTicks);
    }
}

/// <summary>A log-bucketed latency histogram (buckets 4% wide, from 1 µs to about 5 minutes).</summary>
public sealed class Histogram
{
    private const double Ratio = 1.04;
    private static readonly double LogRatio = Math.Log(Ratio);
    private readonly long[] _buckets = new long[520];
    private long _count;
    private long _maxTicks;

    public long Count => Interlocked.Read(ref _count);

    public void Add(long ticks)
    {
        var us = Math.Max(1.0, ticks * 1_000_000.0 / Stopwatch.Frequency);
        var index = Math.Min(_buckets.Length - 1, (int)(Math.Log(us) / LogRatio));
        Interlocked.Increment(ref _buckets[index]);
        Interlocked.Increment(ref _count);
        long max;
        while (ticks > (max = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, ticks, max) != max)
        {
        }
    }

    /// <summary>The percentile in milliseconds (the upper bound of its bucket), NaN when empty.</summary>
    public double PercentileMs(double percentile)
    {
        var count = Count;
        if (count == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(count * percentile / 100.0);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= Math.Max(1, rank))
            {
                return Math.Min(Math.Pow(Ratio, i + 1), MaxMs * 1000) / 1000.0;
            }
        }

        return MaxMs;
    }

    public double MaxMs => Interlocked.Read(ref _maxTicks) * 1000.0 / Stopwatch.Frequency;
}
