using System.Text.Json;
using System.Text.RegularExpressions;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>One generated hub case: raw argument JSON (with «placeholders») and the codes that may answer it.</summary>
internal sealed record HubCase(string Target, string Label, string Caller, string Method, string Arguments, string[] Codes, string? Field = null);

/// <summary>One generated REST case: a percent-encoded path relative to /v1/apps/{app}, a body (null: none) and the codes that may answer it.</summary>
internal sealed record RestCase(string Target, string Label, string Method, string Path, string? Body, string[] Codes, string? Field = null);

/// <summary>The error codes of SPEC §4: name → (number, HTTP status). Written out here so that the server's enum is checked, not trusted.</summary>
internal static class SpecCodes
{
    public static readonly IReadOnlyDictionary<string, (int Number, int Http)> All = new Dictionary<string, (int, int)>(StringComparer.Ordinal)
    {
        ["InvalidArgument"] = (10001, 400), ["Unauthorized"] = (10002, 401), ["PermissionDenied"] = (10003, 403),
        ["GroupNotFound"] = (10004, 404), ["NotMember"] = (10005, 403), ["AlreadyMember"] = (10006, 409),
        ["GroupFull"] = (10007, 409), ["GroupIdTaken"] = (10008, 409), ["QuotaExceeded"] = (10009, 429),
        ["GroupDisabled"] = (10010, 403), ["OwnerCannotQuit"] = (10011, 409), ["AdminLimitReached"] = (10012, 409),
        ["MemberMuted"] = (10013, 403), ["Blocked"] = (10014, 403), ["ApplyNotAllowed"] = (10015, 403),
        ["InviteNotAllowed"] = (10016, 403), ["PendingNotFound"] = (10017, 404), ["PendingAlreadyHandled"] = (10018, 409),
        ["JoinedGroupLimit"] = (10019, 409), ["CallbackRejected"] = (10020, 403), ["RateLimited"] = (10021, 429),
        ["UnsupportedForGroupType"] = (10022, 400), ["UserNotFound"] = (10023, 404), ["VersionConflict"] = (10024, 409),
        ["InviteLinkInvalid"] = (10025, 404), ["Internal"] = (10099, 500),
    };
}

/// <summary>Turns the tables into cases, and judges answers.</summary>
internal static partial class SweepCases
{
    private static readonly string[] InvalidArgument = ["InvalidArgument"];

    private static string[] Codes(Mutation m) => [.. InvalidArgument, .. m.AlsoOk];

    private static string Render(IReadOnlyList<FieldSpec> fields, string? name = null, string? raw = null, string? extra = null)
    {
        var parts = new List<string>();
        foreach (var f in fields)
        {
            var value = f.Name == name ? raw : f.Base;
            if (value is not null) parts.Add($"\"{f.Name}\":{value}");
        }
        if (extra is not null) parts.Add(extra);
        return "{" + string.Join(',', parts) + "}";
    }

    /// <summary>Unknown, case-variant and duplicated keys of an object with these fields.</summary>
    private static IEnumerable<(string Label, string Json, string Field)> KeyCases(IReadOnlyList<FieldSpec> fields)
    {
        yield return ("unknown field 'bogus'", Render(fields, extra: "\"bogus\":1"), "bogus");
        yield return ("unknown field 'bogus' = null", Render(fields, extra: "\"bogus\":null"), "bogus");
        foreach (var f in fields)
        {
            var value = f.Base ?? "null";
            var pascal = char.ToUpperInvariant(f.Name[0]) + f.Name[1..];
            if (pascal != f.Name) yield return ($"case variant '{pascal}'", Render(fields, extra: $"\"{pascal}\":{value}"), pascal);
            var lower = f.Name.ToLowerInvariant();
            if (lower != f.Name) yield return ($"case variant '{lower}'", Render(fields, extra: $"\"{lower}\":{value}"), lower);
            if (f.Base is not null) yield return ($"'{f.Name}' twice", Render(fields, extra: $"\"{f.Name}\":{f.Base}"), f.Name);
        }
    }

