using System.Net;
using System.Text.Json;
using Dapper;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Microsoft.Extensions.Options;
using Realtime.Server.Data;
using Realtime.Server.Operations;

namespace Realtime.Server.WebPush;

/// <summary>
/// Sends one WebPush outbox row by the Web Push protocol (RFC 8030): VAPID-signed (RFC 8292), the body encrypted
/// for the subscription (RFC 8291 aes128gcm, by Lib.Net.Http.WebPush), with `TTL` (what is left of the app's) and
/// `Urgency`. 404/410 mean the subscription is gone: it is deleted. Any other 4xx would fail again: the push is
/// dropped with a log line. 429, 5xx and network errors are retried by the outbox with its backoff.
/// </summary>
public sealed partial class WebPushSender(
    Db db, VapidKeys vapid, IHttpClientFactory http, RealtimeMetrics metrics, IOptions<WebPushOptions> options,
    TimeProvider clock, ILogger<WebPushSender> logger)
{
    /// <summary>The outcome of one attempt: Error null = done; Retry false = never try again.</summary>
    public readonly record struct Attempt(string? Error, bool Retry);

    public async Task<Attempt> SendAsync(string appId, Guid deliveryId, string payload, CancellationToken ct)
    {
        var row = JsonSerializer.Deserialize<Row>(payload, RealtimeJson.Options)!;
        if (vapid.Of(appId) is not { } signer) return Drop("web push is no longer configured for the app", "unconfigured");
        Subscription? sub;
        await using (var c = await db.OpenAsync(ct))
            sub = await c.QuerySingleOrDefaultAsync<Subscription>(new CommandDefinition(
                "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = @Sub AND app_id = @appId AND user_id = @User",
                new { row.Sub, appId, row.User }, cancellationToken: ct));
        // Unregistered (or taken over by another user) since: nobody to tell.
        if (sub is null) return new Attempt(null, false);

        var ttl = (int)Math.Floor(row.Ttl - (clock.GetUtcNow() - row.At).TotalSeconds);
        if (ttl <= 0) return Drop("its TTL ran out before a push service took it", "expired");

        var subscription = new PushSubscription { Endpoint = sub.Endpoint };
        subscription.SetKey(PushEncryptionKeyName.P256DH, sub.P256dh);
        subscription.SetKey(PushEncryptionKeyName.Auth, sub.Auth);
        var message = new PushMessage(row.Body) { TimeToLive = ttl, Urgency = Enum.Parse<PushMessageUrgency>(row.Urgency) };
        // The outbox retries with its own backoff; the client must not wait out a Retry-After in the worker.
        var client = new PushServiceClient(http.CreateClient(EndpointGuard.HttpClientName)) { AutoRetryAfter = false };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.RequestTimeout);
        try
        {
            await client.RequestPushMessageDeliveryAsync(subscription, message, signer, VapidAuthenticationScheme.Vapid, timeout.Token);
        }
        catch (PushServiceClientException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            await using var c = await db.OpenAsync(CancellationToken.None);
            await c.ExecuteAsync("DELETE FROM push_subscriptions WHERE id = @Sub", new { row.Sub });
            metrics.WebPushSubscriptionsDropped.Add(1, new KeyValuePair<string, object?>("reason", "gone"));
            LogGone(appId, row.User, Origin(sub.Endpoint), (int)e.StatusCode);
            return new Attempt($"HTTP {(int)e.StatusCode}: the subscription is gone (deleted)", false);
        }
        catch (PushServiceClientException e) when ((int)e.StatusCode is >= 400 and < 500 and not 429)
        {
            LogRejected(appId, row.User, Origin(sub.Endpoint), deliveryId, (int)e.StatusCode, Abbrev(e.Body));
            return Drop($"HTTP {(int)e.StatusCode}: {Abbrev(e.Body)}", "rejected", log: false);
        }
        catch (PushServiceClientException e)
        {
            return new Attempt($"HTTP {(int)e.StatusCode}", true);
        }
        catch (Exception e) when (Refused(e) is { } refused)
        {
            LogRefused(appId, row.User, Origin(sub.Endpoint), refused.Message);
            return Drop(refused.Message, "refused", log: false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            return new Attempt(e.GetType().Name + ": " + e.Message, true);
        }
        metrics.WebPushSent.Add(1);
        return new Attempt(null, false);

        Attempt Drop(string error, string reason, bool log = true)
        {
            metrics.WebPushFailed.Add(1, new KeyValuePair<string, object?>("reason", reason));
            if (log) LogDropped(appId, row.User, deliveryId, error);
            return new Attempt(error, false);
        }
    }

    /// <summary>The outbox gave up on a push after its last retry.</summary>
    public void GaveUp() => metrics.WebPushFailed.Add(1, new KeyValuePair<string, object?>("reason", "gave_up"));

    private static EndpointRefusedException? Refused(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is EndpointRefusedException r) return r;
        return null;
    }

    /// <summary>Logs name the push service, never the whole endpoint: its path is a capability.</summary>
    private static string Origin(string endpoint) => new Uri(endpoint).GetLeftPart(UriPartial.Authority);

    private static string Abbrev(string? s) => s is null ? "" : s.Length <= 200 ? s : s[..200] + "…";

    private sealed record Row(long Sub, string User, string Urgency, int Ttl, DateTimeOffset At, string Body);

    private sealed record Subscription(string Endpoint, string P256dh, string Auth);

    [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Web push subscription of {AppId}/{User} at {PushService} is gone (HTTP {Status}): deleted")]
    private partial void LogGone(string appId, string user, string pushService, int status);

    [LoggerMessage(EventId = 521, Level = LogLevel.Warning, Message = "Web push {DeliveryId} to {AppId}/{User} at {PushService} rejected with HTTP {Status}: dropped ({Body})")]
    private partial void LogRejected(string appId, string user, string pushService, Guid deliveryId, int status, string body);

    [LoggerMessage(EventId = 522, Level = LogLevel.Warning, Message = "Web push to {AppId}/{User} at {PushService} refused: {Reason}")]
    private partial void LogRefused(string appId, string user, string pushService, string reason);

    [LoggerMessage(EventId = 523, Level = LogLevel.Warning, Message = "Web push {DeliveryId} to {AppId}/{User} dropped: {Error}")]
    private partial void LogDropped(string appId, string user, Guid deliveryId, string error);
}

/// <summary>
/// Two fixes to the library's requests, in the WebPush HttpClient's pipeline. RFC 8292 §2: the JWT's `aud` is the
/// push resource's origin, port included; the library signs for scheme://host, so an endpoint on another port is
/// signed again for its true origin (the `k` the library sent names the app's key). RFC 8030 §5.3: `Urgency: normal`
/// is also the default, but said explicitly so that every push carries its urgency.
/// </summary>
public sealed class WebPushRequestHandler(VapidKeys vapid) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Headers.Contains("Urgency")) request.Headers.TryAddWithoutValidation("Urgency", "normal");
        var uri = request.RequestUri!;
        if (!uri.IsDefaultPort && request.Headers.Authorization is { Scheme: "vapid", Parameter: { } parameter }
            && parameter.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("k=", StringComparison.Ordinal)) is { } k
            && vapid.OfPublicKey(k[2..]) is { } signer)
        {
            request.Headers.Authorization = new("vapid", signer.GetVapidSchemeAuthenticationHeaderValueParameter(uri.GetLeftPart(UriPartial.Authority)));
        }
        return base.SendAsync(request, cancellationToken);
    }
}
