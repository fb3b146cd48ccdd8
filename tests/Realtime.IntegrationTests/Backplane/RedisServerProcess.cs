using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Realtime.IntegrationTests.Backplane;

/// <summary>A private redis-server on a loopback port that a test may stop and start again.</summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private Process? _process;

    public RedisServerProcess()
    {
        Port = FreeLoopbackPort();
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        var binary = Environment.GetEnvironmentVariable("REALTIME_REDIS_SERVER_BIN") is { Length: > 0 } bin ? bin : "redis-server";
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"redis-server on port {Port} exited during start."));
        process.ErrorDataReceived += (_, _) => { };
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {binary}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(TestTimeouts.Message);
    }

    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Message);
        process.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>
    /// A free port below the ephemeral range (32768+ here): while this Redis is stopped for a
    /// restart, a port of that range could be handed to a test node, an outgoing connection, or
    /// the reconnecting client itself, and the restart would then find it taken.
    /// </summary>
    private static int FreeLoopbackPort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(20000, 30000);
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new InvalidOperationException("no free loopback port in 20000-29999");
    }
}
