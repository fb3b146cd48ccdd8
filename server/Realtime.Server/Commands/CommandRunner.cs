using System.Data;
using System.Text.Json;
using Dapper;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Callbacks;
using Realtime.Server.Data;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Membership;

namespace Realtime.Server.Commands;

/// <summary>
/// Runs commands: one transaction holding the changes, their log entries and their requestIds
/// (SPEC §5.1); membership changes applied to live channels before commit, under the group's
/// lock; then, only after commit, the pushes. A transaction holds one command, or several that
/// GroupCommit gathered for one group, each isolated by a savepoint: one failing command never
/// fails its neighbours.
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
        var command = new Command<T>(actor, method, requestId, body);
        if (await PrepareAsync(command, before, ct) is { } earlier) return command.Stored(earlier);
        await RunBatchAsync([command]);
        return await command.Answer;
    }

    /// <summary>
    /// What runs before a command's transaction: when the app has a before-callback, a repeated
    /// requestId is answered from its stored response without calling the app again; then the
    /// callback. Answers that stored response, or null when the command is to run.
    /// </summary>
    internal async Task<JsonElement?> PrepareAsync(Command command, Func<CancellationToken, Task>? before, CancellationToken ct)
    {
        if (before is null || string.IsNullOrEmpty(apps.Get(command.Actor.AppId).CallbackUrl))
        {
            ct.ThrowIfCancellationRequested();
            return null;
        }
        if (command.RequestId is not null &&
            await Idempotency.PeekAsync(db, command.Actor, command.RequestId, command.Method, Now(), ct) is { } earlier)
            return earlier;
        await before(ct);
        ct.ThrowIfCancellationRequested();
        return null;
    }

    /// <summary>
    /// Runs commands of one app in one transaction, in order, and answers each. Never throws: a
    /// command's error is its own answer. Should the transaction itself fail (not a rule), each
    /// command runs again alone, so only the one at fault fails.
    /// </summary>
    internal async Task RunBatchAsync(IReadOnlyList<Command> commands) => await await CommitBatchAsync(commands);

    /// <summary>
    /// As <see cref="RunBatchAsync"/>, but returns as soon as the transaction's outcome is known and
    /// its pushes are started (its group events written to the backplane in seq order): the
    /// returned task completes once they are handed over and every command is answered. GroupCommit
    /// starts the group's next transaction meanwhile, so a publish is never on the group's critical path.
    /// </summary>
    internal async Task<Task> CommitBatchAsync(IReadOnlyList<Command> commands)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (effects, queued) = await RunOnceAsync(commands);
                if (queued > 0) outboxSignal.Notify();
                return PublishAndAnswerAsync(commands, effects);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                                               && attempt < MaxAttempts)
            {
                // Two transactions locked overlapping rows in different orders; the loser ran nothing.
                LogRetry(commands[0].Method, attempt, e.SqlState);
                foreach (var c in commands) c.Reset();
            }
            catch (Exception e) when (commands.Count > 1)
            {
                LogBatchFailed(e, commands.Count);
                foreach (var c in commands)
                {
                    c.Reset();
                    await RunBatchAsync([c]);
                }
                return Task.CompletedTask;
            }
            catch (Exception e)
            {
                commands[0].Fail(e);
                return Task.CompletedTask;
            }
        }
    }

    /// <summary>Starts the pushes at once (the group events before the first await), answers the commands once they are handed over.</summary>
    private async Task PublishAndAnswerAsync(IReadOnlyList<Command> commands, TransactionEffects effects)
    {
        await publisher.PublishAsync(commands[0].Actor.AppId, effects.Pushes);
        foreach (var c in commands) c.Finish();
    }

    private async Task<(TransactionEffects Effects, int Queued)> RunOnceAsync(IReadOnlyList<Command> commands)
    {
        var appId = commands[0].Actor.AppId;
        var app = apps.Get(appId);
        var effects = new TransactionEffects(commands.Select(c => c.Actor.UserId).OfType<string>().Distinct(StringComparer.Ordinal).ToList());
        var now = Now();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, CancellationToken.None);
        var isolate = commands.Count > 1;
        var savepoint = false;
        CommandScope? last = null;
        foreach (var command in commands)
        {
            var scope = last = new CommandScope(connection, tx, command.Actor, app, now, effects);
            var isolated = isolate && !command.ChecksBeforeWrites;
            if (isolated)
            {
                // What a rollback to it keeps must be in the database, not only in memory.
                await MemberRepository.FlushJoinsAsync(scope);
                await connection.ExecuteAsync(savepoint ? "RELEASE SAVEPOINT command; SAVEPOINT command" : "SAVEPOINT command", transaction: tx);
            }
            savepoint |= isolated;
            var mark = effects.Mark();
            try
            {
                await command.RunAsync(scope);
            }
            catch (RealtimeException e) when (isolate)
            {
                if (isolated) await connection.ExecuteAsync("ROLLBACK TO SAVEPOINT command", transaction: tx);
                else if (command.KeyInserted) await Idempotency.ForgetAsync(scope, command.RequestId!);
                effects.RollbackTo(mark, savepoint: isolated);
                command.Refuse(e);
            }
        }

        await MemberRepository.FlushJoinsAsync(last!);
        await NotificationLog.FlushGroupEventsAsync(last!);
        await Idempotency.FlushAsync(last!);
        await NotificationLog.FlushSystemMessagesAsync(last!);
        var queued = await Outbox.WriteAsync(last!);

        var applied = await publisher.ApplyBeforeCommitAsync(appId, effects.MembershipEffects);
        try
        {
            foreach (var step in effects.LastSteps) await step();
        }
        catch (Exception) when (applied.Count > 0)
        {
            // Nothing was committed: take it all back.
            await publisher.UndoAsync(appId, applied, attachesOnly: false);
            throw;
        }
        try
        {
            await tx.CommitAsync(CancellationToken.None);
        }
        catch (Exception) when (applied.Count > 0)
        {
            // The commit's outcome is unknown: take back attaches only (see UndoAsync).
            await publisher.UndoAsync(appId, applied, attachesOnly: true);
            throw;
        }
        return (effects, queued);
    }

    /// <summary>UTC now at microsecond precision, as PostgreSQL stores it.</summary>
    private DateTime Now()
    {
        var ticks = clock.GetUtcNow().UtcTicks;
        return new DateTime(ticks - ticks % 10, DateTimeKind.Utc);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Command {Method} retried after attempt {Attempt} ({SqlState})")]
    private partial void LogRetry(string method, int attempt, string sqlState);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "A transaction of {Count} commands failed; each runs again alone")]
    private partial void LogBatchFailed(Exception e, int count);
}
