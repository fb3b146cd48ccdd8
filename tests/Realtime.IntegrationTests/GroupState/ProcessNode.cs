using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.GroupState;

/// <summary>
/// A node in a process of its own (the server build beside the tests), so that a test can kill it
/// (SIGKILL): no shutdown code runs, its presence rows stay behind as after a crash.
/// </summary>
public sealed class ProcessNode : IAsyncDisposable
{
    private readonly Process _process;

    private ProcessNode(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public Uri HubUrl => new(BaseUrl, "/hubs/groups");

    public static async Task<ProcessNode> StartAsync(string connectionString, string nodeId, IDictionary<string, string> settings)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "Realtime.Server.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Postgres"] = connectionString,
            ["Realtime__NodeId"] = nodeId,
            [$"Realtime__Apps__{RealtimeNode.App}__Secret"] = RealtimeNode.AppSecret,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var c in new[] { "Messages", "Creates", "Writes", "Reads", "Rest" }) env[$"Realtime__Apps__{RealtimeNode.App}__RateLimits__{c}PerSecond"] = "0";
        env[$"Realtime__Apps__{RealtimeNode.App}__RateLimits__TerminalsPerUser"] = "0";
        foreach (var (k, v) in settings) env[k] = v;
        foreach (var (k, v) in env) info.Environment[k] = v;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new ProcessNode(process, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Expect.EventuallyAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"node {nodeId} exited with {process.ExitCode}");
            try
            {
                return (await http.GetAsync(new Uri(node.BaseUrl, "/healthz"))).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"node {nodeId} answers /healthz");
        return node;
    }

    /// <summary>SIGKILL: the node stops at once, without any of its shutdown code.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        using var timeout = new CancellationTokenSource(TestTerminal.DefaultTimeout);
        await _process.WaitForExitAsync(timeout.Token);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }
}
