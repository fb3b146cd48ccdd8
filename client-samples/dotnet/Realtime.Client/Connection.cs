using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Realtime.Client;

/// <summary>
/// Exponential backoff with jitter, so the clients of a stopped node do not all come back in the
/// same millisecond: each delay is drawn from [d/2, d] where d doubles from the base up to the cap.
/// Gives up after <paramref name="giveUpAfter"/>; the client then starts over (see RealtimeClient).
/// </summary>
public sealed class JitteredRetryPolicy(TimeSpan baseDelay, TimeSpan maxDelay, TimeSpan giveUpAfter) : IRetryPolicy
{
    public TimeSpan Delay(long attempt)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
        retryContext.ElapsedTime > giveUpAfter ? null : Delay(retryContext.PreviousRetryCount);
}

/// <summary>
/// SignalR binds a connection to one URL; this factory picks the node on every (re)connect instead:
/// the current one, moving on to the next after a failed connect or a dropped connection.
/// </summary>
internal sealed class FailoverConnectionFactory : IConnectionFactory
{
    private readonly IReadOnlyList<Uri> _urls;
    private readonly HttpConnectionFactory _http;
    private int _index;

    public FailoverConnectionFactory(IReadOnlyList<Uri> hubUrls, string device, Func<Task<string?>>? token, ILoggerFactory? loggers)
    {
        _urls = hubUrls.Select(u => new UriBuilder(u) { Query = AddDevice(u.Query, device) }.Uri).ToList();
        var options = new HttpConnectionOptions
        {
            // No negotiate round trip: any node serves any client, no sticky sessions needed.
            SkipNegotiation = true,
            Transports = HttpTransportType.WebSockets,
            // Off the browser the .NET client sends it as an "Authorization: Bearer" header.
            AccessTokenProvider = token,
        };
        _http = new HttpConnectionFactory(Options.Create(options), loggers ?? NullLoggerFactory.Instance);
    }

    public Uri Current => _urls[Volatile.Read(ref _index) % _urls.Count];

    public void MoveNext() => Interlocked.Increment(ref _index);

    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var url = Current;
        try
        {
            return await _http.ConnectAsync(new UriEndPoint(url), cancellationToken);
        }
        catch
        {
            MoveNext();
            throw;
        }
    }

    private static string AddDevice(string query, string device)
    {
        var pair = "device=" + Uri.EscapeDataString(device);
        return query.Length > 1 ? query[1..] + "&" + pair : pair;
    }
}
