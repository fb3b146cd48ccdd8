using System.Globalization;
using StackExchange.Redis;

namespace Realtime.Bench.Backplane;

/// <summary>One Redis process at one moment: INFO cpu/memory/stats/replication and, on a cluster, CLUSTER INFO.</summary>
public sealed record RedisSample(string EndPoint, string Role, string MasterPort, double CpuSeconds, long UsedMemory, long NetOutputBytes, long PubSubChannels, long ShardChannels, long BusPublishSent, long BusShardPublishSent);

/// <summary>Samples every Redis process of a configuration (the standalone one, or all six cluster nodes) over its own admin connection.</summary>
public sealed class RedisStats : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _mux;
    private readonly string[] _endPoints;
    private readonly bool _cluster;

    private RedisStats(ConnectionMultiplexer mux, string[] endPoints, bool cluster)
    {
        _mux = mux;
        _endPoints = endPoints;
        _cluster = cluster;
    }

    public IReadOnlyList<string> EndPoints => _endPoints;

    /// <param name="endPoints">Every process to sample (a cluster: masters and replicas).</param>
    public static async Task<RedisStats> ConnectAsync(IReadOnlyList<string> endPoints, bool cluster)
    {
        var options = ConfigurationOptions.Parse(string.Join(",", endPoints));
        options.AllowAdmin = true;
        options.ClientName = "bench-stats";
        options.AbortOnConnectFail = true;
        var mux = await ConnectionMultiplexer.ConnectAsync(options);
        return new RedisStats(mux, [.. endPoints], cluster);
    }

    /// <param name="channels">Also count the channels (PUBSUB CHANNELS/SHARDCHANNELS list every name: only outside measured windows).</param>
    public async Task<RedisSample[]> SampleAsync(bool channels = false)
    {
        var samples = new RedisSample[_endPoints.Length];
        for (var i = 0; i < _endPoints.Length; i++)
        {
            var server = _mux.GetServer(_endPoints[i]);
            var info = (await server.InfoAsync()).SelectMany(g => g).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value);
            var cluster = new Dictionary<string, string>();
            if (_cluster)
            {
                var text = (string?)await server.ExecuteAsync("CLUSTER", "INFO") ?? "";
                foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var colon = line.IndexOf(':');
                    if (colon > 0) cluster[line[..colon]] = line[(colon + 1)..];
                }
            }

            var channelCount = channels ? await CountAsync(server, "CHANNELS") : 0;
            var shardChannels = channels && _cluster ? await CountAsync(server, "SHARDCHANNELS") : 0;
            samples[i] = new RedisSample(
                _endPoints[i],
                info.GetValueOrDefault("role", "?") == "slave" ? "replica" : info.GetValueOrDefault("role", "?"),
                info.GetValueOrDefault("master_port", ""),
                Double(info, "used_cpu_sys") + Double(info, "used_cpu_user"),
                Long(info, "used_memory"),
                Long(info, "total_net_output_bytes"),
                channelCount,
                shardChannels,
                Long(cluster, "cluster_stats_messages_publish_sent"),
                Long(cluster, "cluster_stats_messages_publishshard_sent"));
        }

        return samples;
    }

    public ValueTask DisposeAsync() => _mux.DisposeAsync();

    // PUBSUB CHANNELS / SHARDCHANNELS list names; only the count is wanted.
    private static async Task<long> CountAsync(IServer server, string what)
    {
        var result = await server.ExecuteAsync("PUBSUB", what);
        return result.Length;
    }

    private static double Double(Dictionary<string, string> info, string key) =>
        info.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0;

    private static long Long(Dictionary<string, string> info, string key) =>
        info.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : 0;
}
