using System.Globalization;
using System.Text.RegularExpressions;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Operations;

public sealed partial class MetricsTests
{
    [Fact]
    public async Task Metrics_Scraped_CountersMoveWithTraffic()
    {
        await using var cluster = await Cluster.StartAsync(nodes: 1);
        var node = cluster[0];
        using var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };

        var before = Parse(await http.GetStringAsync("/metrics"));
        await using (var client = await node.ConnectAsync("metered"))
        {
            var groupId = (await client.InvokeAsync("CreateGroup", new { type = "Public", name = "m" })).Str("groupId");
            await client.InvokeAsync("UpdateGroupProfile", new { groupId, name = "m2" });
            await Assert.ThrowsAsync<HubErrorException>(() => client.InvokeAsync("SearchGroup", "@RT#AAAAAAAAAAAA"));
            await client.InvokeAsync("Sync", new { systemSince = 0 });
            await client.WaitForAsync("GroupEvent");

            var text = await http.GetStringAsync("/metrics");
            Assert.Contains("# TYPE realtime_commands_total counter", text);
            Assert.Contains("# TYPE realtime_command_duration_seconds histogram", text);
            var during = Parse(text);
            Assert.Equal(1, during.GetValueOrDefault("realtime_connections"));
            Assert.Equal(1, Delta(before, during, "realtime_commands_total{method=\"CreateGroup\",outcome=\"ok\"}"));
            Assert.Equal(1, Delta(before, during, "realtime_commands_total{method=\"SearchGroup\",outcome=\"GroupNotFound\"}"));
            Assert.Equal(1, Delta(before, during, "realtime_sync_requests_total"));
            Assert.Equal(1, Delta(before, during, "realtime_deliveries_total{kind=\"group_event\"}"));
            Assert.True(Delta(before, during, "realtime_command_duration_seconds_count{method=\"CreateGroup\"}") == 1);
            Assert.True(Delta(before, during, "realtime_backplane_publishes_total") >= 2, "the event and the system message went through Redis");
        }
    }

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    private static Dictionary<string, double> Parse(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var m = SeriesLine().Match(line);
            if (m.Success) values[m.Groups[1].Value] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return values;
    }

    [GeneratedRegex(@"^([a-z_]+(?:\{[^}]*\})?) (\S+)$")]
    private static partial Regex SeriesLine();
}
