using System.Reflection;
using System.Text.RegularExpressions;
using Realtime.Server.Hubs;

namespace Realtime.UnitTests.Hubs;

/// <summary>docs/hub-api.md names exactly the hub's methods: GroupHub's client-callable ones and IGroupClient's.</summary>
public sealed partial class HubApiReferenceTests
{
    private const string ClientToServer = "## Client → server methods";
    private const string ServerToClient = "## Server → client methods";

    [Fact]
    public void Reference_ClientCallableMethods_AreExactlyGroupHubs()
    {
        var hub = typeof(GroupHub).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            // What SignalR dispatches: public methods of the hub class, not Hub's own (OnConnectedAsync, Dispose, ...)
            // nor property accessors.
            .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == typeof(GroupHub))
            .Select(m => m.Name);

        AssertSame(hub, Documented(ClientToServer), "GroupHub");
    }

    [Fact]
    public void Reference_ServerToClientMethods_AreExactlyIGroupClients()
    {
        AssertSame(typeof(IGroupClient).GetMethods().Select(m => m.Name), Documented(ServerToClient), "IGroupClient");
    }

    [Fact]
    public void Reference_EveryClientMethod_HasRequestResultAndErrors()
    {
        foreach (var (name, body) in Sections(ClientToServer))
            foreach (var part in new[] { "**Request**", "**Result**", "**Errors**" })
                Assert.True(body.Contains(part, StringComparison.Ordinal), $"docs/hub-api.md: {name} has no {part}");
    }

    private static void AssertSame(IEnumerable<string> actual, IReadOnlyList<string> documented, string owner)
    {
        var code = actual.ToHashSet(StringComparer.Ordinal);
        var missing = code.Except(documented).Order().ToList();
        var stale = documented.Except(code).Order().ToList();
        Assert.True(missing.Count == 0, $"docs/hub-api.md lacks {owner} methods: {string.Join(", ", missing)}");
        Assert.True(stale.Count == 0, $"docs/hub-api.md lists methods {owner} does not have: {string.Join(", ", stale)}");
        Assert.Equal(documented.Count, documented.Distinct().Count());
    }

    private static IReadOnlyList<string> Documented(string section) => Sections(section).Select(s => s.Name).ToList();

    /// <summary>The `### `Name`` entries of one `##` section, with their text.</summary>
    private static IEnumerable<(string Name, string Body)> Sections(string heading)
    {
        var text = File.ReadAllText(ReferencePath());
        var start = text.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/hub-api.md has no '{heading}'");
        var end = text.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        var section = end < 0 ? text[start..] : text[start..end];
        var entries = Entry().Matches(section);
        for (var i = 0; i < entries.Count; i++)
        {
            var bodyEnd = i + 1 < entries.Count ? entries[i + 1].Index : section.Length;
            yield return (entries[i].Groups[1].Value, section[entries[i].Index..bodyEnd]);
        }
    }

    private static string ReferencePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "hub-api.md");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("docs/hub-api.md not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^### `(\w+)`", RegexOptions.Multiline)]
    private static partial Regex Entry();
}