    public static string HubBase(HubTarget t) =>
        t.Fields is { } fields ? $"[{Render(fields)}]" : "[" + string.Join(',', t.Positional.Select(p => p.Base)) + "]";

    public static IReadOnlyList<HubCase> Hub(HubTarget t)
    {
        var cases = new List<HubCase>();
        void Add(string label, string arguments, string[]? codes = null, string? field = null) =>
            cases.Add(new HubCase(t.Key, label, t.Caller, t.Method, arguments, codes ?? InvalidArgument, field));

        if (t.Fields is { } fields)
        {
            var obj = Render(fields);
            Add("argument count 0", "[]");
            Add("argument count 2", $"[{obj},{{}}]");
            Add("argument a string", "[\"x\"]");
            Add("argument a number", "[1]");
            Add("argument a bool", "[true]");
            Add("argument null", "[null]");
            Add("argument an empty array", "[[]]");
            Add("argument an array holding the object", $"[[{obj}]]");
            Add("argument nested 40 levels", $"[{Bad.Arr(40)}]");
            Add("argument objects nested 40 levels", $"[{Bad.Obj(40)}]");
            Add("argument nested 100 levels", $"[{Bad.Arr(100)}]");
            foreach (var (label, json, field) in KeyCases(fields)) Add(label, $"[{json}]", field: field);
            foreach (var f in fields)
                foreach (var m in Bad.ValuesFor(f))
                    Add($"{f.Name}: {m.Label}", $"[{Render(fields, f.Name, m.Raw)}]", Codes(m), Bad.BeyondReaderDepth(m.Raw) ? null : f.Name);
        }
        else
        {
            var bases = t.Positional.Select(p => p.Base!).ToList();
            if (bases.Count == 0)
            {
                Add("argument count 1: null", "[null]");
                Add("argument count 1: an object", "[{}]");
                Add("argument count 1: a string", "[\"x\"]");
            }
            for (var k = 0; k < bases.Count; k++) Add($"argument count {k}", "[" + string.Join(',', bases.Take(k)) + "]");
            if (bases.Count > 0) Add($"argument count {bases.Count + 1}", "[" + string.Join(',', bases) + ",\"x\"]");
            for (var i = 0; i < t.Positional.Count; i++)
            {
                var p = t.Positional[i];
                foreach (var m in Bad.ValuesFor(p).Where(m => m.Raw is not null))
                {
                    var args = bases.ToList();
                    args[i] = m.Raw!;
                    Add($"{p.Name}: {m.Label}", "[" + string.Join(',', args) + "]", Codes(m), Bad.BeyondReaderDepth(m.Raw) ? null : p.Name);
                }
            }
        }
        // Two mutations may make the same input (a lone required field missing is the empty object): it is one case.
        return cases.DistinctBy(c => c.Arguments).ToList();
    }

    private static string RestPath(RestTarget t, string? param = null, string? segment = null, string? query = null)
    {
        var path = t.Path;
        foreach (var p in t.PathParams) path = path.Replace("{" + p.Name + "}", p.Name == param ? segment : p.Base);
        var q = query ?? string.Join('&', t.Query.Where(x => x.Base is not null).Select(x => $"{x.Name}={x.Base}"));
        return q.Length == 0 ? path : path + "?" + q;
    }

    /// <summary>The query string with <paramref name="name"/> set to <paramref name="value"/> (added when the base lacks it).</summary>
    private static string QueryWith(RestTarget t, string name, string value) =>
        string.Join('&', t.Query.Where(x => x.Base is not null || x.Name == name).Select(x => $"{x.Name}={(x.Name == name ? value : x.Base)}"));

    public static (string Path, string? Body) RestBase(RestTarget t) => (RestPath(t), t.Body is { } body ? Render(body) : null);

