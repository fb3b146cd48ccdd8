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

    /// <summary>
    /// The stored response of an earlier run, or null when this run is the first (its key row is
    /// then inserted, replacing an expired one: one round trip).
    /// </summary>
    public static async Task<JsonElement?> BeginAsync(CommandScope scope, string requestId, string method)
    {
        var owner = scope.Actor.IdempotencyOwner;
        // The same requestId earlier in this transaction (a batch): its response is not written yet.
        if (scope.Effects.Responses.LastOrDefault(r => r.Owner == owner && r.RequestId == requestId) is { } mine)
            return mine.Method == method ? mine.Response : throw RealtimeException.Invalid("requestId", $"was already used for {mine.Method}");

        var args = new { scope.AppId, owner, requestId, method, scope.Now, expired = scope.Now - Window };
        var fresh = await scope.Connection.ExecuteScalarAsync<int?>(new CommandDefinition("""
            INSERT INTO idempotency_keys (app_id, user_id, request_id, method, created_at)
            VALUES (@AppId, @owner, @requestId, @method, @Now)
            ON CONFLICT (app_id, user_id, request_id) DO UPDATE
                SET method = EXCLUDED.method, created_at = EXCLUDED.created_at, response = NULL
                WHERE idempotency_keys.created_at < @expired
            RETURNING 1
            """, args, scope.Transaction));
        if (fresh == 1) return null;

        var stored = await scope.Connection.QuerySingleAsync<(string Method, string? Response)>(new CommandDefinition("""
            SELECT method, response::text FROM idempotency_keys
            WHERE app_id = @AppId AND user_id = @owner AND request_id = @requestId
            """, args, scope.Transaction));
        if (stored.Method != method)
            throw RealtimeException.Invalid("requestId", $"was already used for {stored.Method}");
        return stored.Response is null ? JsonDocument.Parse("null").RootElement : JsonDocument.Parse(stored.Response).RootElement;
    }

    /// <summary>Keeps the response to store with the key; <see cref="FlushAsync"/> writes all of a transaction's at once.</summary>
    public static void Complete(CommandScope scope, string requestId, string method, JsonElement response) =>
        scope.Effects.Responses.Add(new StoredResponse(scope.Actor.IdempotencyOwner, requestId, method, response));

    /// <summary>A command refused without a savepoint (GroupCommit's buffered commands) takes its key back.</summary>
    public static Task ForgetAsync(CommandScope scope, string requestId) =>
        scope.Connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM idempotency_keys WHERE app_id = @AppId AND user_id = @owner AND request_id = @requestId
            """, new { scope.AppId, owner = scope.Actor.IdempotencyOwner, requestId }, scope.Transaction));

    public static Task FlushAsync(CommandScope scope)
    {
        var responses = scope.Effects.Responses;
        if (responses.Count == 0) return Task.CompletedTask;
        return scope.Connection.ExecuteAsync(new CommandDefinition("""
            UPDATE idempotency_keys k SET response = x.response::jsonb
            FROM unnest(@owners, @requestIds, @bodies) AS x(owner, request_id, response)
            WHERE k.app_id = @AppId AND k.user_id = x.owner AND k.request_id = x.request_id
            """, new
        {
            scope.AppId,
            owners = responses.Select(r => r.Owner).ToArray(),
            requestIds = responses.Select(r => r.RequestId).ToArray(),
            bodies = responses.Select(r => r.Response.GetRawText()).ToArray(),
        }, scope.Transaction));
    }
}
