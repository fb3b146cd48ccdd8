extern alias ClientLib;

using ClientLib::Realtime.Client;

namespace Realtime.IntegrationTests.Client;

/// <summary>Everything a <see cref="RealtimeClient"/> hands its app, kept in order, with waits on it (bounded, woken by each item).</summary>
public sealed class ClientRecorder
{
    private readonly object _gate = new();
    private readonly List<IStreamItem> _items = [];
    private readonly List<SyncCompleted> _syncs = [];
    private readonly List<(Func<bool> Done, TaskCompletionSource Tcs)> _waiters = [];

    public ClientRecorder(RealtimeClient client)
    {
        client.Received += item => Changed(() => _items.Add(item));
        client.Synced += s => Changed(() => _syncs.Add(s));
    }

    public IReadOnlyList<IStreamItem> Items
    {
        get { lock (_gate) return _items.ToList(); }
    }

    public IReadOnlyList<SyncCompleted> Syncs
    {
        get { lock (_gate) return _syncs.ToList(); }
    }

    /// <summary>The seqs of one group's events, as delivered (duplicates and order kept, to be asserted on).</summary>
    public List<long> Seqs(string groupId) => Items.OfType<GroupEvent>().Where(e => e.GroupId == groupId).Select(e => e.Seq).ToList();

    public List<string> Texts(string groupId) =>
        Items.OfType<GroupEvent>().Where(e => e.GroupId == groupId && e.Kind == GroupEventKind.Message).Select(e => e.Message!.Text!).ToList();

    public Task WaitForAsync(Func<ClientRecorder, bool> done, string what, TimeSpan? timeout = null)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (done(this)) return Task.CompletedTask;
            _waiters.Add((() => done(this), tcs));
        }
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        return tcs.Task.WaitAsync(limit).ContinueWith(t =>
        {
            if (t.IsFaulted) throw new TimeoutException($"Timed out after {limit.TotalSeconds:0} s waiting until {what}; delivered: "
                + string.Join(" ", Items.Select(Describe)));
        }, TaskScheduler.Default);
    }

    public Task WaitForSeqAsync(string groupId, long seq) =>
        WaitForAsync(r => r.Seqs(groupId).Contains(seq), $"{groupId}#{seq} is delivered");

    public static string Describe(IStreamItem item) => item switch
    {
        GroupEvent e => $"{e.Type}#{e.Seq}",
        SystemMessage m => $"sys:{m.Type}#{m.Seq}",
        StreamTooOld t => $"tooOld({t.GroupId ?? "system"})",
        GroupRemoved r => $"removed({r.GroupId})",
        _ => item.ToString()!,
    };

    private void Changed(Action change)
    {
        lock (_gate)
        {
            change();
            foreach (var w in _waiters.Where(w => w.Done()).ToList())
            {
                _waiters.Remove(w);
                w.Tcs.TrySetResult();
            }
        }
    }
}