    public static IReadOnlyList<RestCase> Rest(RestTarget t)
    {
        var cases = new List<RestCase>();
        var (basePath, baseBody) = RestBase(t);
        void Add(string label, string path, string? body, string[]? codes = null, string? field = null) =>
            cases.Add(new RestCase(t.Key, label, t.Method, path, body, codes ?? InvalidArgument, field));

        foreach (var p in t.PathParams)
            foreach (var m in Bad.SegmentsFor(p.Kind))
                Add($"{{{p.Name}}}: {m.Label}", RestPath(t, p.Name, m.Raw), baseBody);

        foreach (var q in t.Query)
        {
            var values = q.Cursor
                ? new (string Label, string Raw)[]
                {
                    ("garbage", "garbage"), ("NUL", "%00"), ("decodes to 0", "AAAAAAAAAAA"), ("lone surrogate", "%ED%A0%80"),
                    ("12 chars", "AAAAAAAAAAAB"), ("over-long (1000)", Bad.Rep("A", 1000)),
                }
                : new (string Label, string Raw)[]
                {
                    ($"below minimum ({q.Min - 1})", (q.Min - 1).ToString()), ($"above maximum ({(decimal)q.Max + 1})", ((decimal)q.Max + 1).ToString()),
                    ("negative", "-1"), ("fractional", "1.5"), ("1e400", "1e400"), ("not a number", "abc"), ("NUL", "%00"),
                    ("digit and NUL", "1%00"),
                    q.Max > int.MaxValue ? ("overflows int64", "99999999999999999999") : ("overflows int32", "99999999999"), ("hex", "0x10"), ("lone surrogate", "%ED%A0%80"),
                };
            foreach (var (label, raw) in values.DistinctBy(v => v.Raw))
                Add($"?{q.Name}: {label}", RestPath(t, query: QueryWith(t, q.Name, raw)), baseBody, field: q.Name);
            if (q.Base is not null)
                Add($"?{q.Name}: given twice", RestPath(t, query: QueryWith(t, q.Name, q.Base) + $"&{q.Name}={q.Base}"), baseBody, field: q.Name);
        }

        if (t.Body is { } fields)
        {
            var obj = baseBody!;
            Add("no body", basePath, null);
            Add("empty body", basePath, "");
            Add("body an array", basePath, "[]");
            Add("body a string", basePath, "\"x\"");
            Add("body a number", basePath, "1");
            Add("body null", basePath, "null");
            Add("body true", basePath, "true");
            Add("body an empty object", basePath, "{}");
            Add("body the object inside an array", basePath, $"[{obj}]");
            Add("truncated JSON", basePath, obj[..^1]);
            Add("invalid JSON value", basePath, "{\"a\":}");
            Add("two JSON values", basePath, obj + " {}");
            Add("a comment", basePath, "{/*c*/" + obj[1..]);
            Add("single quotes", basePath, "{'a':1}");
            Add("trailing comma", basePath, obj[..^1] + ",}");
            Add("body nested 40 levels", basePath, Bad.Arr(40));
            Add("body nested 100 levels", basePath, Bad.Arr(100));
            Add("body objects nested 100 levels", basePath, Bad.Obj(100));
            Add("body over 256 KiB", basePath, "{\"custom\":" + Bad.Q(Bad.Rep("x", 300 * 1024)) + "}");
            foreach (var (label, json, field) in KeyCases(fields)) Add(label, basePath, json, field: field);
            foreach (var f in fields)
                foreach (var m in Bad.ValuesFor(f))
                    Add($"{f.Name}: {m.Label}", basePath, Render(fields, f.Name, m.Raw), Codes(m), Bad.BeyondReaderDepth(m.Raw) ? null : f.Name);
        }
        return cases.DistinctBy(c => (c.Path, c.Body)).ToList();
    }

