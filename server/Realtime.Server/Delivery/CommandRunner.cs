using System.Text.Json;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Data;
using Realtime.Server.Groups;

namespace Realtime.Server.Delivery;

/// <summary>
/// Runs one command: one transaction holding the change, its log entries and its requestId
/// (SPEC §5.1), then — only after commit — the live pushes.
/// </summary>
public sealed partial class CommandRunner(
    Db db, Publisher publisher, AppRegistry apps, OutboxSignal outboxSignal, TimeProvider clock, ILogger<CommandRunner> logger)
{
    private const int MaxAttempts = 4;

    public async Task<T> RunAsync<T>(
        Actor actor, string method, string? requestId, Func<CommandScope, Task<T>> body, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var queued = 0;
                var (result, scope) = await db.InTransactionAsync(async (connection, tx) =>
                {
                    var scope = new CommandScope(connection, tx, actor, apps.Get(actor.AppId), Now());
                    if (requestId is not null && await Idempotency.BeginAsync(scope, requestId, method) is { } stored)
                        return (stored.Deserialize<T>(RealtimeJson.Options)!, (CommandScope?)null);

                    var value = await body(scope);
                    await NotificationLog.FlushSystemMessagesAsync(scope);
                    queued = await Outbox.WriteAsync(scope);
                    if (requestId is not null)
                        await Idempotency.CompleteAsync(scope, requestId, JsonSerializer.SerializeToElement(value, RealtimeJson.Options));
                    return (value, scope);
                }, ct);

                if (queued > 0) outboxSignal.Notify();
                if (scope is not null) await publisher.PublishAsync(actor.AppId, scope.Effects);
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

    /// <summary>UTC now at microsecond precision, as PostgreSQL stores it.</summary>
    private DateTime Now()
    {
        var ticks = clock.GetUtcNow().UtcTicks;
        return new DateTime(ticks - ticks % 10, DateTimeKind.Utc);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Command {Method} retried after attempt {Attempt} ({SqlState})")]
    private partial void LogRetry(string method, int attempt, string sqlState);
}
