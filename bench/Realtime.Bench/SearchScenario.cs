using System.Diagnostics;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.Bench;

/// <summary>
/// SearchGroups on an app seeded with many groups (bench/history.sh writes them): for each query kind
/// (one letter, a common prefix, a common word inside names, a rare substring, no match, a two-word
/// phrase) R sequential calls from one terminal, then R calls from each of 4 terminals at once, and a
/// walk of 10 pages by cursor. Latency is invoke → completion at the client. Checks that every answer
/// holds only names containing the query (case-insensitive) with prefix matches first, and that the
/// cursor walk repeats nothing.
/// </summary>
public static class SearchScenario
{
    internal static readonly (string Kind, string Query)[] Queries =
    [
        ("one letter", "a"),
        ("common prefix", "riv"),
        ("common word, inside names", "forest"),
        ("rare substring", "zq"),
        ("rare word", "quokka"),
        ("no match", "xylophonist"),
        ("two words", "silver river"),
    ];

    public static async Task<bool> RunAsync(Bench bench)
    {
        var rounds = bench.Options.Rounds;
        var terminals = await bench.ConnectAllAsync(Enumerable.Range(0, 4).Select(i => $"{bench.RunId}-q{i}").ToList());
        try
        {
            var one = terminals[0];
            var ok = true;
            // Untimed first calls (JIT, pools, plans).
            foreach (var (_, query) in Queries) await one.InvokeAsync("SearchGroups", new { query });

            Console.WriteLine($"## search: SearchGroups on the seeded app\n");
            Console.WriteLine($"{rounds} sequential calls per query from one terminal, then {rounds} per terminal from 4 at once; limit 20.\n");
            Console.WriteLine("| query | kind | results (first page) | sequential p50 ms | p95 | p99 | max | 4 at once p50 ms | p95 | p99 | max | calls/s (4 at once) |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var allSequential = new Latencies();
            var allConcurrent = new Latencies();
            foreach (var (kind, query) in Queries)
            {
                var sequential = new Latencies();
                var count = 0;
                for (var i = 0; i < rounds; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    var result = await one.InvokeAsync("SearchGroups", new { query });
                    var ms = Bench.Ms(t0, Stopwatch.GetTimestamp());
                    sequential.Add(ms);
                    allSequential.Add(ms);
                    if (i == 0)
                    {
                        var names = result.GetProperty("groups").EnumerateArray().Select(g => Bench.Str(g, "name")).ToList();
                        count = names.Count;
                        ok &= Check(query, names);
                    }
                }
                var concurrent = new Latencies();
                var start = Stopwatch.GetTimestamp();
                await Task.WhenAll(terminals.Select(async t =>
                {
                    for (var i = 0; i < rounds; i++)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        await t.InvokeAsync("SearchGroups", new { query });
                        var ms = Bench.Ms(t0, Stopwatch.GetTimestamp());
                        concurrent.Add(ms);
                        allConcurrent.Add(ms);
                    }
                }));
                var seconds = Bench.Ms(start, Stopwatch.GetTimestamp()) / 1000;
                Console.WriteLine($"| `{query}` | {kind} | {count} | {sequential.Cells} | {concurrent.Cells} | {concurrent.Count / seconds:0} |");
                Bench.Log($"search: '{query}' p99 {sequential.Percentile(99):0.0} ms sequential, {concurrent.Percentile(99):0.0} ms 4 at once");
            }
            Console.WriteLine($"| **all** | | | {allSequential.Cells} | {allConcurrent.Cells} | |");

            // A walk by cursor: 10 pages of a common word.
            var walk = new Latencies();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var repeated = 0;
            string? cursor = null;
            for (var page = 0; page < 10; page++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var result = await one.InvokeAsync("SearchGroups", new { query = "forest", limit = 50, cursor });
                walk.Add(Bench.Ms(t0, Stopwatch.GetTimestamp()));
                foreach (var g in result.GetProperty("groups").EnumerateArray())
                    if (!seen.Add(Bench.Str(g, "groupId"))) repeated++;
                if (!result.TryGetProperty("cursor", out var next)) break;
                cursor = next.GetString();
            }
            ok &= repeated == 0;
            Console.WriteLine($"\nCursor walk, `forest`, limit 50: {walk.Count} pages, {seen.Count} groups, {repeated} repeated; page p50 / p95 / max " +
                              $"{walk.Percentile(50):0.0} / {walk.Percentile(95):0.0} / {walk.Percentile(100):0.0} ms.\n");
            return ok;
        }
        finally
        {
            await Bench.CloseAllAsync(terminals);
        }
    }

    /// <summary>Every name contains the query (case-insensitive), and names starting with it come first.</summary>
    private static bool Check(string query, List<string> names)
    {
        var q = query.ToLowerInvariant();
        var contains = names.All(n => n.ToLowerInvariant().Contains(q, StringComparison.Ordinal));
        var prefixes = names.Select(n => n.ToLowerInvariant().StartsWith(q, StringComparison.Ordinal)).ToList();
        var prefixFirst = prefixes.SkipWhile(p => p).All(p => !p);
        if (!contains || !prefixFirst) Bench.Log($"search: '{query}' answered wrongly: {string.Join(" | ", names)}");
        return contains && prefixFirst;
    }
}
