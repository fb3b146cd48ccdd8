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
