using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Realtime.Server.Apps;
using Realtime.Server.Data;

namespace Realtime.Server.Delivery;

/// <summary>
/// Records which terminals are online on which node, across the cluster, and keeps this
/// node's heartbeat. Only offline push reads it; live delivery never depends on it.
/// </summary>
public sealed partial class Presence(Db db, IOptions<RealtimeOptions> options, TimeProvider clock, ILogger<Presence> logger) : BackgroundService
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    /// <summary>The node's lease (GroupState/OnlineMembers) is renewed this often: a third of it, so two renewals may fail in a row.</summary>
    private TimeSpan LeaseRenewal => TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, options.Value.NodeLease.Ticks / 3));

    /// <summary>SQL: renews this node's heartbeat and lease (@NodeId, @now, @lease), on the database's clock.</summary>
    private const string RenewSql = """
        INSERT INTO nodes (node_id, heartbeat_at, lease_until) VALUES (@NodeId, @now, now() + @lease)
        ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, lease_until = EXCLUDED.lease_until;
        """;

    /// <summary>A node silent for longer than this is taken for dead, and its terminals for offline.</summary>
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(35);

    private string NodeId => options.Value.NodeId;

    /// <summary>SQL condition: user <paramref name="user"/> of app @AppId has a live terminal (needs @alive).</summary>
    public const string OnlineCondition = """
        EXISTS (SELECT 1 FROM terminals t JOIN nodes n ON n.node_id = t.node_id
                WHERE t.app_id = @AppId AND t.user_id = {0} AND n.heartbeat_at > @alive)
        """;

    public static DateTime AliveSince(DateTime now) => now - NodeTimeout;

    public async Task StartNodeAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        // Terminals this node id left behind when it last died are gone.
        await c.ExecuteAsync(new CommandDefinition($"""
            DELETE FROM terminals WHERE node_id = @NodeId;
            {RenewSql}
            """, new { NodeId, now = clock.GetUtcNow().UtcDateTime, lease = options.Value.NodeLease }, cancellationToken: ct));
    }

    public async Task OnlineAsync(string appId, string userId, string device, string connectionId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("""
            INSERT INTO terminals (connection_id, app_id, user_id, device, node_id, connected_at)
            VALUES (@connectionId, @appId, @userId, @device, @NodeId, @now) ON CONFLICT DO NOTHING
            """, new { connectionId, appId, userId, device, NodeId, now = clock.GetUtcNow().UtcDateTime }, cancellationToken: ct));
    }

    public async Task OfflineAsync(string connectionId)
    {
        try
        {
            await using var c = await db.OpenAsync(CancellationToken.None);
            await c.ExecuteAsync("DELETE FROM terminals WHERE connection_id = @connectionId", new { connectionId });
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The row stays until this node restarts or is declared dead: at worst one push is skipped.
            LogOfflineFailed(e, connectionId);
        }
    }

    /// <summary>The user's terminals on live nodes, oldest first.</summary>
    public async Task<IReadOnlyList<(string ConnectionId, string Device, DateTime ConnectedAt)>> TerminalsOfAsync(string appId, string userId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<(string, string, DateTime)>(new CommandDefinition("""
            SELECT t.connection_id, t.device, t.connected_at FROM terminals t JOIN nodes n ON n.node_id = t.node_id
            WHERE t.app_id = @appId AND t.user_id = @userId AND n.heartbeat_at > @alive
            ORDER BY t.connected_at, t.connection_id
            """, new { appId, userId, alive = AliveSince(clock.GetUtcNow().UtcDateTime) }, cancellationToken: ct))).ToList();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The lease is renewed on the real clock (it is measured on the database's), every third of it.
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(HeartbeatInterval.Ticks, LeaseRenewal.Ticks)));
        var sweptAt = DateTime.MinValue;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var now = clock.GetUtcNow().UtcDateTime;
                var sweep = now - sweptAt >= HeartbeatInterval;
                await using var c = await db.OpenAsync(stoppingToken);
                await c.ExecuteAsync(new CommandDefinition($"""
                    {RenewSql}
                    {(sweep ? "DELETE FROM terminals t USING nodes n WHERE t.node_id = n.node_id AND n.heartbeat_at < @dead;" : "")}
                    """, new { NodeId, now, lease = options.Value.NodeLease, dead = now - 10 * NodeTimeout },
                    cancellationToken: stoppingToken));
                if (sweep) sweptAt = now;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogHeartbeatFailed(e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var c = await db.OpenAsync(cancellationToken);
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM terminals WHERE node_id = @NodeId", new { NodeId }, cancellationToken: cancellationToken));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            LogHeartbeatFailed(e);
        }
    }

    [LoggerMessage(EventId = 330, Level = LogLevel.Warning, Message = "Could not mark connection {ConnectionId} offline")]
    private partial void LogOfflineFailed(Exception e, string connectionId);

    [LoggerMessage(EventId = 331, Level = LogLevel.Warning, Message = "Presence heartbeat failed")]
    private partial void LogHeartbeatFailed(Exception e);
}
