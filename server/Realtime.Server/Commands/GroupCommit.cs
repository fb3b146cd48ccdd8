using System.Collections.Concurrent;
using System.Diagnostics;
using Realtime.Server.Operations;

namespace Realtime.Server.Commands;

/// <summary>
/// Group commit (DESIGN "Throughput on one group"): commands that append to the same group and
/// arrive while its previous transaction runs are applied together in the next one, in arrival
/// order, each answered on its own. An idle group runs each command at once. A terminal's
/// commands to a group keep the order it sent them in, even when it has many in flight.
/// </summary>
public sealed class GroupCommit
{
    /// <summary>Bounds a transaction's savepoints and the wait of the last command in it.</summary>
    internal const int MaxBatch = 64;

    private readonly ConcurrentDictionary<(string AppId, string GroupId), GroupQueue> _queues = new();
    private readonly CommandRunner _runner;
    private readonly RealtimeMetrics _metrics;
    private long _waiting;

    public GroupCommit(CommandRunner runner, RealtimeMetrics metrics)
    {
        _runner = runner;
        _metrics = metrics;
        metrics.ObserveGroupCommitWaiting(() => Waiting);
    }

    /// <summary>Commands queued (being prepared, or waiting for their group's running transaction).</summary>
    public long Waiting => Interlocked.Read(ref _waiting);

    /// <param name="lane">The sender whose order is kept (a connection id), or null.</param>
    /// <param name="checksBeforeWrites">Every refusal of the body comes before its first write (see Command.ChecksBeforeWrites): batched without a savepoint.</param>
    /// <remarks>Queues the command before its first await, so callers that start commands in
    /// order (a hub invoking a terminal's messages in parallel) queue them in that order.</remarks>
    public Task<T> RunAsync<T>(
        Actor actor, string groupId, string method, string? requestId, Func<CommandScope, Task<T>> body, CancellationToken ct,
        Func<CancellationToken, Task>? before = null, string? lane = null, bool checksBeforeWrites = false)
    {
        var command = new Command<T>(actor, method, requestId, body, checksBeforeWrites);
        var entry = new Entry(command, lane);
        var queue = Enqueue((actor.AppId, groupId), entry);
        _ = PrepareAsync(queue, entry, command, before, ct);
        return command.Answer;
    }

    private GroupQueue Enqueue((string, string) key, Entry entry)
    {
        while (true)
        {
            var queue = _queues.GetOrAdd(key, k => new GroupQueue(k));
            lock (queue)
            {
                if (queue.Retired) continue;
                queue.Entries.Add(entry);
                Interlocked.Increment(ref _waiting);
                return queue;
            }
        }
    }

    private async Task PrepareAsync<T>(GroupQueue queue, Entry entry, Command<T> command, Func<CancellationToken, Task>? before, CancellationToken ct)
    {
        try
        {
            if (await _runner.PrepareAsync(command, before, ct) is { } earlier)
            {
                Withdraw(queue, entry);
                command.AnswerStored(earlier);
            }
            else
            {
                lock (queue) entry.Ready = true;
            }
        }
        catch (Exception e)
        {
            Withdraw(queue, entry);
            command.Fail(e);
        }
        Drain(queue);
    }

    private void Withdraw(GroupQueue queue, Entry entry)
    {
        lock (queue)
        {
            queue.Entries.Remove(entry);
            Interlocked.Decrement(ref _waiting);
            RetireIfIdleLocked(queue);
        }
    }

    /// <summary>An idle group's queue goes; the next command makes a new one.</summary>
    private void RetireIfIdleLocked(GroupQueue queue)
    {
        if (queue.Running || queue.Entries.Count > 0) return;
        queue.Retired = true;
        _queues.TryRemove(new KeyValuePair<(string, string), GroupQueue>(queue.Key, queue));
    }

    /// <summary>Starts the group's next transaction unless one is running (that one takes the rest when it ends).</summary>
    private void Drain(GroupQueue queue)
    {
        List<Command> batch;
        Activity? parent;
        lock (queue)
        {
            if (queue.Running) return;
            batch = TakeLocked(queue, out parent);
            if (batch.Count == 0) return;
            queue.Running = true;
        }
        _ = RunLoopAsync(queue, batch, parent);
    }

    private async Task RunLoopAsync(GroupQueue queue, List<Command> batch, Activity? parent)
    {
        while (true)
        {
            // Traces: a transaction's statements and pushes belong to the first command of its batch (whose span
            // lasts until it is answered), not to whichever command started this loop, long answered by now.
            if (Activity.Current != parent) Activity.Current = parent;
            _metrics.CommandsPerTransaction.Record(batch.Count);
            try
            {
                // Committed: the next transaction may start while this one's pushes go out (they answer its commands).
                _ = await _runner.CommitBatchAsync(batch);
            }
            catch (Exception e)
            {
                // CommitBatchAsync answers every command itself; should it ever throw, the group's queue must not stall.
                foreach (var command in batch) command.Fail(e);
            }
            lock (queue)
            {
                batch = TakeLocked(queue, out parent);
                if (batch.Count > 0) continue;
                queue.Running = false;
                RetireIfIdleLocked(queue);
                return;
            }
        }
    }

    /// <summary>
    /// The ready commands in arrival order, up to <see cref="MaxBatch"/>. A command still being
    /// prepared holds back the later ones of its lane (and only those).
    /// </summary>
    private List<Command> TakeLocked(GroupQueue queue, out Activity? firstParent)
    {
        var taken = new List<Command>();
        firstParent = null;
        HashSet<string>? held = null;
        for (var i = 0; i < queue.Entries.Count && taken.Count < MaxBatch;)
        {
            var entry = queue.Entries[i];
            if (entry.Lane is { } lane && held?.Contains(lane) == true)
            {
                i++;
                continue;
            }
            if (!entry.Ready)
            {
                if (entry.Lane is not null) (held ??= new(StringComparer.Ordinal)).Add(entry.Lane);
                i++;
                continue;
            }
            if (taken.Count == 0) firstParent = entry.Parent;
            taken.Add(entry.Command);
            queue.Entries.RemoveAt(i);
            Interlocked.Decrement(ref _waiting);
        }
        return taken;
    }

    private sealed class GroupQueue((string, string) key)
    {
        public (string, string) Key { get; } = key;
        public List<Entry> Entries { get; } = [];
        public bool Running { get; set; }
        public bool Retired { get; set; }
    }

    private sealed class Entry(Command command, string? lane)
    {
        public Command Command { get; } = command;
        public string? Lane { get; } = lane;
        /// <summary>The caller's span (a hub invocation's), if traced.</summary>
        public Activity? Parent { get; } = Activity.Current;
        public bool Ready { get; set; }
    }
}
