using System.Diagnostics.Metrics;

namespace Realtime.Backplane.Redis.Internal;

// One process-wide meter so /metrics can aggregate every hub's backplane traffic.
internal static class BackplaneMetrics
{
    public const string MeterName = "Realtime.Backplane";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Publishes =
        Meter.CreateCounter<long>("realtime_backplane_publishes", description: "Redis PUBLISH calls made by the backplane.");

    public static readonly Counter<long> Receives =
        Meter.CreateCounter<long>("realtime_backplane_receives", description: "Messages the backplane received from Redis.");
}
