namespace Realtime.Bench;

/// <summary>
/// One call of each query of the search and history scenarios, untimed: bench/history.sh runs it
/// against a node whose PostgreSQL sessions log their plans (auto_explain), to show the plans the
/// server's own statements get.
/// </summary>
public static class ProbeScenario
{
    public static async Task<bool> RunAsync(Bench bench)
    {
        await using var t = await bench.ConnectAsync(HistoryScenario.Reader, 0);
        foreach (var (kind, query) in SearchScenario.Queries)
        {
            Bench.Log($"probe: SearchGroups '{query}' ({kind})");
            await t.InvokeAsync("SearchGroups", new { query });
        }
        var lastSeq = Bench.Long((await t.InvokeAsync("GetGroups", (object)new[] { HistoryScenario.GroupId })).GetProperty("groups")[0], "lastSeq");
        foreach (long? before in new long?[] { null, lastSeq / 2, 200 })
        {
            Bench.Log($"probe: GetMessages before {before?.ToString() ?? "(none)"}");
            await t.InvokeAsync("GetMessages", new { groupId = HistoryScenario.GroupId, before, limit = 50 });
        }
        return true;
    }
}
