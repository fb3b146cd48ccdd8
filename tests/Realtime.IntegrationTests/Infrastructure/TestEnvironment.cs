namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>What the test command (scripts/test.sh) started for us on loopback.</summary>
public static class TestEnvironment
{
    /// <summary>An admin connection string; each test class creates its own database there.</summary>
    public static string Postgres => Require("REALTIME_TEST_PG");

    /// <summary>host:port of the shared Redis.</summary>
    public static string Redis => Require("REALTIME_TEST_REDIS");

    /// <summary>
    /// An admin connection string of the streaming standby of <see cref="Postgres"/> (scripts/test.sh
    /// starts it), or null when none runs. Every node reads through it when it is set.
    /// </summary>
    public static string? PostgresRead => Environment.GetEnvironmentVariable("REALTIME_TEST_PG_READ") is { Length: > 0 } value ? value : null;

    /// <summary>The standby's data directory and PostgreSQL's bin directory, for the tests that stop and start it.</summary>
    public static string PostgresReadDir => Require("REALTIME_TEST_PG_READ_DIR");

    public static string PostgresBin => Require("REALTIME_TEST_PG_BIN");

    /// <summary>The standby's connection string for <paramref name="database"/>; the replica tests need one.</summary>
    public static string ReadConnectionFor(string database) =>
        new Npgsql.NpgsqlConnectionStringBuilder(PostgresRead ?? Require("REALTIME_TEST_PG_READ")) { Database = database }.ConnectionString;

    /// <summary>The shared local Redis Cluster (three masters, three replicas): its masters' host:port, comma-joined.</summary>
    public static string RedisCluster => Require("REALTIME_TEST_REDIS_CLUSTER");

    public static string RedisServerBin => Environment.GetEnvironmentVariable("REALTIME_REDIS_SERVER_BIN") is { Length: > 0 } bin ? bin : "redis-server";

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./scripts/test.sh, which starts PostgreSQL and Redis.");
}
