using System.Text.Json;
using Dapper;
using Realtime.Server.Data;
using Realtime.Server.Errors;

namespace Realtime.Server.Commands;

/// <summary>
/// requestId → the first response, for 24 h (SPEC §4). The key row is inserted first in the
/// command's transaction: a concurrent retry blocks on it, then finds the committed answer.
/// </summary>
internal static class Idempotency
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>
    /// A completed earlier run's response, read without locks before anything else runs (a
    /// repeat must not call the app's before-callback again). Null when there is none yet:
    /// BeginAsync then settles races inside the transaction.
    /// </summary>
    public static async Task<JsonElement?> PeekAsync(Db db, Actor actor, string requestId, string method, DateTime now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var stored = await c.QuerySingleOrDefaultAsync<(string Method, string? Response)>(new CommandDefinition("""
            SELECT method, response::text FROM idempotency_keys
            WHERE app_id = @AppId AND user_id = @owner AND request_id = @requestId AND created_at >= @since
            """, new { actor.AppId, owner = actor.IdempotencyOwner, requestId, since = now - Window }, cancellationToken: ct));
        if (stored.Method is null || stored.Response is null) return null;
        if (stored.Method != method) throw RealtimeException.Invalid("requestId", $"was already used for {stored.Method}");
        return JsonDocument.Parse(stored.Response).RootElement.Clone();
    }

    /// <summary>The stored response of an earlier run, or null when this run is the first.</summary>
    public static async Task<JsonElement?> BeginAsync(CommandScope scope, string requestId, string method)
    {
        var owner = scope.Actor.IdempotencyOwner;
        var args = new { scope.AppId, owner, requestId, method, scope.Now, expired = scope.Now - Window };
        await scope.Connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM idempotency_keys
            WHERE app_id = @AppId AND user_id = @owner AND request_id = @requestId AND created_at < @expired
            """, args, scope.Transaction));
        var inserted = await scope.Connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO idempotency_keys (app_id, user_id, request_id, method, created_at)
            VALUES (@AppId, @owner, @requestId, @method, @Now)
            ON CONFLICT DO NOTHING
            """, args, scope.Transaction));
        if (inserted == 1) return null;

        var stored = await scope.Connection.QuerySingleAsync<(string Method, string? Response)>(new CommandDefinition("""
            SELECT method, response::text FROM idempotency_keys
            WHERE app_id = @AppId AND user_id = @owner AND request_id = @requestId
            """, args, scope.Transaction));
        if (stored.Method != method)
            throw RealtimeException.Invalid("requestId", $"was already used for {stored.Method}");
        return stored.Response is null ? JsonDocument.Parse("null").RootElement : JsonDocument.Parse(stored.Response).RootElement;
    }

    public static Task CompleteAsync(CommandScope scope, string requestId, JsonElement response) =>
        scope.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE idempotency_keys SET response = @response::jsonb
            WHERE app_id = @AppId AND user_id = @owner AND request_id = @requestId
            """, new { scope.AppId, owner = scope.Actor.IdempotencyOwner, requestId, response = response.GetRawText() }, scope.Transaction));
}
