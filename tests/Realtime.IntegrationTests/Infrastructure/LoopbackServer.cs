using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>A small HTTP server on a free loopback port, standing in for a party a node calls (an app back end, a push service, a collector).</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri baseUrl) => (_app, BaseUrl) = (app, baseUrl);

    public Uri BaseUrl { get; }

    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new LoopbackServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What a loopback server received, in arrival order, with waits that wake on each arrival (no polling).</summary>
public sealed class Arrivals<T> where T : class
{
    private readonly List<T> _all = [];
    private readonly HashSet<T> _taken = [];
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<T> All { get { lock (_all) return _all.ToList(); } }

    public void Add(IEnumerable<T> items)
    {
        lock (_all)
        {
            _all.AddRange(items);
            Interlocked.Exchange(ref _arrived, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    public void Add(T item) => Add([item]);

    /// <summary>
    /// The first matching item not handed out before, already received or arriving within the timeout. Items that
    /// do not match stay available: deliveries arrive in any order.
    /// </summary>
    public async Task<T> TakeAsync(Func<T, bool> match, Func<string> describe, TimeSpan? timeout = null)
    {
        T? found = null;
        await UntilAsync(all =>
        {
            found = all.FirstOrDefault(r => !_taken.Contains(r) && match(r));
            if (found is not null) _taken.Add(found);
            return found is not null;
        }, describe, timeout);
        return found!;
    }

    /// <summary>Waits until everything received satisfies <paramref name="done"/> and answers it, or throws <see cref="TimeoutException"/> with <paramref name="describe"/>.</summary>
    public async Task<IReadOnlyList<T>> UntilAsync(Func<IReadOnlyList<T>, bool> done, Func<string> describe, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            Task arrived;
            lock (_all)
            {
                if (done(_all)) return _all.ToList();
                arrived = _arrived.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(arrived, Task.Delay(left)) != arrived)
                throw new TimeoutException(describe());
        }
    }
}
