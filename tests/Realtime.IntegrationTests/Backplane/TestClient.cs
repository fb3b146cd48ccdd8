using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>One invocation a test client received; <paramref name="ReceivedAt"/> is the <see cref="Stopwatch"/> timestamp at which it was parsed.</summary>
public sealed record Received(string Target, JsonElement[] Arguments, long ReceivedAt)
{
    public string Arg(int index) => Arguments[index].ToString();
}

/// <summary>A SignalR connection over in-memory pipes that parses what the server writes (JSON protocol).</summary>
public sealed class TestClient : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;

    private readonly Pipe _toClient = new();
    private readonly Pipe _fromClient = new();
    private readonly Channel<Received> _received = Channel.CreateUnbounded<Received>();
    private readonly Task _reading;

    /// <param name="reads">False for a client that never reads: the server's writes to it stall once its pipe is full.</param>
    public TestClient(string? userId, bool reads = true)
    {
        var transport = new DuplexPipe(_fromClient.Reader, _toClient.Writer);
        var application = new DuplexPipe(_toClient.Reader, _fromClient.Writer);
        var context = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), transport, application);
        var options = new HubConnectionContextOptions
        {
            KeepAliveInterval = TimeSpan.FromMinutes(5),
            ClientTimeoutInterval = TimeSpan.FromMinutes(5),
        };
        Connection = new CountingConnectionContext(context, options)
        {
            Protocol = new JsonHubProtocol(),
            UserIdentifier = userId,
        };
        _reading = reads ? Task.Run(ReadAsync) : Task.CompletedTask;
    }

    public HubConnectionContext Connection { get; }

    public string ConnectionId => Connection.ConnectionId;

    /// <summary>How many times the server called <see cref="HubConnectionContext.Abort"/> on this connection.</summary>
    public int AbortCalls => ((CountingConnectionContext)Connection).AbortCalls;

    public async Task<Received> NextAsync(TimeSpan? timeout = null)
    {
        // Wait-then-TryRead: a timed-out ReadAsync would stay queued and swallow the next message.
        var limit = timeout ?? TestTimeouts.Message;
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            while (await _received.Reader.WaitToReadAsync(cancel.Token))
            {
                if (_received.Reader.TryRead(out var received))
                {
                    return received;
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"Connection {ConnectionId} received nothing within {limit}.");
        }

        throw new InvalidOperationException($"Connection {ConnectionId} was closed.");
    }

    public async Task<Received> NextAsync(string expectedTarget, TimeSpan? timeout = null)
    {
        var received = await NextAsync(timeout);
        Assert.Equal(expectedTarget, received.Target);
        return received;
    }

    public async ValueTask DisposeAsync()
    {
        await _toClient.Writer.CompleteAsync();
        await _fromClient.Writer.CompleteAsync();
        await _reading.WaitAsync(TestTimeouts.Message);
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
                Parse(buffer.Slice(0, end).ToArray());
                buffer = buffer.Slice(buffer.GetPosition(1, end));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                _received.Writer.TryComplete();
                return;
            }
        }
    }

    private void Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.GetProperty("type").GetInt32() != HubProtocolConstants.InvocationMessageType)
        {
            return;
        }

        var arguments = root.TryGetProperty("arguments", out var args)
            ? args.EnumerateArray().Select(a => a.Clone()).ToArray()
            : [];
        _received.Writer.TryWrite(new Received(root.GetProperty("target").GetString()!, arguments, Stopwatch.GetTimestamp()));
    }

    private sealed class CountingConnectionContext(ConnectionContext context, HubConnectionContextOptions options)
        : HubConnectionContext(context, options, NullLoggerFactory.Instance)
    {
        private int _abortCalls;

        public int AbortCalls => Volatile.Read(ref _abortCalls);

        public override void Abort()
        {
            Interlocked.Increment(ref _abortCalls);
            base.Abort();
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
