namespace Realtime.Bench.Sbs;

/// <summary>Everything one system's run measured; written as JSON by the run verb, read by the report verb.</summary>
public sealed class SystemResult
{
    public string System { get; set; } = "";
    public int Nodes { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public double Seconds { get; set; }
    public JoinStormResult? JoinStorm { get; set; }
    public MemoryResult? Memory { get; set; }
    public DeliveryResult? BigGroup { get; set; }
    public DeliveryResult? Fanout { get; set; }
    public LimitResult? Limit { get; set; }
    public List<string> Errors { get; set; } = [];
    /// <summary>Things that went wrong without stopping a scenario (a few joins that timed out, say): reported, not failures.</summary>
    public List<string> Notes { get; set; } = [];
}

public sealed class JoinStormResult
{
    public int Connections { get; set; }
    public int Concurrency { get; set; }
    public double Seconds { get; set; }
    public int Failed { get; set; }
    public double ConnectP50 { get; set; }
    public double ConnectP99 { get; set; }
    public double JoinP50 { get; set; }
    public double JoinP99 { get; set; }
    /// <summary>Terminals connected and joined per 250 ms since the storm began.</summary>
    public long[] Timeline { get; set; } = [];
    public double QuietSeconds { get; set; }
    public long Pushes { get; set; }
    public double NodeCpuSeconds { get; set; }
    public double GeneratorCpuPct { get; set; }
}

public sealed class NodeMemory
{
    public int Pid { get; set; }
    public long ColdBeforeKb { get; set; }
    public long ColdAfterKb { get; set; }
    public long BeforeKb { get; set; }
    public long AfterKb { get; set; }
    public int Connections { get; set; }
    public double KbPerConnection { get; set; }
}

public sealed class MemoryResult
{
    public List<NodeMemory> Nodes { get; set; } = [];
    public double KbPerConnection { get; set; }
    public double ColdKbPerConnection { get; set; }
    public double IdleSeconds { get; set; }
}

public sealed class DeliveryResult
{
    public string Name { get; set; } = "";
    public int Groups { get; set; }
    public int MembersPerGroup { get; set; }
    public int Senders { get; set; }
    public double Rate { get; set; }
    public double WarmupSeconds { get; set; }
    public double MeasureSeconds { get; set; }
    public int Offered { get; set; }
    public int Sent { get; set; }
    public int SendErrors { get; set; }
    public long Expected { get; set; }
    public long Received { get; set; }
    public long Missing { get; set; }
    public long Duplicates { get; set; }
    public long OutOfOrder { get; set; }
    public long MeasuredExpected { get; set; }
    public long MeasuredReceived { get; set; }
    public double OfferedPerSecond { get; set; }
    public double AchievedPerSecond { get; set; }
    public double P50 { get; set; }
    public double P90 { get; set; }
    public double P99 { get; set; }
    public double P999 { get; set; }
    public double Max { get; set; }
    public long[] Hist { get; set; } = [];
    public long[] Timeline { get; set; } = [];
    public double NodeCpuSeconds { get; set; }
    public long WindowDeliveries { get; set; }
    public double CpuUsPerDelivery { get; set; }
    public double GeneratorCpuPct { get; set; }
    public Dictionary<string, double> ExtraCpuSeconds { get; set; } = [];
    public double SendLagP99 { get; set; }
    public double SendLagMax { get; set; }
    public double DrainSeconds { get; set; }
}

public sealed class LimitResult
{
    public int MembersPerGroup { get; set; }
    public double StepSeconds { get; set; }
    public List<DeliveryResult> Many { get; set; } = [];
    public List<DeliveryResult> One { get; set; } = [];
    public double BestMany { get; set; }
    public double BestOne { get; set; }
    public string ManyStop { get; set; } = "";
    public string OneStop { get; set; } = "";
}
