using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>A REST answer as it came: the status and the body text (possibly empty or not JSON).</summary>
internal sealed record RestAnswer(HttpStatusCode Status, string Text)
{
    public override string ToString() => $"HTTP {(int)Status} {(Text.Length == 0 ? "(empty body)" : Abbrev.Of(Text, 300))}";
}

/// <summary>The admin REST API with verbatim paths and bodies; never throws on what the server answers.</summary>
internal sealed class SweepRest : IDisposable
{
    private readonly HttpClient _http;

    public SweepRest(RealtimeNode node)
    {
        _http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Issue("backend", admin: true));
    }

    /// <summary>
    /// <paramref name="path"/> (already percent-encoded as it should go on the wire) is relative to
    /// /v1/apps/{app}; <paramref name="body"/> goes as application/json when not null.
    /// </summary>
    public async Task<RestAnswer> SendAsync(string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/v1/apps/{RealtimeNode.App}{path}");
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        return new RestAnswer(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A call that must succeed: answers `data` (and `count` when paged) as JSON text.</summary>
    public async Task<string> DataAsync(string method, string path, string? body = null)
    {
        var answer = await SendAsync(method, path, body);
        if (answer.Status != HttpStatusCode.OK) throw new InvalidOperationException($"{method} {path} failed: {answer}");
        var json = JsonDocument.Parse(answer.Text).RootElement;
        return json.GetProperty("data").GetRawText() + (json.TryGetProperty("count", out var count) ? " count=" + count.GetRawText() : "");
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// The small world the sweep runs against: an owner O, an admin A, a member M of a Public group GP
/// (O, A, M; B on its blocklist, M on its allowlist, one message) and a Private group GV (O, M), an
/// outsider X with a pending join request P to GP, and the users the bases of the cases name (Y applies,
/// NEW is invited, ...). Case templates name them by placeholder («GP», «P», ...); <see cref="Fill"/>
/// puts in this world's values. A suffix gives every world its own users and ids.
/// </summary>
internal sealed class SweepWorld : IAsyncDisposable
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private int _requestIds;

    private SweepWorld(RealtimeNode node, string suffix, bool messagePack)
    {
        Node = node;
        Suffix = suffix;
        Hub = new SweepSockets(node.HubUrl, messagePack);
        Rest = new SweepRest(node);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["O"] = "sw-o", ["A"] = "sw-a", ["M"] = "sw-m", ["X"] = "sw-x", ["Y"] = "sw-y", ["B"] = "sw-b", ["Z"] = "sw-z",
            ["NEW"] = "sw-new", ["NEW2"] = "sw-new2", ["TOK"] = "sw-tok",
            ["GP"] = "sweep-pub", ["GV"] = "sweep-priv", ["NEWG"] = "sweep-new", ["RESTG"] = "sweep-rest",
            // M's Web Push endpoint: port 9 on loopback, where nothing listens (and nothing is pushed during the sweep).
            ["EP"] = "http://127.0.0.1:9/push/sweep",
        })
            _values[key] = value + suffix;
    }

    public RealtimeNode Node { get; }

    public string Suffix { get; }

    public SweepSockets Hub { get; }

    public SweepRest Rest { get; }

    /// <summary>A placeholder's value: O, A, M, X, Y, B, Z, NEW, NEW2, TOK (users); GP, GV, NEWG, RESTG (groups); P, VER, EPOCH, LINK (an invite link to GP); EP (M's push endpoint).</summary>
    public string this[string key] => _values[key];

    /// <summary>The users whose reads make up the snapshot.</summary>
    public IEnumerable<string> Users => new[] { "O", "A", "M", "X", "Y", "B", "Z", "NEW", "NEW2", "TOK" }.Select(k => _values[k]);

    /// <summary>Builds the world; with <paramref name="messagePack"/> every hub call of it (and of the sweep) speaks MessagePack.</summary>
    public static async Task<SweepWorld> BuildAsync(RealtimeNode node, string suffix = "", bool messagePack = false)
    {
        var w = new SweepWorld(node, suffix, messagePack);
        string O = w["O"], A = w["A"], M = w["M"], X = w["X"], B = w["B"], GP = w["GP"], GV = w["GV"];
        await w.Hub.CallAsync(O, "CreateGroup", $$"""[{"groupId":"{{GP}}","type":"Public","name":"Sweep public","members":["{{A}}","{{M}}"]}]""");
        await w.Hub.CallAsync(O, "CreateGroup", $$"""[{"groupId":"{{GV}}","type":"Private","name":"Sweep private","members":["{{M}}"]}]""");
        await w.Hub.CallAsync(O, "UpdateMember", $$"""[{"groupId":"{{GP}}","userId":"{{A}}","role":"Admin"}]""");
        await w.Hub.CallAsync(O, "AddToBlocklist", $$"""[{"groupId":"{{GP}}","userIds":["{{B}}"]}]""");
        await w.Hub.CallAsync(O, "AddToAllowlist", $$"""[{"groupId":"{{GP}}","userIds":["{{M}}"]}]""");
        var sent = await w.Hub.CallAsync(O, "SendMessage", $$"""[{"groupId":"{{GP}}","text":"hello"}]""");
        w._values["MSGSEQ"] = sent.Long("seq").ToString(System.Globalization.CultureInfo.InvariantCulture);
        var applied = await w.Hub.CallAsync(X, "ApplyToJoin", $$"""[{"groupId":"{{GP}}","message":"let me in"}]""");
        if (applied.Str("result") != "Pending") throw new InvalidOperationException($"X's application was not left pending: {applied}");
        w._values["P"] = applied.Str("pendingId");
        await w.Hub.CallAsync(M, "RegisterPushSubscription", $$"""[{"endpoint":"{{w["EP"]}}","keys":{{SweepTables.PushKeys}}}]""");
        var groups = await w.Hub.CallAsync(O, "GetGroups", $$"""[["{{GP}}"]]""");
        w._values["VER"] = groups.GetProperty("groups")[0].Long("version").ToString(System.Globalization.CultureInfo.InvariantCulture);
        var joined = await w.Hub.CallAsync(O, "GetJoinedGroups", """[{"limit":1000}]""");
        w._values["EPOCH"] = joined.GetProperty("groups").EnumerateArray().Single(g => g.Str("groupId") == GV).Str("epoch");
        var link = await w.Hub.CallAsync(O, "CreateInviteLink", $$"""[{"groupId":"{{GP}}","maxUses":5}]""");
        w._values["LINK"] = link.Str("code");
        return w;
    }

    /// <summary>The template with this world's values; «RID» becomes a request id used by no other call.</summary>
    public string Fill(string template)
    {
        if (!template.Contains('«')) return template;
        var text = new StringBuilder(template.Length);
        var at = 0;
        while (true)
        {
            var open = template.IndexOf('«', at);
            if (open < 0) break;
            var close = template.IndexOf('»', open);
            text.Append(template, at, open - at);
            var key = template[(open + 1)..close];
            text.Append(key == "RID" ? $"rid-{Suffix}-{++_requestIds}" : _values[key]);
            at = close + 1;
        }
        return text.Append(template, at, template.Length - at).ToString();
    }

    /// <summary>
    /// Everything a refused case could have changed, read back: the groups' full profiles (version, lastSeq,
    /// memberCount, ...), member lists, block- and allowlists; each user's joined groups, pending items and
    /// system stream position; the app's group listing and details through REST.
    /// </summary>
    public async Task<SortedDictionary<string, string>> SnapshotAsync()
    {
        var s = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string O = this["O"], GP = this["GP"], GV = this["GV"];
        s["GetGroups"] = (await Hub.CallAsync(O, "GetGroups", $$"""[["{{GP}}","{{GV}}"]]""")).GetRawText();
        foreach (var g in new[] { GP, GV })
        {
            s[$"GetMembers {g}"] = (await Hub.CallAsync(O, "GetMembers", $$"""[{"groupId":"{{g}}","limit":500}]""")).GetRawText();
            s[$"GetBlocklist {g}"] = (await Hub.CallAsync(O, "GetBlocklist", $$"""[{"groupId":"{{g}}"}]""")).GetRawText();
            s[$"GetAllowlist {g}"] = (await Hub.CallAsync(O, "GetAllowlist", $$"""[{"groupId":"{{g}}"}]""")).GetRawText();
            s[$"GetGroupAttributes {g}"] = (await Hub.CallAsync(O, "GetGroupAttributes", $$"""[{"groupId":"{{g}}"}]""")).GetRawText();
            s[$"GetGroupCounters {g}"] = (await Hub.CallAsync(O, "GetGroupCounters", $$"""[{"groupId":"{{g}}"}]""")).GetRawText();
            s[$"GetInviteLinks {g}"] = (await Hub.CallAsync(O, "GetInviteLinks", $$"""[{"groupId":"{{g}}"}]""")).GetRawText();
        }
        foreach (var user in Users)
        {
            s[$"{user} GetJoinedGroups"] = (await Hub.CallAsync(user, "GetJoinedGroups", """[{"limit":1000}]""")).GetRawText();
            s[$"{user} GetPendingItems"] = (await Hub.CallAsync(user, "GetPendingItems", """[{"limit":100}]""")).GetRawText();
            var system = (await Hub.CallAsync(user, "Sync", """[{"systemSince":0,"limit":1000}]""")).GetProperty("system");
            s[$"{user} Sync system"] = $"next={system.Long("next")} hasMore={system.Bool("hasMore")} items={system.GetProperty("items").GetArrayLength()}";
        }
        s["REST GET /chatgroups"] = await Rest.DataAsync("GET", "/chatgroups?limit=100");
        // Push subscriptions have no read method: read from the database (each world has its own users).
        await using (var c = await Node.Services.GetRequiredService<Realtime.Server.Data.Db>().OpenAsync(CancellationToken.None))
            s["push_subscriptions"] = string.Join("; ", await Dapper.SqlMapper.QueryAsync<string>(c,
                "SELECT user_id || ' ' || endpoint || ' ' || p256dh || ' ' || auth || ' ' || updated_at FROM push_subscriptions WHERE user_id = ANY(@users) ORDER BY id",
                new { users = Users.ToArray() }));
        s["REST GET /chatgroups/{GP},{GV}"] = await Rest.DataAsync("GET", $"/chatgroups/{GP},{GV}");
        return s;
    }

    /// <summary>The entries of <paramref name="after"/> that differ from <paramref name="before"/>, described.</summary>
    public static List<string> Diff(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after)
    {
        var diffs = new List<string>();
        foreach (var key in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var b = before.GetValueOrDefault(key);
            var a = after.GetValueOrDefault(key);
            if (b != a) diffs.Add($"{key} changed:\n      before {Around(b ?? "(none)", a ?? "")}\n      after  {Around(a ?? "(none)", b ?? "")}");
        }
        return diffs;
    }

    /// <summary>The part of <paramref name="text"/> around where it first differs from <paramref name="other"/>.</summary>
    private static string Around(string text, string other)
    {
        var at = 0;
        while (at < text.Length && at < other.Length && text[at] == other[at]) at++;
        var from = Math.Max(0, at - 200);
        var part = text.Substring(from, Math.Min(text.Length - from, 400));
        return (from > 0 ? "…" : "") + part + (from + part.Length < text.Length ? "…" : "");
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        Rest.Dispose();
    }
}
