using Microsoft.AspNetCore.SignalR;
using Realtime.Backplane.Redis;
using Realtime.Server.Auth;
using Realtime.Server.Data;
using Realtime.Server.Membership;
using Realtime.Server.Hubs;

namespace Realtime.Server.Delivery;

/// <summary>
/// Joins a terminal to the live channels of its user's groups when it connects, and puts every
/// local terminal right again when attach/detach commands may have been lost (Redis came back)
/// and periodically. The database holds membership; this node only mirrors it.
/// </summary>
public sealed partial class TerminalAttacher : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(5);

    private readonly Db _db;
    private readonly IHubContext<GroupHub, IGroupClient> _hub;
    private readonly IUserGroupManager<GroupHub> _userGroups;
    private readonly LocalTerminals _terminals;
    private readonly ILogger<TerminalAttacher> _logger;

    public TerminalAttacher(
        Db db, IHubContext<GroupHub, IGroupClient> hub, IUserGroupManager<GroupHub> userGroups, LocalTerminals terminals,
        ILogger<TerminalAttacher> logger)
    {
        (_db, _hub, _userGroups, _terminals, _logger) = (db, hub, userGroups, terminals, logger);
        // Awaited by the backplane, which holds group messages back until the groups are right again.
        _userGroups.Resynchronize += () => ReconcileAsync(CancellationToken.None);
    }

    public async Task AttachAsync(Caller caller, string connectionId, CancellationToken ct)
    {
        // The connection is already known to the lifetime manager under its user, so a
        // membership change applied from now on reaches it by the user-wide attach/detach.
        // One applied before (while this connection was not yet known) belongs to a command
        // that may not have committed: ReadAsync waits for it (see there), so it is in the read.
        var groups = await ReadAsync(caller, ct);
        // In parallel: each first member of a group on this node waits for a SUBSCRIBE round trip.
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
            async (gid, token) => await _hub.Groups.AddToGroupAsync(connectionId, SignalRNames.Group(caller.AppId, gid), token));

        // A removal applied between the read and our attach was undone by the attach: read again.
        var now = (await ReadAsync(caller, ct)).ToHashSet();
        foreach (var gone in groups.Where(g => !now.Contains(g)))
            await _hub.Groups.RemoveFromGroupAsync(connectionId, SignalRNames.Group(caller.AppId, gone), ct);
        foreach (var added in now.Except(groups))
            await _hub.Groups.AddToGroupAsync(connectionId, SignalRNames.Group(caller.AppId, added), ct);
    }

    /// <summary>Makes every local terminal's groups match the database: drops stale ones, adds missing ones.</summary>
    /// <remarks>
    /// Set-based (a node muted after a lost Redis subscription waits for it): one transaction per
    /// <see cref="ReconcileBatch"/> users reads all their groups, after their in-flight membership changes.
    /// </remarks>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var changes = 0;
        var terminals = _terminals.Snapshot().ToList();
        var users = terminals.Select(t => (t.Caller.AppId, t.Caller.UserId)).Distinct().ToList();
        var expectedByUser = new Dictionary<(string, string), HashSet<string>>();
        foreach (var batch in users.Chunk(ReconcileBatch))
        {
            await using var connection = await _db.OpenAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var gids = await MemberRepository.GidsOfUsersAsync(connection, tx, batch, ct);
            await tx.CommitAsync(ct);
            foreach (var user in batch)
                expectedByUser[user] = gids[user].Select(g => SignalRNames.Group(user.AppId, g)).ToHashSet(StringComparer.Ordinal);
        }

        foreach (var (connectionId, caller) in terminals)
        {
            var expected = expectedByUser[(caller.AppId, caller.UserId)];
            var actual = _userGroups.LocalGroupsOf(connectionId);
            foreach (var stale in actual.Where(g => !expected.Contains(g)))
            {
                await _hub.Groups.RemoveFromGroupAsync(connectionId, stale, ct);
                changes++;
            }
            foreach (var missing in expected.Where(g => !actual.Contains(g)))
                await _hub.Groups.AddToGroupAsync(connectionId, missing, ct);
        }
        if (changes > 0) LogReconciled(changes);
        return changes;
    }

    private const int ReconcileBatch = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(Period, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            if (stoppingToken.IsCancellationRequested) return;
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(e);
            }
        }
    }

    /// <summary>
    /// The user's groups once no command that changes their membership is in flight. Every such
    /// command writes the user a system message, which locks the user's row until it commits,
    /// and applies its attach/detach before committing; waiting for that lock here (FOR SHARE)
    /// means a change whose attach/detach missed this terminal is committed, hence in the read.
    /// </summary>
    private async Task<IReadOnlyList<long>> ReadAsync(Caller caller, CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await MemberRepository.WaitForMembershipChangesAsync(connection, tx, caller.AppId, caller.UserId, ct);
        var gids = await MemberRepository.GidsOfAsync(connection, caller.AppId, caller.UserId, ct);
        await tx.CommitAsync(ct);
        return gids;
    }

    [LoggerMessage(EventId = 340, Level = LogLevel.Information, Message = "Reconciled live group channels: {Count} stale attachments dropped")]
    private partial void LogReconciled(int count);

    [LoggerMessage(EventId = 341, Level = LogLevel.Error, Message = "Reconciling live group channels failed")]
    private partial void LogFailed(Exception e);
}
