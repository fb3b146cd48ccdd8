using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>What every scenario needs: tokens, connections spread over the nodes, a run id and logging.</summary>
public sealed class Bench(Options options)
{
    private readonly JsonWebTokenHandler _tokens = new();
    private readonly SymmetricSecurityKey _key = new(Encoding.UTF8.GetBytes(options.Secret));

    public Options Options => options;

    /// <summary>Prefix of this run's user ids, so runs against the same database never share users.</summary>
    public string RunId { get; } = $"b{DateTime.UtcNow:HHmmss}{Random.Shared.Next(1000):000}";

    public string Token(string user) => _tokens.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = options.App,
        Claims = new Dictionary<string, object> { ["sub"] = user },
        Expires = DateTime.UtcNow.AddHours(2),
        SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
    });

    /// <summary>Connects user i to node i mod nodes.</summary>
    public Task<TestTerminal> ConnectAsync(string user, int i) =>
        TestTerminal.ConnectAsync(options.Urls[i % options.Urls.Length], Token(user), device: "bench", messagePack: options.Protocol == "messagepack");

    /// <summary>Connects users[i] to node i mod nodes, 32 at a time.</summary>
    public async Task<TestTerminal[]> ConnectAllAsync(IReadOnlyList<string> users)
    {
        var clients = new TestTerminal[users.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, users.Count), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (i, _) => clients[i] = await ConnectAsync(users[i], i));
        return clients;
    }

    public static async Task CloseAllAsync(IEnumerable<TestTerminal> clients) =>
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (c, _) => await c.DisposeAsync());

    public static void Log(string message) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {message}");

    public static double Ms(long fromTimestamp, long toTimestamp) => (toTimestamp - fromTimestamp) * 1000.0 / Stopwatch.Frequency;

    /// <summary>The error code of a failed invocation: "[GroupFull] ..." → GroupFull.</summary>
    public static string ErrorCode(Exception ex) => ex switch
    {
        HubErrorException hub when hub.HubMessage.StartsWith('[') && hub.HubMessage.IndexOf(']') is var end and > 0 => hub.HubMessage[1..end],
        HubErrorException => "HubError",
        TimeoutException => "Timeout",
        _ => ex.GetType().Name,
    };

    /// <summary>How many seqs are not greater than the one before them (duplicates or out of order).</summary>
    public static int Backwards(IReadOnlyList<long> seqs) => Enumerable.Range(1, Math.Max(0, seqs.Count - 1)).Count(i => seqs[i] <= seqs[i - 1]);

    public static string Str(JsonElement e, string name) => e.GetProperty(name).GetString()!;
    public static long Long(JsonElement e, string name) => e.GetProperty(name).GetInt64();
}

/// <summary>A thread-safe set of latencies in milliseconds with nearest-rank percentiles.</summary>
public sealed class Latencies
{
    private readonly List<double> _ms = [];
    private double[]? _sorted;

    public void Add(double ms) { lock (_ms) { _ms.Add(ms); _sorted = null; } }

    public int Count { get { lock (_ms) return _ms.Count; } }

    public double Percentile(double p)
    {
        lock (_ms)
        {
            if (_ms.Count == 0) return double.NaN;
            _sorted ??= [.. _ms.Order()];
            return _sorted[Math.Clamp((int)Math.Ceiling(p / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];
        }
    }

    /// <summary>"p50 | p95 | p99 | max" as Markdown table cells.</summary>
    public string Cells => $"{Percentile(50):0.0} | {Percentile(95):0.0} | {Percentile(99):0.0} | {Percentile(100):0.0}";
}
