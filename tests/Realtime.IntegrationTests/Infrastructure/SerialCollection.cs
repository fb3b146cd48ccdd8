namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>
/// Tests that load the machine (hundreds of terminals) or time outages (Redis restarts): run on
/// their own, after the parallel ones, so two cores shared with the rest do not skew them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
