namespace Realtime.IntegrationTests.Backplane;

/// <summary>The shared Redis the test command started.</summary>
internal static class TestRedis
{
    public static string Configuration =>
        Environment.GetEnvironmentVariable("REALTIME_TEST_REDIS") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "REALTIME_TEST_REDIS is not set. Backplane tests need a running Redis: export REALTIME_TEST_REDIS=host:port " +
                "(e.g. start one with `redis-server --port 56400 --save ''` and export REALTIME_TEST_REDIS=127.0.0.1:56400).");
}
