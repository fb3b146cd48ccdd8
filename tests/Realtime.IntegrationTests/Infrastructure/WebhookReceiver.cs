using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Realtime.Server.Callbacks;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>An app back end on loopback: receives callbacks and pushes, checks signatures, answers as told.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly Arrivals<Received> _received = new();
    private readonly ConcurrentDictionary<Guid, int> _attempts = new();
    private LoopbackServer _server = null!;

    private WebhookReceiver(string secret) => Secret = secret;

    public string Secret { get; }

    public Uri BaseUrl => _server.BaseUrl;

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

    public IReadOnlyList<Received> All => _received.All;

    public static async Task<WebhookReceiver> StartAsync(string secret)
    {
        var receiver = new WebhookReceiver(secret);
        receiver._server = await LoopbackServer.StartAsync(app => app.MapPost("/{kind}", receiver.HandleAsync));
        return receiver;
    }

    /// <summary>
    /// The first matching request not handed out before, already received or arriving within the
    /// timeout. Requests that do not match stay available: deliveries arrive in any order.
    /// </summary>
    public Task<Received> WaitForAsync(Func<Received, bool> match, TimeSpan? timeout = null) =>
        _received.TakeAsync(match, () => $"no matching webhook; received: {string.Join(", ", All.Select(r => r.Command ?? r.Kind))}", timeout);

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
        _received.Add(received);

        if (isBefore)
        {
            if (BeforeDelay > TimeSpan.Zero) await Task.Delay(BeforeDelay, request.HttpContext.RequestAborted).ContinueWith(_ => { });
            return Results.Json(BeforeAnswer(json));
        }
        if (HoldAnswers is { } hold) await hold.Task.WaitAsync(request.HttpContext.RequestAborted).ContinueWith(_ => { });
        return fails ? Results.StatusCode(500) : Results.Json(new { ActionStatus = "OK", ErrorCode = 0 });
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    public sealed record Received(string Kind, string? Command, Guid DeliveryId, int Attempt, JsonElement Body, bool SignatureValid, bool Acknowledged);
}
