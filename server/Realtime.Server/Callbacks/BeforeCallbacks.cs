using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Server.Apps;
using Realtime.Server.Errors;

namespace Realtime.Server.Callbacks;

/// <summary>
/// Asks the app's back end whether a command may go on (SPEC §7). Runs before the command's
/// transaction opens: a remote call never holds row locks.
/// </summary>
public sealed partial class BeforeCallbacks(IHttpClientFactory http, AppRegistry apps, TimeProvider clock, ILogger<BeforeCallbacks> logger)
{
    public const string HttpClientName = "callbacks";

    /// <summary>Callback bodies: field names as given (Tencent's), enums by name as in pushes.</summary>
    public static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    public async Task CheckAsync(string appId, string command, Dictionary<string, object?> payload, CancellationToken ct)
    {
        var app = apps.Get(appId);
        if (string.IsNullOrEmpty(app.CallbackUrl)) return;

        var deliveryId = Guid.CreateVersion7();
        var body = JsonSerializer.Serialize(Envelope(appId, command, deliveryId, clock.GetUtcNow(), payload), Json);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(app.CallbackTimeout);
        CallbackAnswer? answer;
        try
        {
            using var request = WebhookSigner.Request(app.CallbackUrl, app.Secret, body, deliveryId, clock.GetUtcNow());
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            response.EnsureSuccessStatusCode();
            answer = await response.Content.ReadFromJsonAsync<CallbackAnswer>(timeout.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogUnavailable(e, command, appId, app.CallbackFailClosed);
            if (app.CallbackFailClosed)
                throw new RealtimeException(ErrorCode.CallbackRejected, "the app's callback did not answer; the command was not run");
            return;
        }
        if (answer is not { ErrorCode: 0 })
            throw new RealtimeException(ErrorCode.CallbackRejected,
                $"the app rejected the command{(answer?.ErrorInfo is { Length: > 0 } info ? ": " + info : "")}");
    }

    /// <summary>The common fields of every callback body, then the command's own.</summary>
    public static Dictionary<string, object?> Envelope(string appId, string command, Guid deliveryId, DateTimeOffset at, Dictionary<string, object?> payload)
    {
        var body = new Dictionary<string, object?>
        {
            ["CallbackCommand"] = command,
            ["AppId"] = appId,
            ["DeliveryId"] = deliveryId,
            ["EventTime"] = at.ToUnixTimeMilliseconds(),
        };
        foreach (var (k, v) in payload) body[k] = v;
        return body;
    }

    private sealed record CallbackAnswer(string? ActionStatus, int ErrorCode, string? ErrorInfo);

    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Before-callback {Command} of app {AppId} failed (fail closed: {FailClosed})")]
    private partial void LogUnavailable(Exception e, string command, string appId, bool failClosed);
}
