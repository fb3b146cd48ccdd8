namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>What the test command (scripts/test.sh) started for us on loopback.</summary>
public static class TestEnvironment
{
    /// <summary>An admin connection string; each test class creates its own database there.</summary>
    public static string Postgres => Require("REALTIME_TEST_PG");

    /// <summary>host:port of the shared Redis.</summary>
    public static string Redis => Require("REALTIME_TEST_REDIS");

    /// <summary>The shared local Redis Cluster (three masters, three replicas): its masters' host:port, comma-joined.</summary>
    public static string RedisCluster => Require("REALTIME_TEST_REDIS_CLUSTER");

    public static string RedisServerBin => Environment.GetEnvironmentVariable("REALTIME_REDIS_SERVER_BIN") is { Length: > 0 } bin ? bin : "redis-server";

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./scripts/test.sh, which starts PostgreSQL and Redis.");
}
