using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Realtime.Server.Callbacks;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>An app back end on loopback: receives callbacks and pushes, checks signatures, answers as told.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<Received> _all = [];
    private readonly HashSet<Received> _taken = [];
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<Guid, int> _attempts = new();

    private WebhookReceiver(WebApplication app, string secret)
    {
        _app = app;
        Secret = secret;
    }

    public string Secret { get; }

    public Uri BaseUrl { get; private set; } = null!;

    public string CallbackUrl => new Uri(BaseUrl, "/callback").ToString();

    public string PushUrl => new Uri(BaseUrl, "/push").ToString();

    /// <summary>Answer to a before-callback, by command; default OK.</summary>
    public Func<JsonElement, object> BeforeAnswer { get; set; } = _ => new { ActionStatus = "OK", ErrorCode = 0 };

    /// <summary>Delay before answering a before-callback (to make it time out).</summary>
    public TimeSpan BeforeDelay { get; set; }

    /// <summary>How many attempts of each delivery id fail with 500 before one succeeds.</summary>
    public int FailFirstAttempts { get; set; }

    /// <summary>While set and not completed, after-callbacks and pushes are received but not answered.</summary>
    public TaskCompletionSource? HoldAnswers { get; set; }

    public IReadOnlyList<Received> All { get { lock (_all) return _all.ToList(); } }

    public static async Task<WebhookReceiver> StartAsync(string secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, secret);
        app.MapPost("/{kind}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return receiver;
    }

    /// <summary>
    /// The first matching request not handed out before, already received or arriving within the
    /// timeout. Requests that do not match stay available: deliveries arrive in any order.
    /// </summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            Task arrived;
            lock (_all)
            {
                var found = _all.FirstOrDefault(r => !_taken.Contains(r) && match(r));
                if (found is not null)
                {
                    _taken.Add(found);
                    return found;
                }
                arrived = _arrived.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(arrived, Task.Delay(left)) != arrived)
                throw new TimeoutException($"no matching webhook; received: {string.Join(", ", All.Select(r => r.Command ?? r.Kind))}");
        }
    }

    private async Task<IResult> HandleAsync(string kind, HttpRequest request)
    {
        var body = await new StreamReader(request.Body).ReadToEndAsync();
        var timestamp = request.Headers[WebhookSigner.TimestampHeader].ToString();
        var signature = request.Headers[WebhookSigner.SignatureHeader].ToString();
        var json = JsonDocument.Parse(body).RootElement.Clone();
        var deliveryId = Guid.Parse(request.Headers[WebhookSigner.DeliveryHeader].ToString());
        var attempt = _attempts.AddOrUpdate(deliveryId, 1, (_, n) => n + 1);
        var command = json.TryGetProperty("CallbackCommand", out var c) ? c.GetString() : null;
        var isBefore = command?.Contains(".CallbackBefore", StringComparison.Ordinal) == true;
        var fails = !isBefore && attempt <= FailFirstAttempts;

        var received = new Received(kind, command, deliveryId, attempt, json, WebhookSigner.Verify(Secret, timestamp, body, signature), !fails);
        lock (_all)
        {
            _all.Add(received);
            Interlocked.Exchange(ref _arrived, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        if (isBefore)
        {
            if (BeforeDelay > TimeSpan.Zero) await Task.Delay(BeforeDelay, request.HttpContext.RequestAborted).ContinueWith(_ => { });
            return Results.Json(BeforeAnswer(json));
        }
        if (HoldAnswers is { } hold) await hold.Task.WaitAsync(request.HttpContext.RequestAborted).ContinueWith(_ => { });
        return fails ? Results.StatusCode(500) : Results.Json(new { ActionStatus = "OK", ErrorCode = 0 });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Received(string Kind, string? Command, Guid DeliveryId, int Attempt, JsonElement Body, bool SignatureValid, bool Acknowledged);
}
