using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Realtime.Server.Data;

namespace Realtime.Server.Operations;

/// <summary>Ready when PostgreSQL answers a query.</summary>
public sealed class PostgresHealthCheck(Db db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var connection = await db.OpenAsync(ct);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: ct));
            return HealthCheckResult.Healthy();
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("postgres unreachable", e);
        }
    }
}

/// <summary>Ready when the Redis backplane (if this node has one) is connected.</summary>
public sealed class RedisHealthCheck(Microsoft.AspNetCore.SignalR.HubLifetimeManager<Hubs.GroupHub> manager) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(manager is Backplane.Redis.RedisHubLifetimeManager<Hubs.GroupHub> { IsConnected: false }
            ? HealthCheckResult.Unhealthy("redis unreachable")
            : HealthCheckResult.Healthy());
}

/// <summary>
/// The read replica (ConnectionStrings:PostgresRead): Degraded, never Unhealthy, when reads go to
/// the primary instead (it is down or lagging), so /readyz says so and still answers 200.
/// </summary>
public sealed class ReadReplicaHealthCheck(ReadRouter reads) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        await reads.CheckReplicaAsync(ct) is { } problem
            ? HealthCheckResult.Degraded($"{problem}; reads go to the primary")
            : HealthCheckResult.Healthy("reads use the replica");
}

/// <summary>/readyz body: the overall status on the first line, then one line per check that is not healthy.</summary>
public static class ReadinessText
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var text = new System.Text.StringBuilder(report.Status.ToString()).Append('\n');
        foreach (var (name, entry) in report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy))
            text.Append(name).Append(": ").Append(entry.Status).Append(" (").Append(entry.Description).Append(")\n");
        return context.Response.WriteAsync(text.ToString());
    }
}
