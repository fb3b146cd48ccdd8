using System.Text.Json;
using Realtime.Server.Errors;

namespace Realtime.Server.Commands;

/// <summary>
/// One command on its way through a transaction: its body, its requestId, and its answer,
/// which is given only once the transaction's outcome is known (and its pushes handed over).
/// </summary>
internal abstract class Command(Actor actor, string method, string? requestId, bool checksBeforeWrites)
{
    public Actor Actor { get; } = actor;
    public string Method { get; } = method;
    public string? RequestId { get; } = requestId;

    /// <summary>
    /// Every refusal of the body comes before its first write (buffered appends aside; locking a
    /// users row that any connect creates anyway does not count): a refusal in a batch needs no
    /// savepoint, only its buffers and its requestId's key taken back.
    /// </summary>
    public bool ChecksBeforeWrites { get; } = checksBeforeWrites;

    /// <summary>This run inserted its requestId's key row (taken back when it is refused without a savepoint).</summary>
    public bool KeyInserted { get; protected set; }

    /// <summary>Runs the body in the transaction (or finds the stored response of its requestId).</summary>
    public abstract Task RunAsync(CommandScope scope);

    /// <summary>A rule refused the command; its savepoint was rolled back, its neighbours go on.</summary>
    public abstract void Refuse(RealtimeException error);

    /// <summary>The transaction committed: the command's own result or refusal becomes its answer.</summary>
    public abstract void Finish();

    /// <summary>The command failed as a whole (nothing of it committed).</summary>
    public abstract void Fail(Exception error);

    /// <summary>The transaction is run again: forget what this attempt decided.</summary>
    public abstract void Reset();
}

internal sealed class Command<T>(Actor actor, string method, string? requestId, Func<CommandScope, Task<T>> body, bool checksBeforeWrites = false)
    : Command(actor, method, requestId, checksBeforeWrites)
{
    private readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;
    private RealtimeException? _refusal;

    public Task<T> Answer => _answer.Task;

    public T Stored(JsonElement response) => response.Deserialize<T>(RealtimeJson.Options)!;

    public void AnswerStored(JsonElement stored) => _answer.TrySetResult(Stored(stored));

    public override async Task RunAsync(CommandScope scope)
    {
        if (RequestId is not null)
        {
            if (await Idempotency.BeginAsync(scope, RequestId, Method) is { } stored)
            {
                _result = Stored(stored);
                return;
            }
            KeyInserted = true;
        }
        _result = await body(scope);
        if (RequestId is not null)
            Idempotency.Complete(scope, RequestId, Method, JsonSerializer.SerializeToElement(_result, RealtimeJson.Options));
    }

    public override void Refuse(RealtimeException error) => _refusal = error;

    public override void Finish()
    {
        if (_refusal is not null) _answer.TrySetException(_refusal);
        else _answer.TrySetResult(_result!);
    }

    public override void Fail(Exception error) => _answer.TrySetException(error);

    public override void Reset()
    {
        KeyInserted = false;
        _result = default;
        _refusal = null;
    }
}
