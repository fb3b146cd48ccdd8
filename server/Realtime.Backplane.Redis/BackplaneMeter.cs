namespace Realtime.Backplane.Redis;

/// <summary>The name of the process-wide meter carrying the backplane's publish and receive counters.</summary>
public static class BackplaneMeter
{
    public const string Name = Internal.BackplaneMetrics.MeterName;
}