    [GeneratedRegex(@"^\[(\w+)\] \S")]
    private static partial Regex CodePrefix();

    /// <summary>Why a hub answer to a bad case is wrong, or null when it is a refusal with an expected spec code.</summary>
    public static string? Judge(HubCase c, HubAnswer a)
    {
        // The documented limit (README): a frame nested past the protocol's 64 levels cannot be read, so no
        // invocation exists to answer; the connection closes with the reader's reason instead.
        if (a.Kind == HubAnswerKind.Closed && Bad.BeyondReaderDepth(c.Arguments) && a.Detail.Contains("maximum configured depth", StringComparison.Ordinal))
            return null;
        if (a.Kind == HubAnswerKind.Closed) return $"code-less close instead of an error completion: {a.Detail}";
        if (a.Kind == HubAnswerKind.Timeout) return $"hang: {a.Detail}";
        if (a.HasResult) return "accepted: " + Abbrev.Of(a.Frame.GetProperty("result").GetRawText(), 200);
        if (a.Error is not { } error) return "accepted (a completion without error): " + a;
        var match = CodePrefix().Match(error);
        if (!match.Success) return "an error without a [Code] prefix: " + Abbrev.Of(error, 300);
        return CheckCode(match.Groups[1].Value, error, c.Codes, c.Field);
    }

    private static string? CheckCode(string code, string text, string[] expected, string? field)
    {
        if (!SpecCodes.All.ContainsKey(code)) return $"[{code}] is no spec code: {Abbrev.Of(text, 300)}";
        if (code == "Internal") return "Internal: " + Abbrev.Of(text, 300);
        if (!expected.Contains(code)) return $"[{code}] where {string.Join(" or ", expected)} was expected: {Abbrev.Of(text, 300)}";
        // SPEC §3: InvalidArgument "with a message naming the field".
        if (code == "InvalidArgument" && field is not null && !text.Contains(field, StringComparison.OrdinalIgnoreCase))
            return $"InvalidArgument not naming the field '{field}': {Abbrev.Of(text, 300)}";
        return null;
    }

    /// <summary>Why a REST answer to a bad case is wrong, or null when it is the SPEC §6 error body of an expected code with its status.</summary>
    public static string? Judge(RestCase c, RestAnswer a)
    {
        var status = (int)a.Status;
        if (status is >= 200 and < 300) return $"accepted: {a}";
        // The documented limit (README): Kestrel refuses a path with an encoded NUL while parsing the
        // request line, before any of the app runs, with an empty 400 no middleware can reach.
        if (status == 400 && a.Text.Length == 0 && c.Path.Contains("%00", StringComparison.Ordinal)) return null;
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(a.Text).RootElement.Clone();
        }
        catch (JsonException)
        {
            return $"no SPEC §6 error body: {a}";
        }
        if (body.ValueKind != JsonValueKind.Object
            || !body.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String
            || !body.TryGetProperty("code", out var number) || number.ValueKind != JsonValueKind.Number
            || !body.TryGetProperty("error_description", out var description) || description.ValueKind != JsonValueKind.String
            || description.GetString()!.Length == 0
            || !body.TryGetProperty("timestamp", out var timestamp) || timestamp.ValueKind != JsonValueKind.Number || timestamp.GetInt64() <= 0)
            return $"no SPEC §6 error body (error, code, error_description, timestamp): {a}";
        var code = error.GetString()!;
        if (status >= 500) return $"HTTP {status}: {a}";
        if (SpecCodes.All.TryGetValue(code, out var spec))
        {
            if (spec.Number != number.GetInt32()) return $"code {number.GetInt32()} is not the number of {code} ({spec.Number}): {a}";
            if (spec.Http != status) return $"HTTP {status} is not the status of {code} ({spec.Http}): {a}";
        }
        return CheckCode(code, $"HTTP {status} {code}: {description.GetString()}", c.Codes, c.Field);
    }
}
