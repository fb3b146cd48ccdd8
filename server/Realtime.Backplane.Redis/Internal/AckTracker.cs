using System.Collections.Concurrent;

namespace Realtime.Backplane.Redis.Internal;

// The asking node cannot know in advance how many nodes hold the target, but PUBLISH returns the
// number of subscribers that got the command. Acks may arrive before PUBLISH returns, so they are
// counted from registration on and compared once the expected number is known.
internal sealed class AckTracker
{
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private long _lastId;

    public long Register()
    {
        var id = Interlocked.Increment(ref _lastId);
        _pending[id] = new Pending();
        return id;
    }

    public void OnAck(long id)
    {
        if (_pending.TryGetValue(id, out var pending))
        {
            pending.AddAck();
        }
    }

    public Task WhenAcknowledged(long id, long expected) =>
        _pending.TryGetValue(id, out var pending) ? pending.Expect(expected) : Task.CompletedTask;

    public void Forget(long id) => _pending.TryRemove(id, out _);

    private sealed class Pending
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private long _received;
        private long _expected = -1;

        public void AddAck()
        {
            lock (_gate)
            {
                _received++;
                CompleteIfDone();
            }
        }

        public Task Expect(long expected)
        {
            lock (_gate)
            {
                _expected = expected;
                CompleteIfDone();
            }

            return _done.Task;
        }

        private void CompleteIfDone()
        {
            if (_expected >= 0 && _received >= _expected)
            {
                _done.TrySetResult();
            }
        }
    }
}
