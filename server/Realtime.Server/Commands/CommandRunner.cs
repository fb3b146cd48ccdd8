using System.Data;
using System.Text.Json;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Data;
using Realtime.Server.Delivery;

namespace Realtime.Server.Commands;

/// <summary>
/// Runs one command: one transaction holding the change, its log entries and its requestId
/// (SPEC §5.1); membership changes applied to live channels before commit, under the group's
/// lock; then, only after commit, the pushes.
/// </summary>
public sealed partial class CommandRunner(
    Db db, Publisher publisher, AppRegistry apps, OutboxSignal outboxSignal, TimeProvider clock, ILogger<CommandRunner> logger)
{
    private const int MaxAttempts = 4;

    /// <param name="before">A before-callback: runs first, outside any transaction, and not at all for a repeated requestId.</param>
    /// <param name="ct">Cancels the command until its transaction starts; once started it runs to the end,
    /// so a client that goes away (or a node shutting down) never leaves a commit half known.</param>
    public async Task<T> RunAsync<T>(
        Actor actor, string method, string? requestId, Func<CommandScope, Task<T>> body, CancellationToken ct = default,
        Func<CancellationToken, Task>? before = null)
    {
        if (requestId is not null && await Idempotency.PeekAsync(db, actor, requestId, method, Now(), ct) is { } earlier)
            return earlier.Deserialize<T>(RealtimeJson.Options)!;
        if (before is not null) await before(ct);
        ct.ThrowIfCancellationRequested();

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (result, scope, queued) = await RunOnceAsync(actor, method, requestId, body);
                if (queued > 0) outboxSignal.Notify();
                if (scope is not null) await publisher.PublishAsync(actor.AppId, scope.Pushes);
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                                               && attempt < MaxAttempts)
            {
                // Two commands locked overlapping recipients in different orders; the loser ran nothing.
                LogRetry(method, attempt, e.SqlState);
            }
        }
    }

    private async Task<(T Result, CommandScope? Scope, int Queued)> RunOnceAsync<T>(
        Actor actor, string method, string? requestId, Func<CommandScope, Task<T>> body)
    {
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, CancellationToken.None);
        var scope = new CommandScope(connection, tx, actor, apps.Get(actor.AppId), Now());
        if (requestId is not null && await Idempotency.BeginAsync(scope, requestId, method) is { } stored)
            return (stored.Deserialize<T>(RealtimeJson.Options)!, null, 0);

        var value = await body(scope);
        await NotificationLog.FlushSystemMessagesAsync(scope);
        var queued = await Outbox.WriteAsync(scope);
        if (requestId is not null)
            await Idempotency.CompleteAsync(scope, requestId, JsonSerializer.SerializeToElement(value, RealtimeJson.Options));

        var applied = await publisher.ApplyBeforeCommitAsync(actor.AppId, scope.MembershipEffects);
        try
        {
            foreach (var step in scope.LastSteps) await step();
        }
        catch (Exception) when (applied.Count > 0)
        {
            // Nothing was committed: take it all back.
            await publisher.UndoAsync(actor.AppId, applied, attachesOnly: false);
            throw;
        }
        try
        {
            await tx.CommitAsync(CancellationToken.None);
        }
        catch (Exception) when (applied.Count > 0)
        {
            // The commit's outcome is unknown: take back attaches only (see UndoAsync).
            await publisher.UndoAsync(actor.AppId, applied, attachesOnly: true);
            throw;
        }
        return (value, scope, queued);
    }

    /// <summary>UTC now at microsecond precision, as PostgreSQL stores it.</summary>
    private DateTime Now()
    {
        var ticks = clock.GetUtcNow().UtcTicks;
        return new DateTime(ticks - ticks % 10, DateTimeKind.Utc);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Command {Method} retried after attempt {Attempt} ({SqlState})")]
    private partial void LogRetry(string method, int attempt, string sqlState);
}
