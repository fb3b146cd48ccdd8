using Dapper;
using Microsoft.Extensions.Options;
using Realtime.Server.Commands;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.WebPush;

/// <summary>
/// A user's Web Push subscriptions (SPEC §7), stored per app and user. An endpoint is one browser profile's push
/// channel, so it belongs to one user at a time: registering it takes it over from whoever had it (the browser is
/// now signed in as the caller), and pushes check the owner again when they are sent.
/// </summary>
public sealed class PushSubscriptions(CommandRunner runner, VapidKeys vapid, IOptions<WebPushOptions> options)
{
    public Task<PushSubscriptionResult> RegisterAsync(Actor actor, RegisterPushSubscriptionRequest r, CancellationToken ct = default)
    {
        var endpoint = PushSubscriptionRules.Endpoint(r.Endpoint, options.Value);
        var (p256dh, auth) = PushSubscriptionRules.Keys(r.Keys);
        var requestId = Validate.RequestId(r.RequestId);
        if (vapid.Of(actor.AppId) is null)
            throw new RealtimeException(ErrorCode.PermissionDenied, $"web push is not configured for app {actor.AppId} (Realtime:Apps:{actor.AppId}:WebPush)");
        return runner.RunAsync(actor, "RegisterPushSubscription", requestId, async s =>
        {
            var user = actor.RequireUser();
            await LockUserAsync(s, user);
            var others = await s.Connection.ExecuteScalarAsync<int>(new CommandDefinition("""
                SELECT count(*) FROM push_subscriptions WHERE app_id = @AppId AND user_id = @user AND endpoint <> @endpoint
                """, new { s.AppId, user, endpoint }, s.Transaction));
            if (others >= PushSubscriptionRules.MaxPerUser)
                throw RealtimeException.Invalid("endpoint", $"at most {PushSubscriptionRules.MaxPerUser} push subscriptions per user; unregister one first");
            // A new row (and id) whenever the owner changes: pushes queued for the previous owner find their subscription gone.
            var taken = await s.Connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM push_subscriptions WHERE app_id = @AppId AND endpoint = @endpoint AND user_id <> @user",
                new { s.AppId, user, endpoint }, s.Transaction));
            var written = await s.Connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO push_subscriptions AS p (app_id, user_id, endpoint, p256dh, auth, created_at, updated_at)
                VALUES (@AppId, @user, @endpoint, @p256dh, @auth, @Now, @Now)
                ON CONFLICT (app_id, endpoint) DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, updated_at = EXCLUDED.updated_at
                    WHERE p.p256dh <> EXCLUDED.p256dh OR p.auth <> EXCLUDED.auth
                """, new { s.AppId, user, endpoint, p256dh, auth, s.Now }, s.Transaction));
            var changed = taken + written > 0;
            return new PushSubscriptionResult(endpoint, changed, others + 1);
        }, ct);
    }

    public Task<PushSubscriptionResult> UnregisterAsync(Actor actor, UnregisterPushSubscriptionRequest r, CancellationToken ct = default)
    {
        var endpoint = PushSubscriptionRules.Endpoint(r.Endpoint, options.Value);
        var requestId = Validate.RequestId(r.RequestId);
        return runner.RunAsync(actor, "UnregisterPushSubscription", requestId, async s =>
        {
            var user = actor.RequireUser();
            await LockUserAsync(s, user);
            var removed = await s.Connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM push_subscriptions WHERE app_id = @AppId AND user_id = @user AND endpoint = @endpoint",
                new { s.AppId, user, endpoint }, s.Transaction));
            var left = await s.Connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT count(*) FROM push_subscriptions WHERE app_id = @AppId AND user_id = @user", new { s.AppId, user }, s.Transaction));
            return new PushSubscriptionResult(endpoint, removed > 0, left);
        }, ct);
    }

    /// <summary>One user's registrations take turns, so the per-user limit holds under concurrency (there may be no row to lock yet).</summary>
    private static Task LockUserAsync(CommandScope s, string user) =>
        s.Connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtextextended('push_subscriptions:' || @AppId || ':' || @user, 0))",
            new { s.AppId, user }, s.Transaction));
}
