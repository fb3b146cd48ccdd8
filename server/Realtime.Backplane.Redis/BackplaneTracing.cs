using System.Diagnostics;

namespace Realtime.Backplane.Redis;

/// <summary>
/// The ActivitySource of the backplane's spans: each PUBLISH, and each group change with its wait for the
/// other nodes' acks. Tagged with the channel's kind (group, user, conn, all), never its name (it holds ids).
/// </summary>
public static class BackplaneTracing
{
    public const string SourceName = "Realtime.Backplane";

    internal static readonly ActivitySource Source = new(SourceName);
}
