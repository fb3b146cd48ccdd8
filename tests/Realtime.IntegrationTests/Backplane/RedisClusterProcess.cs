using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Realtime.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>
/// A private Redis Cluster for one test that fails it over: three masters and a replica each, on
/// loopback ports below the ephemeral range (client and cluster-bus ports both), files in a temp dir.
/// </summary>
public sealed class RedisClusterProcess : IAsyncDisposable
{
    private readonly List<Node> _nodes = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("realtime-cluster-").FullName;

    private RedisClusterProcess()
    {
    }

    /// <summary>The masters the cluster started with (a client discovers the rest).</summary>
    public string Configuration => string.Join(",", _nodes.Take(3).Select(n => $"127.0.0.1:{n.Port}"));

    public static async Task<RedisClusterProcess> StartAsync()
    {
        var cluster = new RedisClusterProcess();
        try
        {
            var ports = FreePorts(12);
            for (var i = 0; i < 6; i++)
            {
                cluster._nodes.Add(await Node.StartAsync(ports[i], ports[i + 6], Path.Combine(cluster._dir, $"n{i}")));
            }

            var create = new ProcessStartInfo(RedisCli)
            {
                ArgumentList = { "--cluster", "create" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var node in cluster._nodes) create.ArgumentList.Add($"127.0.0.1:{node.Port}");
            foreach (var arg in new[] { "--cluster-replicas", "1", "--cluster-yes" }) create.ArgumentList.Add(arg);
            using (var process = Process.Start(create)!)
            {
                var output = process.StandardOutput.ReadToEndAsync();
                await process.WaitForExitAsync().WaitAsync(TestTimeouts.Message);
                if (process.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed: {await output}");
            }

            await cluster.WaitUntilSettledAsync(masters: 3);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The port of the master that serves the slot of this key or sharded channel name.</summary>
    public async Task<int> MasterOfAsync(string name)
    {
        var slot = long.Parse((await ExecuteAsync(AnyAlive(), "CLUSTER", "KEYSLOT", name)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        foreach (var line in await NodesAsync())
        {
            if (line.Role == "master" && line.Slots.Any(range => range.From <= slot && slot <= range.To)) return line.Port;
        }

        throw new InvalidOperationException($"no master serves slot {slot}");
    }

    /// <summary>CLUSTER FAILOVER on the master's replica: a planned handover, no write lost.</summary>
    public async Task FailoverAsync(int masterPort)
    {
        var replica = await ReplicaOfAsync(masterPort);
        await ExecuteAsync(replica, "CLUSTER", "FAILOVER");
        await WaitUntilAsync(async () => (await NodesAsync()).Any(n => n.Port == replica && n.Role == "master"), "the replica to take over");
        await WaitUntilSettledAsync(masters: 3);
    }

    /// <summary>Kills the master (SIGKILL): its replica is promoted once the others agree it is gone.</summary>
    public async Task KillAsync(int masterPort)
    {
        var replica = await ReplicaOfAsync(masterPort);
        var node = _nodes.Single(n => n.Port == masterPort);
        await node.StopAsync();
        await WaitUntilAsync(async () => (await NodesAsync()).Any(n => n.Port == replica && n.Role == "master"), "the replica of the killed master to take over");
        await WaitUntilSettledAsync(masters: 3);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.StopAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process: the temp dir is cleaned up by the system.
        }
    }

    private static string RedisCli =>
        Path.Combine(Path.GetDirectoryName(TestEnvironmentBinary()) ?? "", "redis-cli") is var cli && File.Exists(cli) ? cli : "redis-cli";

    private static string TestEnvironmentBinary() =>
        Environment.GetEnvironmentVariable("REALTIME_REDIS_SERVER_BIN") is { Length: > 0 } bin ? bin : "redis-server";

    private int AnyAlive() => _nodes.First(n => n.Alive).Port;

    private async Task<int> ReplicaOfAsync(int masterPort)
    {
        var nodes = await NodesAsync();
        var master = nodes.Single(n => n.Port == masterPort);
        return nodes.Single(n => n.Role == "slave" && n.MasterId == master.Id).Port;
    }

    // Every live node reports cluster_state:ok and sees the expected masters, all slots served; every
    // live replica has synced with its master (a replica that never did refuses to take over: its
    // data would be too old).
    private Task WaitUntilSettledAsync(int masters) => WaitUntilAsync(async () =>
    {
        foreach (var node in _nodes.Where(n => n.Alive))
        {
            var info = await ExecuteAsync(node.Port, "CLUSTER", "INFO");
            if (!info.Contains("cluster_state:ok", StringComparison.Ordinal)) return false;
            var lines = await NodesAsync(node.Port);
            if (lines.Count(l => l.Role == "master" && l.Connected && l.Slots.Count > 0) != masters) return false;
            var replication = await ExecuteAsync(node.Port, "INFO", "replication");
            if (replication.Contains("role:slave", StringComparison.Ordinal) && !replication.Contains("master_link_status:up", StringComparison.Ordinal)) return false;
        }

        return true;
    }, "the cluster to settle");

    // Cluster state has no notification to wait on: the project's one bounded poll, a node that is
    // going away or not answering yet counting as "not yet".
    private async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        try
        {
            await Expect.EventuallyAsync(async () =>
            {
                try
                {
                    return await condition();
                }
                catch (RedisException)
                {
                    return false;
                }
            }, what, TestTimeouts.Recovery);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} CLUSTER NODES:\n{await ExecuteAsync(AnyAlive(), "CLUSTER", "NODES")}", e);
        }
    }

    private Task<NodeLine[]> NodesAsync() => NodesAsync(AnyAlive());

    private static async Task<NodeLine[]> NodesAsync(int port)
    {
        var text = await ExecuteAsync(port, "CLUSTER", "NODES");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(NodeLine.Parse).ToArray();
    }

    // redis-cli against exactly that node: a client library would discover the whole cluster and
    // trip over the node that was just killed.
    private static async Task<string> ExecuteAsync(int port, params string[] args)
    {
        var start = new ProcessStartInfo(RedisCli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(args))
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TestTimeouts.Message);
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Message);
        return process.ExitCode == 0 && !output.StartsWith("ERR", StringComparison.Ordinal) && !output.StartsWith("Could not connect", StringComparison.Ordinal)
            ? output
            : throw new RedisException($"redis-cli -p {port} {string.Join(' ', args)}: {output}");
    }

    private static int[] FreePorts(int count)
    {
        var ports = new HashSet<int>();
        for (var attempt = 0; ports.Count < count && attempt < 2000; attempt++)
        {
            var port = Random.Shared.Next(20000, 30000);
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                ports.Add(port);
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        return ports.Count == count ? [.. ports] : throw new InvalidOperationException("not enough free loopback ports in 20000-29999");
    }

    private sealed record SlotRange(long From, long To);

    // One line of CLUSTER NODES: <id> <ip:port@bus> <flags> <master-id> <ping> <pong> <epoch> <link> <slots...>
    private sealed record NodeLine(string Id, int Port, string Role, string MasterId, bool Connected, IReadOnlyList<SlotRange> Slots)
    {
        public static NodeLine Parse(string line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var address = parts[1].Split('@')[0];
            var port = int.Parse(address[(address.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            var flags = parts[2].Split(',');
            var role = flags.Contains("fail") || flags.Contains("fail?") ? "failed" : flags.Contains("master") ? "master" : "slave";
            var slots = parts.Skip(8).Where(p => !p.StartsWith('[')).Select(p =>
            {
                var range = p.Split('-');
                var from = long.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
                return new SlotRange(from, range.Length > 1 ? long.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : from);
            }).ToList();
            return new NodeLine(parts[0], port, role, parts[3], parts[7] == "connected", slots);
        }
    }

    private sealed class Node
    {
        private Process? _process;

        private Node(int port) => Port = port;

        public int Port { get; }

        public bool Alive => _process is { HasExited: false };

        public static async Task<Node> StartAsync(int port, int busPort, string dir)
        {
            Directory.CreateDirectory(dir);
            var node = new Node(port);
            var start = new ProcessStartInfo(TestEnvironmentBinary())
            {
                ArgumentList =
                {
                    "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--cluster-port", busPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
                    "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(dir, "nodes.conf"),
                    "--cluster-node-timeout", "2000",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                output.Enqueue(e.Data);
                if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal)) ready.TrySetResult();
            };
            process.ErrorDataReceived += (_, _) => { };
            process.Exited += (_, _) => ready.TrySetException(
                new InvalidOperationException($"cluster node on port {port} exited during start: {string.Join('\n', output.TakeLast(20))}"));
            if (!process.Start()) throw new InvalidOperationException("could not start redis-server");
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            node._process = process;
            await ready.Task.WaitAsync(TestTimeouts.Message);
            return node;
        }

        public async Task StopAsync()
        {
            if (_process is not { } process) return;
            _process = null;
            if (!process.HasExited) process.Kill();
            await process.WaitForExitAsync().WaitAsync(TestTimeouts.Message);
            process.Dispose();
        }
    }
}
