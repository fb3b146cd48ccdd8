using System.Globalization;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

public sealed class AdminMetricsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task RestCommands_Scraped_CountedByOperationAndOutcome()
    {
        using var admin = RestClient.Admin(fixture.Node);
        using var user = new RestClient(fixture.Node, TestTokens.Issue("alice"));

        var before = await ScrapeAsync(admin);
        await admin.CreateGroupAsync(new { groupname = "metered", @public = true, owner = "o" });
        (await admin.GetAsync("/chatgroups/nope")).Fails(ErrorCode.GroupNotFound);
        (await user.GetAsync("/chatgroups")).Fails(ErrorCode.PermissionDenied);
        var after = await ScrapeAsync(admin);

        double Delta(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);
        Assert.Equal(1, Delta("realtime_commands_total{method=\"rest:CreateChatGroup\",outcome=\"ok\"}"));
        Assert.Equal(1, Delta("realtime_commands_total{method=\"rest:GetChatGroups\",outcome=\"GroupNotFound\"}"));
        Assert.Equal(1, Delta("realtime_commands_total{method=\"rest:ListChatGroups\",outcome=\"PermissionDenied\"}"));
        Assert.Equal(1, Delta("realtime_command_duration_seconds_count{method=\"rest:CreateChatGroup\"}"));
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(RestClient client)
    {
        var (_, text) = await client.GetRawAsync("/metrics");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var space = line.LastIndexOf(' ');
            if (line.StartsWith("realtime_command", StringComparison.Ordinal) && space > 0)
                values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return values;
    }
}
