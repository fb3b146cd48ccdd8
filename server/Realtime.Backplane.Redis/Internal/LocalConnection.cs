using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace Realtime.Backplane.Redis.Internal;

// A connection of this node with its own bounded outgoing queue. The node's shared paths (the
// ordered Redis inbox, a caller's send) only enqueue here and never wait for the client: a write
// whose flush waits for a full socket is awaited by this connection's drain, so a client that
// stops reading holds up nothing but its own queue. One writer at a time (an inline write by the
// enqueuer when the connection is idle, otherwise the drain) keeps the connection's messages in
// the order they were enqueued.
//
// Bound: the serialized bytes waiting behind the write in flight. Going over MaxQueuedBytes, or
// one write not completing within SlowConsumerTimeout, closes the connection once: its queue is
// dropped, later messages are dropped, the client reconnects and catches up with Sync. A queue
// holds references to SerializedHubMessage, which caches its bytes per protocol, so a message fanned
// out to many connections is serialized and held once.
internal sealed class LocalConnection
{
    private readonly LocalConnectionLimits _limits;
    private readonly Lock _gate = new();
    private readonly Queue<(SerializedHubMessage Message, int Size)> _queue = new();
    private long _queuedBytes;
    private bool _writing;
    private bool _closed;

    public LocalConnection(HubConnectionContext context, LocalConnectionLimits limits)
    {
        Context = context;
        _limits = limits;
    }

    public HubConnectionContext Context { get; }

    public string ConnectionId => Context.ConnectionId;

    /// <summary>Queues the message for this connection; never waits for the client.</summary>
    public void Send(SerializedHubMessage message)
    {
        // Serializes once per protocol (cached in the message) on the caller, as a direct write would.
        var size = message.GetSerializedMessage(Context.Protocol).Length;
        long overflow;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            if (!_writing)
            {
                _writing = true;
                overflow = -1;
            }
            else if (_queuedBytes + size <= _limits.MaxQueuedBytes)
            {
                _queue.Enqueue((message, size));
                _queuedBytes += size;
                BackplaneMetrics.AddQueuedBytes(size);
                return;
            }
            else
            {
                overflow = _queuedBytes + size;
                CloseLocked();
            }
        }

        if (overflow >= 0)
        {
            Log.OutgoingQueueFull(_limits.Logger, ConnectionId, overflow, _limits.MaxQueuedBytes);
            BackplaneMetrics.SlowConsumersClosed.Add(1, new KeyValuePair<string, object?>("reason", "queue_full"));
            Context.Abort();
            return;
        }

        // Idle: write right here, as before, while that does not wait; the drain takes over otherwise.
        var write = Write(message);
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            if (TryGoIdle())
            {
                return;
            }

            write = default;
        }

        _ = DrainAsync(write);
    }

    /// <summary>The connection is gone: drops what waits for it and everything sent later.</summary>
    public void Close()
    {
        lock (_gate)
        {
            CloseLocked();
        }
    }

    private async Task DrainAsync(ValueTask write)
    {
        // Started on the sender's thread: leave it before waiting or writing anything.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        while (true)
        {
            try
            {
                if (write.IsCompleted)
                {
                    await write.ConfigureAwait(false);
                }
                else
                {
                    await write.AsTask().WaitAsync(_limits.SlowConsumerTimeout).ConfigureAwait(false);
                }
            }
            catch (TimeoutException)
            {
                CloseSlow();
                return;
            }
            catch (Exception)
            {
                // HubConnectionContext logs a failed write and aborts the connection itself.
                Close();
                return;
            }

            SerializedHubMessage next;
            lock (_gate)
            {
                if (_closed)
                {
                    return;
                }

                if (!_queue.TryDequeue(out var item))
                {
                    _writing = false;
                    return;
                }

                _queuedBytes -= item.Size;
                BackplaneMetrics.AddQueuedBytes(-item.Size);
                next = item.Message;
            }

            write = Write(next);
        }
    }

    private ValueTask Write(SerializedHubMessage message)
    {
        try
        {
            return Context.WriteAsync(message);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    private bool TryGoIdle()
    {
        lock (_gate)
        {
            if (_queue.Count > 0 && !_closed)
            {
                return false;
            }

            _writing = false;
            return true;
        }
    }

    private void CloseSlow()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            CloseLocked();
        }

        Log.SlowConsumer(_limits.Logger, ConnectionId, _limits.SlowConsumerTimeout);
        BackplaneMetrics.SlowConsumersClosed.Add(1, new KeyValuePair<string, object?>("reason", "stalled"));
        // Also cancels the pending flush, so the write we gave up on completes.
        Context.Abort();
    }

    private void CloseLocked()
    {
        _closed = true;
        BackplaneMetrics.AddQueuedBytes(-_queuedBytes);
        _queuedBytes = 0;
        _queue.Clear();
    }
}

/// <summary>Bounds of every local connection's outgoing queue, and where closing one is logged.</summary>
internal sealed record LocalConnectionLimits(long MaxQueuedBytes, TimeSpan SlowConsumerTimeout, ILogger Logger);
