using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Realtime.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>
/// A client that stops reading must cost only itself: the node's other connections, in its group
/// and in other groups, keep getting everything in order and on time, and it is closed once.
/// Serial: the test compares latencies of two runs, which other tests loading the two cores
/// between them would skew.
/// </summary>
[Collection(SerialCollection.Name)]
public abstract class SlowConsumerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int FloodMessages = 2000;
    private const int ChunkBytes = 4 * 1024;
    private const int BeatEvery = 10;

    // The healthy member reads along: the sender waits for it once this many messages are unread,
    // so it is never far behind, whatever the machine's load (the frozen one never reads).
    private const int ReadWindow = 64;

    // The acceptance bound is 2x the run without the frozen reader; a baseline of a few
    // milliseconds on a quiet machine would make that bound noise, hence a floor. With two busy
    // loops beside it on two cores the in-memory p99 reached ~55 ms in either run, while a node
    // stalled by the frozen reader delays the others by SlowConsumerTimeout (5 s), or forever.
    private static readonly TimeSpan LatencyFloor = TimeSpan.FromMilliseconds(100);

    private readonly List<TestNode> _nodes = [];

    static SlowConsumerTests()
    {
        // The test host parks two thread-pool threads in blocking waits for the whole run (VSTest's
        // message loop, xunit's assembly runner; seen with dotnet-stack). With two cores the pool
        // then has no spare thread and grows only by starvation injection, about one thread per
        // 0.5 s, which would stall the in-memory pipes below and measure the test host instead of
        // the node. A server has no such threads; give them back.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + 2), io);
    }

    /// <summary>Node A holds the clients, node B sends (the same node without Redis).</summary>
    protected abstract (TestNode A, TestNode B) CreateNodes(TimeSpan slowConsumerTimeout);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Distinct())
        {
            // Shown with a failure: a publish or subscribe that failed (e.g. Redis not yet connected) says why pushes went missing.
            foreach (var entry in node.Logs.Entries.Where(e => e.Level >= LogLevel.Warning))
            {
                output.WriteLine($"node log {entry.Level} {entry.EventId.Id}: {entry.Message}");
            }

            await node.DisposeAsync();
        }
    }

    private (TestNode A, TestNode B) Nodes(TimeSpan slowConsumerTimeout)
    {
        var (a, b) = CreateNodes(slowConsumerTimeout);
        _nodes.AddRange([a, b]);
        return (a, b);
    }

    private static string NewId(string kind) => $"{kind}-{Guid.NewGuid():N}";

    [Fact]
    public async Task SendGroupAsync_MemberStopsReading_ClosedOnceWhileOthersGetEverything()
    {
        var (a, b) = Nodes(slowConsumerTimeout: TimeSpan.FromMilliseconds(500));
        var group = NewId("g");
        var stalled = await a.ConnectAsync("stalled", reads: false);
        var healthy = await a.ConnectAsync("healthy");
        await a.Manager.AddToGroupAsync(stalled.ConnectionId, group).Within();
        await a.Manager.AddToGroupAsync(healthy.ConnectionId, group).Within();
        await WaitUntilDeliveringAsync(b, group, healthy);

        // Far more than the stalled client's pipe holds (64 KiB): its writes block after a few,
        // and 640 KiB stay under the queue bound, so the write timeout is what closes it.
        var chunk = new string('x', 16 * 1024);
        const int Messages = 40;
        for (var i = 0; i < Messages; i++) await b.Manager.SendGroupAsync(group, "Chunk", [i, chunk]).Within();

        for (var i = 0; i < Messages; i++)
            Assert.Equal(i.ToString(), (await healthy.NextAsync("Chunk")).Arg(0));
        await WhenAborted(stalled).Within();

        // More than the queue bound after it was closed: dropped, not a second close. The healthy
        // client reads along, or a burst over the bound would close it too (in memory, sends are instant).
        for (var i = Messages; i < 3 * Messages; i++)
        {
            await b.Manager.SendGroupAsync(group, "Chunk", [i, chunk]).Within();
            Assert.Equal(i.ToString(), (await healthy.NextAsync("Chunk")).Arg(0));
        }

        Assert.Equal(1, stalled.AbortCalls);
        Assert.Single(ClosingLogs(a, stalled));
    }

    // As on a server: no SynchronizationContext between the node and its connections.
    [Fact]
    public Task SendGroupAsync_MemberStopsReadingDuringFlood_OthersOnItsNodeKeepOrderAndLatencyAndItIsClosedOnce() => Task.Run(async () =>
    {
        // SlowConsumerTimeout as deployed: only the queue bound may close the frozen reader in time.
        var (a, b) = Nodes(slowConsumerTimeout: TimeSpan.FromSeconds(5));
        var (flooded, other) = (NewId("g"), NewId("g"));
        var member = await a.ConnectAsync(NewId("u"));
        var outsider = await a.ConnectAsync(NewId("u"));
        await a.Manager.AddToGroupAsync(member.ConnectionId, flooded).Within();
        await a.Manager.AddToGroupAsync(outsider.ConnectionId, other).Within();

        await WaitUntilDeliveringAsync(b, flooded, member);
        await WaitUntilDeliveringAsync(b, other, outsider);

        // Warm-up, not measured: JIT tiers, buffer pools, threads.
        await FloodAsync(b, run: 0, FloodMessages / 2, flooded, other, member, outsider);
        var baseline = await FloodAsync(b, run: 1, FloodMessages, flooded, other, member, outsider);

        var frozen = await a.ConnectAsync(NewId("u"), reads: false);
        await a.Manager.AddToGroupAsync(frozen.ConnectionId, flooded).Within();
        var withFrozen = await FloodAsync(b, run: 2, FloodMessages, flooded, other, member, outsider);

        var bound = TimeSpan.FromTicks(Math.Max(2 * baseline.Ticks, LatencyFloor.Ticks));
        output.WriteLine($"{GetType().Name}: p99 delivery to the other terminals: baseline {baseline.TotalMilliseconds:F2} ms, " +
            $"with a frozen reader {withFrozen.TotalMilliseconds:F2} ms, bound {bound.TotalMilliseconds:F2} ms");

        await WhenAborted(frozen).Within();
        Assert.Equal(1, frozen.AbortCalls);
        output.WriteLine(Assert.Single(ClosingLogs(a, frozen)).Message);
        Assert.True(withFrozen <= bound,
            $"p99 with a frozen reader {withFrozen.TotalMilliseconds:F2} ms exceeds {bound.TotalMilliseconds:F2} ms " +
            $"(baseline {baseline.TotalMilliseconds:F2} ms)");
    });

    /// <summary>
    /// Sends <paramref name="count"/> 4 KiB messages to <paramref name="flooded"/> and a small one
    /// to <paramref name="other"/> after every tenth; checks both receivers get all of them in
    /// order; returns the p99 of send-to-parse latency over both receivers.
    /// </summary>
    private static async Task<TimeSpan> FloodAsync(TestNode sender, int run, int count, string flooded, string other, TestClient member, TestClient outsider)
    {
        var chunk = new string('x', ChunkBytes);
        var latencies = new List<TimeSpan>(count + count / BeatEvery + 1);
        var read = 0;

        async Task ReadChunkAsync()
        {
            var received = await member.NextAsync("Chunk");
            Assert.Equal(run.ToString(), received.Arg(0));
            Assert.Equal(read.ToString(), received.Arg(1));
            latencies.Add(Stopwatch.GetElapsedTime(received.Arguments[2].GetInt64(), received.ReceivedAt));
            read++;
        }

        var beats = 0;
        for (var i = 0; i < count; i++)
        {
            await sender.Manager.SendGroupAsync(flooded, "Chunk", [run, i, Stopwatch.GetTimestamp(), chunk]).Within();
            if (i % BeatEvery == 0)
            {
                await sender.Manager.SendGroupAsync(other, "Beat", [run, beats++, Stopwatch.GetTimestamp()]).Within();
            }

            if (i + 1 - read >= ReadWindow)
            {
                await ReadChunkAsync();
            }
        }

        while (read < count)
        {
            await ReadChunkAsync();
        }

        for (var beat = 0; beat < beats; beat++)
        {
            var received = await outsider.NextAsync("Beat");
            Assert.Equal(run.ToString(), received.Arg(0));
            Assert.Equal(beat.ToString(), received.Arg(1));
            latencies.Add(Stopwatch.GetElapsedTime(received.Arguments[2].GetInt64(), received.ReceivedAt));
        }

        // Ordered after the flood on the node's path: once both have it, the node handled all of it.
        await sender.Manager.SendConnectionsAsync([member.ConnectionId, outsider.ConnectionId], "Marker", [run]).Within();
        await member.NextAsync("Marker");
        await outsider.NextAsync("Marker");

        latencies.Sort();
        return latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
    }

    /// <summary>
    /// Node B has no client of its own, so nothing made it wait for its Redis connection, and a
    /// live push sent before that connection is up is dropped (pushes are best effort; clients
    /// recover with Sync). A flood from a node still connecting lost its first messages once on a
    /// loaded machine: probe until a group send from B arrives, then drain the probes.
    /// </summary>
    private static async Task WaitUntilDeliveringAsync(TestNode sender, string group, TestClient receiver)
    {
        var waited = Stopwatch.StartNew();
        for (var probe = 0; ; probe++)
        {
            await sender.Manager.SendGroupAsync(group, "Probe", [probe]).Within();
            try
            {
                await receiver.NextAsync("Probe", TimeSpan.FromMilliseconds(250));
                break;
            }
            catch (TimeoutException) when (waited.Elapsed < TestTimeouts.Message)
            {
                // Not delivering yet: probe again.
            }
        }

        // Probes still on their way come before this one on the connection's ordered path.
        await sender.Manager.SendGroupAsync(group, "ProbesDone", []).Within();
        while ((await receiver.NextAsync()).Target != "ProbesDone")
        {
        }
    }

    private static IEnumerable<LogEntry> ClosingLogs(TestNode node, TestClient client) =>
        node.Logs.Entries.Where(e =>
            e.Level == LogLevel.Warning && e.Values.TryGetValue("ConnectionId", out var id) && Equals(id, client.ConnectionId));

    private static Task WhenAborted(TestClient client) =>
        Task.Delay(Timeout.Infinite, client.Connection.ConnectionAborted).ContinueWith(_ => { }, TaskScheduler.Default);
}

/// <summary>Two Redis-backed nodes: the frozen reader's node handles Redis messages in one ordered inbox.</summary>
public sealed class RedisSlowConsumerTests(ITestOutputHelper output) : SlowConsumerTests(output)
{
    private readonly string _prefix = "slow-" + Guid.NewGuid().ToString("N")[..8];

    protected override (TestNode A, TestNode B) CreateNodes(TimeSpan slowConsumerTimeout) =>
        (TestNode.WithRedis(TestRedis.Configuration, _prefix, slowConsumerTimeout: slowConsumerTimeout),
         TestNode.WithRedis(TestRedis.Configuration, _prefix, slowConsumerTimeout: slowConsumerTimeout));
}

/// <summary>One node without Redis: a group send reaches every member from the sender's call.</summary>
public sealed class InMemorySlowConsumerTests(ITestOutputHelper output) : SlowConsumerTests(output)
{
    protected override (TestNode A, TestNode B) CreateNodes(TimeSpan slowConsumerTimeout)
    {
        var node = TestNode.InMemory(slowConsumerTimeout);
        return (node, node);
    }
}
