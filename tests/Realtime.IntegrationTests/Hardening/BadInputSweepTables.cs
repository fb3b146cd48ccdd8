namespace Realtime.IntegrationTests.Hardening;

/// <summary>What a field holds, which decides its bad values (SPEC §1, §3, §4, §6).</summary>
internal enum FieldKind
{
    /// <summary>An existing group's id: auto (@RT#…) or custom (1–48 of [A-Za-z0-9_.-]).</summary>
    GroupId,
    /// <summary>A custom id for a new group: 1–48 of [A-Za-z0-9_.-], not starting with '@'.</summary>
    NewGroupId,
    /// <summary>1–64 of [A-Za-z0-9_.@-].</summary>
    UserId,
    /// <summary>A pending item's id (a UUID).</summary>
    PendingId,
    /// <summary>requestId / clientMsgId: 1–64 chars.</summary>
    Token,
    /// <summary>Free text of at most MaxLength code points.</summary>
    Text,
    /// <summary>A group name: 1–MaxLength after trimming, no '/'.</summary>
    Name,
    /// <summary>An absolute http(s) URL of at most MaxLength chars (or empty).</summary>
    FaceUrl,
    /// <summary>A 32-bit integer in [Min, Max].</summary>
    Int,
    /// <summary>A 64-bit integer in [Min, Max].</summary>
    Long,
    Bool,
    /// <summary>Exactly one of Names.</summary>
    Enum,
    /// <summary>A list of MinCount–100 user ids.</summary>
    UserIds,
    /// <summary>A list of 1–100 group ids (GetGroups' argument).</summary>
    GroupIds,
    /// <summary>Any JSON value without NUL or lone surrogates, nesting at most 32 levels, at most 8 KiB compact.</summary>
    Payload,
    /// <summary>Sync's { groupId: since | { since, epoch } }.</summary>
    SyncGroups,
    /// <summary>Group state keys (SPEC §9: 1–64 of [A-Za-z0-9_.:-]) to strings of at most MaxLength characters (attributes' set).</summary>
    StringMap,
    /// <summary>Group state keys to 64-bit integers (counters' increment/set, attributes' expectedVersions).</summary>
    LongMap,
    /// <summary>A list of group state keys (attributes' remove, the reads' keys).</summary>
    KeyList,
    /// <summary>A Web Push endpoint (SPEC §7): an https URL of at most 2048 chars a push may go to (the sweep's node allows http to loopback).</summary>
    PushEndpoint,
    /// <summary>A Web Push subscription's { p256dh: a P-256 point, auth: 16 bytes }, both base64url.</summary>
    PushKeys,
}

/// <summary>
/// One field (or positional hub argument, or REST path segment) with its value in the base request
/// (raw JSON with «placeholders», null = absent). The base request is valid — BadInputSweepControlTests
/// proves it — so a case that changes one field is refused because of that field.
/// </summary>
internal sealed record FieldSpec(string Name, FieldKind Kind, string? Base = null)
{
    /// <summary>null and absence are invalid (a required field, or one the rest of the base relies on).</summary>
    public bool Required { get; init; }

    public int MaxLength { get; init; }

    public long Min { get; init; }

    public long Max { get; init; }

    public int MinCount { get; init; } = 1;

    public string[] Names { get; init; } = [];

    /// <summary>The field is accepted and ignored (userIds of the Get*list methods): only values that cannot bind are bad.</summary>
    public bool Unused { get; init; }

    /// <summary>Further values this field refuses (rules beyond its kind).</summary>
    public (string Label, string Raw)[] AlsoInvalid { get; init; } = [];

    /// <summary>Spec codes besides InvalidArgument that may answer a number below Min (expectedVersion: VersionConflict).</summary>
    public string[] BelowMinAlsoOk { get; init; } = [];
}

/// <summary>One bad value of a field: raw JSON (null = leave the field out), and the codes besides InvalidArgument that may answer it.</summary>
internal sealed record Mutation(string Label, string? Raw, string[] AlsoOk);

internal static class Bad
{
    public const string Astral = "\U0001F600"; // one code point, two UTF-16 units

    public static string Q(string jsonText) => "\"" + jsonText + "\"";

    public static string Rep(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

    public static string Arr(int depth) => new string('[', depth) + new string(']', depth);

    public static string Obj(int depth) => Rep("{\"a\":", depth) + "1" + new string('}', depth);

    /// <summary>
    /// A value nested deeper than the 64 levels a JSON reader takes by default: it is refused as a document
    /// that cannot be read, so its InvalidArgument need not name the field (it must still be a coded refusal).
    /// </summary>
    public static bool BeyondReaderDepth(string? raw) => raw is not null && raw.Contains(new string('[', 64), StringComparison.Ordinal);

    /// <summary>Every bad JSON value for a field of the hub or a REST body, deduplicated by value.</summary>
    public static IReadOnlyList<Mutation> ValuesFor(FieldSpec f)
    {
        var list = new List<Mutation>();
        void Add(string label, string? raw, params string[] alsoOk) => list.Add(new Mutation(label, raw, alsoOk));

        if (f.Required)
        {
            Add("null (required)", "null");
            Add("missing (required)", null);
        }
        if (f.Kind is FieldKind.GroupId or FieldKind.NewGroupId or FieldKind.UserId or FieldKind.PendingId or FieldKind.Token
            or FieldKind.Text or FieldKind.Name or FieldKind.FaceUrl or FieldKind.PushEndpoint)
        {
            Add("wrong type: number", "1");
            Add("wrong type: bool", "true");
            Add("wrong type: object", "{}");
            Add("wrong type: array", "[]");
            Add("wrong type: array of strings", "[\"x\"]");
            Add("NUL inside", Q("a\\u0000b"));
            Add("NUL alone", Q("\\u0000"));
            Add("lone high surrogate", Q("\\ud800"));
            Add("lone low surrogate inside", Q("x\\udfffx"));
            Add("surrogates in the wrong order", Q("\\udc00\\ud800"));
        }
        switch (f.Kind)
        {
            case FieldKind.GroupId:
                Add("empty", Q(""));
                Add("space", Q("a b"));
                Add("starts with @", Q("@abc"));
                Add("malformed auto id", Q("@RT#abc"));
                Add("non-ASCII", Q("\\u00e9"));
                Add("slash", Q("a/b"));
                Add("over-long (49)", Q(Rep("g", 49)));
                break;
            case FieldKind.NewGroupId:
                Add("empty", Q(""));
                Add("space", Q("a b"));
                Add("starts with @", Q("@abc"));
                Add("auto id format (custom ids never start with @)", Q("@RT#AAAAAAAAAAAA"));
                Add("non-ASCII", Q("\\u00e9"));
                Add("slash", Q("a/b"));
                Add("over-long (49)", Q(Rep("g", 49)));
                break;
            case FieldKind.UserId:
                Add("empty", Q(""));
                Add("space", Q("a b"));
                Add("non-ASCII", Q("\\u00e9"));
                Add("slash", Q("a/b"));
                Add("hash", Q("a#b"));
                Add("over-long (65)", Q(Rep("u", 65)));
                break;
            case FieldKind.PendingId:
                Add("empty", Q(""));
                Add("not a UUID", Q("not-a-uuid"));
                Add("digits", Q("12345"));
                Add("UUID with a tail", Q("«P»x"));
                break;
            case FieldKind.Token:
                Add("empty", Q(""));
                Add("over-long (65)", Q(Rep("r", 65)));
                break;
            case FieldKind.Text:
                Add($"over-long ({f.MaxLength + 1})", Q(Rep("x", f.MaxLength + 1)));
                Add($"over-long ({f.MaxLength + 1} astral code points)", Q(Rep(Astral, f.MaxLength + 1)));
                break;
            case FieldKind.Name:
                Add("empty", Q(""));
                Add("blank", Q("   "));
                Add("slash", Q("a/b"));
                Add($"over-long ({f.MaxLength + 1})", Q(Rep("x", f.MaxLength + 1)));
                Add($"over-long ({f.MaxLength + 1} astral code points)", Q(Rep(Astral, f.MaxLength + 1)));
                break;
            case FieldKind.FaceUrl:
                Add("ftp URL", Q("ftp://example.com/f.png"));
                Add("relative URL", Q("example.com/f.png"));
                Add("not a URL", Q("not a url"));
                Add("javascript URL", Q("javascript:alert(1)"));
                Add($"over-long ({f.MaxLength + 1})", Q("https://example.com/" + Rep("f", f.MaxLength + 1 - "https://example.com/".Length)));
                break;
            case FieldKind.Int:
            case FieldKind.Long:
                var isInt = f.Kind == FieldKind.Int;
                Add("wrong type: numeric string", Q("1"));
                Add("wrong type: empty string", Q(""));
                Add("wrong type: bool", "true");
                Add("wrong type: object", "{}");
                Add("wrong type: array", "[1]");
                if (f.Min > (isInt ? int.MinValue : long.MinValue)) Add($"below minimum ({f.Min - 1})", (f.Min - 1).ToString(), f.BelowMinAlsoOk);
                if (f.Min > -1) Add("negative", "-1", f.BelowMinAlsoOk);
                if (f.Max < (isInt ? int.MaxValue : long.MaxValue)) Add($"above maximum ({f.Max + 1})", (f.Max + 1).ToString());
                Add("fractional", "1.5");
                Add("1e400", "1e400");
                Add("-1e400", "-1e400", f.BelowMinAlsoOk);
                if (isInt)
                {
                    Add("overflows int32", "2147483648");
                    Add("underflows int32", "-2147483649", f.BelowMinAlsoOk);
                }
                Add("overflows int64", "9223372036854775808");
                Add("underflows int64", "-9223372036854775809", f.BelowMinAlsoOk);
                break;
            case FieldKind.Bool:
                Add("wrong type: string \"true\"", Q("true"));
                Add("wrong type: string \"false\"", Q("false"));
                Add("wrong type: 1", "1");
                Add("wrong type: 0", "0");
                Add("wrong type: string \"yes\"", Q("yes"));
                Add("wrong type: empty string", Q(""));
                Add("wrong type: object", "{}");
                Add("wrong type: array", "[]");
                break;
            case FieldKind.Enum:
                string n0 = f.Names[0], n1 = f.Names[1], last = f.Names[^1];
                Add("lowercase", Q(n0.ToLowerInvariant()));
                Add("uppercase", Q(n0.ToUpperInvariant()));
                Add("camelCase", Q(char.ToLowerInvariant(last[0]) + last[1..]));
                Add("leading space", Q(" " + n0));
                Add("trailing space", Q(n0 + " "));
                Add("comma form", Q($"{n0}, {n1}"));
                Add("comma form without space", Q($"{n0},{n1}"));
                Add("integer", "1");
                Add("integer 0", "0");
                Add("numeric string", Q("1"));
                Add("numeric string 0", Q("0"));
                Add("unknown name", Q("Nope"));
                Add("empty", Q(""));
                Add("NUL after a name", Q(n0 + "\\u0000"));
                Add("lone surrogate", Q("\\ud800"));
                Add("wrong type: bool", "true");
                Add("wrong type: object", "{}");
                Add("wrong type: array", $"[{Q(n0)}]");
                break;
            case FieldKind.UserIds:
                Add("wrong type: string", Q("sw-q"));
                Add("wrong type: number", "1");
                Add("wrong type: object", "{}");
                Add("wrong type: bool", "true");
                Add("element a number", "[1]");
                Add("element an object", "[{}]");
                Add("element an array", "[[\"x\"]]");
                Add("element with NUL", "[\"a\\u0000\"]");
                Add("element a lone surrogate", "[\"\\ud800\"]");
                if (f.Unused) break;
                Add("element null", "[null]");
                if (f.MinCount > 0) Add("empty list", "[]");
                Add("element empty", "[\"\"]");
                Add("element with a space", "[\"a b\"]");
                Add("element non-ASCII", "[\"\\u00e9\"]");
                Add("element over-long (65)", $"[{Q(Rep("u", 65))}]");
                Add("101 users", "[" + string.Join(',', Enumerable.Range(0, 101).Select(i => Q($"sw-many-{i}"))) + "]");
                break;
            case FieldKind.GroupIds:
                Add("wrong type: string", Q("«GP»"));
                Add("wrong type: number", "1");
                Add("wrong type: object", "{}");
                Add("wrong type: bool", "true");
                Add("null", "null");
                Add("empty list", "[]");
                Add("element a number", "[1]");
                Add("element null", "[null]");
                Add("element an array", "[[\"x\"]]");
                Add("element empty", "[\"\"]");
                Add("element with a space", "[\"a b\"]");
                Add("element starting with @", "[\"@abc\"]");
                Add("element over-long (49)", $"[{Q(Rep("g", 49))}]");
                Add("element with NUL", "[\"a\\u0000\"]");
                Add("element a lone surrogate", "[\"\\ud800\"]");
                Add("101 groups", "[" + string.Join(',', Enumerable.Range(0, 101).Select(i => Q($"sweep-many-{i}"))) + "]");
                break;
            case FieldKind.Payload:
                Add("NUL in a string value", "{\"k\":\"a\\u0000\"}");
                Add("NUL in a key", "{\"k\\u0000\":1}");
                Add("a NUL string", Q("\\u0000"));
                Add("lone surrogate in a value", "[\"\\ud800\"]");
                Add("lone surrogate in a key", "{\"\\udc00\":1}");
                Add("nested 33 levels (limit 32)", Arr(33));
                Add("nested 40 levels", Arr(40));
                Add("objects nested 40 levels", Obj(40));
                Add("nested 100 levels", Arr(100));
                Add("over 8 KiB", "{\"k\":" + Q(Rep("x", 9000)) + "}");
                break;
            case FieldKind.SyncGroups:
                const string gp = "\"«GP»\"";
                Add("wrong type: array", "[]");
                Add("wrong type: string", Q("«GP»"));
                Add("wrong type: number", "1");
                Add("wrong type: bool", "true");
                Add("cursor negative", $"{{{gp}:-1}}");
                Add("cursor fractional", $"{{{gp}:1.5}}");
                Add("cursor 1e400", $"{{{gp}:1e400}}");
                Add("cursor overflows int64", $"{{{gp}:9223372036854775808}}");
                Add("cursor a numeric string", $"{{{gp}:\"0\"}}");
                Add("cursor null", $"{{{gp}:null}}");
                Add("cursor an array", $"{{{gp}:[0]}}");
                Add("cursor a bool", $"{{{gp}:true}}");
                Add("cursor object without since", $"{{{gp}:{{}}}}");
                Add("cursor object with only an epoch", $"{{{gp}:{{\"epoch\":\"«EPOCH»\"}}}}");
                Add("cursor object with an unknown field", $"{{{gp}:{{\"since\":0,\"bogus\":1}}}}");
                Add("cursor object with a case variant", $"{{{gp}:{{\"Since\":0}}}}");
                Add("cursor object with since twice", $"{{{gp}:{{\"since\":0,\"since\":0}}}}");
                Add("cursor object with epoch twice", $"{{{gp}:{{\"since\":0,\"epoch\":\"«EPOCH»\",\"epoch\":\"«EPOCH»\"}}}}");
                Add("since negative", $"{{{gp}:{{\"since\":-1}}}}");
                Add("since a string", $"{{{gp}:{{\"since\":\"0\"}}}}");
                Add("since fractional", $"{{{gp}:{{\"since\":0.5}}}}");
                Add("since an object", $"{{{gp}:{{\"since\":{Obj(3)}}}}}");
                Add("epoch empty", $"{{{gp}:{{\"since\":0,\"epoch\":\"\"}}}}");
                Add("epoch a number", $"{{{gp}:{{\"since\":0,\"epoch\":1}}}}");
                Add("epoch over-long (65)", $"{{{gp}:{{\"since\":0,\"epoch\":{Q(Rep("e", 65))}}}}}");
                Add("epoch with NUL", $"{{{gp}:{{\"since\":0,\"epoch\":\"e\\u0000\"}}}}");
                Add("epoch a lone surrogate", $"{{{gp}:{{\"since\":0,\"epoch\":\"\\ud800\"}}}}");
                Add("group id key with a space", "{\"a b\":0}");
                Add("group id key empty", "{\"\":0}");
                Add("group id key with NUL", "{\"a\\u0000\":0}");
                Add("group id key a lone surrogate", "{\"\\ud800\":0}");
                Add("group id key over-long (49)", $"{{{Q(Rep("g", 49))}:0}}");
                Add("the same group twice", $"{{{gp}:0,{gp}:0}}");
                Add("2001 groups", "{" + string.Join(',', Enumerable.Range(0, 2001).Select(i => $"\"sg{i}\":0")) + "}");
                Add("cursor nested 40 levels", $"{{{gp}:{Arr(40)}}}");
                break;
        }
        if (f.Kind is FieldKind.StringMap or FieldKind.LongMap or FieldKind.KeyList)
        {
            Add("wrong type: string", Q("k"));
            Add("wrong type: number", "1");
            Add("wrong type: bool", "true");
            Add(f.Kind == FieldKind.KeyList ? "wrong type: object" : "wrong type: array", f.Kind == FieldKind.KeyList ? "{}" : "[\"k\"]");
            var badKeys = new (string Label, string Key)[]
            {
                ("empty", ""), ("space", "a b"), ("slash", "a/b"), ("non-ASCII", "\\u00e9"), ("over-long (65)", Rep("k", 65)),
                ("NUL", "a\\u0000"), ("lone surrogate", "\\ud800"), ("surrogates in the wrong order", "\\udc00\\ud800"),
            };
            var okValue = f.Kind == FieldKind.StringMap ? Q("v") : "1";
            foreach (var (label, key) in badKeys)
                Add($"key {label}", f.Kind == FieldKind.KeyList ? $"[{Q(key)}]" : $"{{{Q(key)}:{okValue}}}");
            if (f.Kind == FieldKind.KeyList)
            {
                Add("element a number", "[1]");
                Add("element null", "[null]");
                Add("element an object", "[{}]");
                Add("element nested 40 levels", $"[{Arr(40)}]");
                if (f.MaxLength > 0) Add($"{f.MaxLength + 1} keys", "[" + string.Join(',', Enumerable.Range(0, f.MaxLength + 1).Select(i => Q($"k{i}"))) + "]");
            }
            else
            {
                Add("a key twice", $"{{\"k\":{okValue},\"k\":{okValue}}}");
                Add("value an object", "{\"k\":{}}");
                Add("value an array", "{\"k\":[1]}");
                Add("value nested 40 levels", $"{{\"k\":{Arr(40)}}}");
                Add("value a bool", "{\"k\":true}");
            }
            if (f.Kind == FieldKind.StringMap)
            {
                Add("value a number", "{\"k\":1}");
                Add("value null", "{\"k\":null}");
                Add("value with NUL", "{\"k\":\"a\\u0000\"}");
                Add("value a lone surrogate", "{\"k\":\"\\ud800\"}");
                Add($"value over-long ({f.MaxLength + 1})", $"{{\"k\":{Q(Rep("v", f.MaxLength + 1))}}}");
            }
            if (f.Kind == FieldKind.LongMap)
            {
                Add("value a numeric string", "{\"k\":\"1\"}");
                Add("value null", "{\"k\":null}");
                Add("value fractional", "{\"k\":1.5}");
                Add("value 1e400", "{\"k\":1e400}");
                Add("value overflows int64", "{\"k\":9223372036854775808}");
                Add("value underflows int64", "{\"k\":-9223372036854775809}");
            }
        }
        if (f.Kind == FieldKind.PushEndpoint)
        {
            Add("empty", Q(""));
            Add("relative URL", Q("push.example.com/x"));
            Add("not a URL", Q("not a url"));
            Add("ftp URL", Q("ftp://push.example.com/x"));
            Add("javascript URL", Q("javascript:alert(1)"));
            Add("http to a public host", Q("http://push.example.com/x"));
            Add("private IPv4", Q("https://10.0.0.1/x"));
            Add("private IPv4 (172.16/12)", Q("https://172.16.5.4/x"));
            Add("cloud metadata address", Q("https://169.254.169.254/latest/meta-data"));
            Add("unique-local IPv6", Q("https://[fd00::1]/x"));
            Add("unspecified address", Q("https://0.0.0.0/x"));
            Add("localhost by name", Q("https://localhost/x"));
            Add("user info", Q("https://user:pw@push.example.com/x"));
            Add("fragment", Q("https://push.example.com/x#f"));
            Add("space inside", Q("https://push.example.com/a b"));
            Add("non-ASCII", Q("https://push.example.com/\\u00e9"));
            Add("over-long (2049)", Q("https://push.example.com/" + Rep("e", 2049 - "https://push.example.com/".Length)));
        }
        if (f.Kind == FieldKind.PushKeys)
        {
            string Keys(string p256dh, string auth) => $"{{\"p256dh\":{p256dh},\"auth\":{auth}}}";
            var p = Q(SweepTables.PushP256dh);
            var a = Q(SweepTables.PushAuth);
            foreach (var (label, raw) in new[] { ("a number", "1"), ("a bool", "true"), ("an array", "[]"), ("an object", "{}"), ("NUL", Q("\\u0000")), ("a lone surrogate", Q("\\ud800")), ("null", "null"), ("empty", Q("")) })
            {
                Add($"p256dh {label}", Keys(raw, a));
                Add($"auth {label}", Keys(p, raw));
            }
            Add("wrong type: string", Q("x"));
            Add("wrong type: number", "1");
            Add("wrong type: bool", "true");
            Add("wrong type: array", $"[{p},{a}]");
            Add("empty object", "{}");
            Add("p256dh missing", $"{{\"auth\":{a}}}");
            Add("auth missing", $"{{\"p256dh\":{p}}}");
            Add("unknown field inside", $"{{\"p256dh\":{p},\"auth\":{a},\"bogus\":1}}");
            Add("case variant inside", $"{{\"P256dh\":{p},\"auth\":{a}}}");
            Add("p256dh twice", $"{{\"p256dh\":{p},\"p256dh\":{p},\"auth\":{a}}}");
            Add("p256dh standard base64 (+ and /)", Keys(Q(SweepTables.PushP256dh.Replace('-', '+').Replace('_', '/')), a));
            Add("p256dh with a space", Keys(Q(SweepTables.PushP256dh.Insert(20, " ")), a));
            Add("p256dh a point off the curve", Keys(Q(SweepTables.PushP256dh[..^1] + "g"), a));
            Add("p256dh compressed (33 bytes)", Keys(Q("Av3FTu8EsLVhiW6ZVJPPcNn-c4FyddsrE13KK37RRjBX"), a));
            Add("p256dh 65 bytes not starting with 04", Keys(Q("Bf" + SweepTables.PushP256dh[2..]), a));
            Add("p256dh over-long (10000)", Keys(Q(Rep("A", 10000)), a));
            Add("auth 15 bytes", Keys(p, Q("g3n_H1Auz7dssVOMH24e")));
            Add("auth 17 bytes", Keys(p, Q("MFFgfrABohDgLuOA7FKp0BU")));
            Add("auth not base64url", Keys(p, Q("Q2QhvcECg4rAlTcZ6BRYO!")));
        }
        if (f.Kind != FieldKind.Payload)
        {
            Add("nested 40 levels", Arr(40));
            Add("objects nested 40 levels", Obj(40));
            Add("nested 100 levels", Arr(100));
        }
        foreach (var (label, raw) in f.AlsoInvalid) Add(label, raw);
        return list.DistinctBy(m => m.Raw).ToList();
    }

    /// <summary>Bad path segments (already percent-encoded) for a REST path parameter of the given kind.</summary>
    public static IReadOnlyList<Mutation> SegmentsFor(FieldKind kind)
    {
        var list = new List<Mutation>();
        void Add(string label, string raw) => list.Add(new Mutation(label, raw, []));
        Add("NUL inside (%00)", "a%00b");
        Add("lone surrogate (UTF-8 of U+D800)", "%ED%A0%80");
        Add("space", "a%20b");
        Add("encoded slash", "a%2Fb");
        Add("non-ASCII", "%C3%A9");
        Add("emoji", "%F0%9F%98%80");
        switch (kind)
        {
            case FieldKind.GroupId or FieldKind.GroupIds:
                Add("starts with @", "%40abc");
                Add("malformed auto id", "%40RT%23abc");
                Add("over-long (49)", Rep("g", 49));
                if (kind == FieldKind.GroupId) Add("comma (two ids where one goes)", "a%2Cb");
                else
                {
                    Add("only a comma (no ids)", ",");
                    Add("101 ids", string.Join(',', Enumerable.Range(0, 101).Select(i => $"sweep-many-{i}")));
                }
                break;
            case FieldKind.UserId or FieldKind.UserIds:
                Add("hash", "a%23b");
                Add("over-long (65)", Rep("u", 65));
                if (kind == FieldKind.UserIds)
                {
                    Add("only a comma (no users)", ",");
                    Add("101 users", string.Join(',', Enumerable.Range(0, 101).Select(i => $"sw-many-{i}")));
                }
                break;
        }
        return list;
    }
}

/// <summary>A hub method: its caller, and either one object argument (Fields) or positional arguments.</summary>
internal sealed record HubTarget(string Key, string Method, string Caller, IReadOnlyList<FieldSpec>? Fields, IReadOnlyList<FieldSpec> Positional);

/// <summary>A REST query parameter: an integer in [Min, Max], or the opaque listing cursor.</summary>
internal sealed record QuerySpec(string Name, string? Base, long Min = 0, long Max = 0, bool Cursor = false);

/// <summary>A REST route: path template with {params}, query parameters and body fields (null: no body).</summary>
internal sealed record RestTarget(string Key, string Method, string Path, IReadOnlyList<FieldSpec> PathParams, IReadOnlyList<QuerySpec> Query, IReadOnlyList<FieldSpec>? Body);

/// <summary>The tables: every hub method of SPEC §4 and every REST route of SPEC §6, with a valid base request each.</summary>
internal static class SweepTables
{
    private static readonly string[] GroupTypes = ["Public", "Private", "ChatRoom", "AVChatRoom", "BChatRoom"];
    private static readonly string[] ApplyJoinOptions = ["NeedPermission", "FreeAccess", "DisableApply"];
    private static readonly string[] InviteOptions = ["AdminsOnly", "Anyone", "Disabled"];
    private static readonly string[] Roles = ["Member", "Admin", "Owner"];
    private static readonly string[] RecvOptions = ["ReceiveNoNotify", "Discard", "ReceiveAndNotify"];

    private static string Q(string s) => Bad.Q(s);

    private static FieldSpec Group(string name = "groupId", string placeholder = "«GP»") => new(name, FieldKind.GroupId, Q(placeholder)) { Required = true };

    private static FieldSpec User(string name, string placeholder, bool required = true) => new(name, FieldKind.UserId, Q(placeholder)) { Required = required };

    private static FieldSpec Rid(string name = "requestId") => new(name, FieldKind.Token, Q("«RID»"));

    private static FieldSpec Text(string name, int max, string? value) => new(name, FieldKind.Text, value is null ? null : Q(value)) { MaxLength = max };

    private static FieldSpec Int(string name, string? value, long min, long max = int.MaxValue) => new(name, FieldKind.Int, value) { Min = min, Max = max };

    private static FieldSpec Long(string name, string? value, long min, long max = long.MaxValue) => new(name, FieldKind.Long, value) { Min = min, Max = max };

    private static FieldSpec Bool(string name, string? value) => new(name, FieldKind.Bool, value);

    private static FieldSpec Enum(string name, string[] names, string? value) => new(name, FieldKind.Enum, value is null ? null : Q(value)) { Names = names };

    private static FieldSpec Users(string name, string? value, int minCount = 1) =>
        new(name, FieldKind.UserIds, value) { Required = minCount > 0, MinCount = minCount };

    private static FieldSpec Name(string name, string value, bool required) => new(name, FieldKind.Name, Q(value)) { MaxLength = 128, Required = required };

    private static FieldSpec Face(string name) => new(name, FieldKind.FaceUrl, Q("https://example.com/f.png")) { MaxLength = 512 };

    public static IReadOnlyList<HubTarget> Hub { get; } =
    [
        new("CreateGroup", "CreateGroup", "O",
        [
            new("groupId", FieldKind.NewGroupId, Q("«NEWG»")),
            Enum("type", GroupTypes, "Public") with { Required = true },
            Name("name", "Sweep new", required: true),
            Text("introduction", 512, "intro"),
            Text("notification", 1024, "note"),
            Face("faceUrl"),
            Int("maxMembers", "100", 1, 6000),
            Enum("applyJoinOption", ApplyJoinOptions, "FreeAccess"),
            Enum("inviteOption", InviteOptions, "Anyone"),
            Bool("inviteNeedsConfirm", "false"),
            Text("custom", 1024, "c"),
            Users("members", "[\"«M»\"]", minCount: 0),
            Rid(),
        ], []),
        new("GetGroups", "GetGroups", "O", null, [new("groupIds", FieldKind.GroupIds, "[\"«GP»\",\"«GV»\"]")]),
        new("SearchGroup", "SearchGroup", "X", null, [Group()]),
        new("UpdateGroupProfile", "UpdateGroupProfile", "O",
        [
            Group(),
            Name("name", "Sweep public 2", required: false),
            Text("introduction", 512, "intro"),
            Text("notification", 1024, "note"),
            Face("faceUrl"),
            Int("maxMembers", "50", 1, 6000),
            Enum("applyJoinOption", ApplyJoinOptions, "NeedPermission"),
            Enum("inviteOption", InviteOptions, "AdminsOnly"),
            Bool("inviteNeedsConfirm", "true"),
            Bool("muteAll", "false"),
            Text("custom", 1024, "c"),
            // A version that never was (0, -1) is stale: VersionConflict may answer as well.
            Int("expectedVersion", "«VER»", 1) with { BelowMinAlsoOk = ["VersionConflict"] },
            Rid(),
        ], []),
        new("DissolveGroup", "DissolveGroup", "O", null, [Group()]),
        new("TransferOwnership", "TransferOwnership", "O", null,
            [Group(), User("newOwnerId", "«M»") with { AlsoInvalid = [("the owner themself", Q("«O»"))] }]),
        new("GetJoinedGroups", "GetJoinedGroups", "M", [Int("offset", "0", 0), Int("limit", "10", 1, 1000), Rid()], []),
        new("InviteMembers", "InviteMembers", "O", [Group(), Users("userIds", "[\"«NEW»\"]"), Text("message", 256, "welcome"), Rid()], []),
        new("ApplyToJoin", "ApplyToJoin", "Y", [Group(), Text("message", 256, "hi"), Rid()], []),
        new("GetPendingItems", "GetPendingItems", "O", [Int("limit", "10", 1, 100), new("before", FieldKind.PendingId, Q("«P»")), Rid()], []),
        new("HandlePendingItem", "HandlePendingItem", "O",
        [
            new("pendingId", FieldKind.PendingId, Q("«P»")) { Required = true },
            Bool("approve", "false") with { Required = true },
            Text("reason", 256, "no"),
            Rid(),
        ], []),
        new("RemoveMembers", "RemoveMembers", "O", [Group(), Users("userIds", "[\"«M»\"]"), Text("reason", 256, "bye"), Rid()], []),
        new("QuitGroup", "QuitGroup", "M", null, [Group()]),
        new("GetMembers", "GetMembers", "O",
            [Group(), Int("offset", "0", 0), Int("limit", "10", 1, 500), Enum("role", Roles, "Member"), Rid()], []),
        new("UpdateMember/other", "UpdateMember", "O",
        [
            Group(),
            User("userId", "«M»"),
            Enum("role", Roles, "Member") with { AlsoInvalid = [("Owner (only TransferOwnership makes an owner)", Q("Owner"))] },
            Long("muteSeconds", "60", 0, 30L * 24 * 3600),
            Text("nameCard", 64, "nc"),
            Text("custom", 512, "c"),
            Enum("msgRecvOption", RecvOptions, null),
            Rid(),
        ], []),
        new("UpdateMember/self", "UpdateMember", "M",
            [Group(), User("userId", "«M»"), Text("nameCard", 64, "me"), Text("custom", 512, "c"), Enum("msgRecvOption", RecvOptions, "ReceiveNoNotify"), Rid()], []),
        new("AddToBlocklist", "AddToBlocklist", "O", [Group(), Users("userIds", "[\"«Z»\"]"), Rid()], []),
        new("RemoveFromBlocklist", "RemoveFromBlocklist", "O", [Group(), Users("userIds", "[\"«B»\"]"), Rid()], []),
        new("GetBlocklist", "GetBlocklist", "O", [Group(), new("userIds", FieldKind.UserIds) { Unused = true }, Rid()], []),
        new("AddToAllowlist", "AddToAllowlist", "O", [Group(), Users("userIds", "[\"«Z»\"]"), Rid()], []),
        new("RemoveFromAllowlist", "RemoveFromAllowlist", "O", [Group(), Users("userIds", "[\"«M»\"]"), Rid()], []),
        new("GetAllowlist", "GetAllowlist", "O", [Group(), new("userIds", FieldKind.UserIds) { Unused = true }, Rid()], []),
        new("SendMessage", "SendMessage", "M",
        [
            Group(),
            // The base has no payload, so the text is what makes it a message: without it the call is bad.
            Text("text", 4000, "hi") with
            {
                Required = true,
                AlsoInvalid = [("empty (and no payload)", Q("")), ("over-long (200 KiB, within the frame limit)", Q(Bad.Rep("x", 200 * 1024)))],
            },
            new("payload", FieldKind.Payload),
            Rid("clientMsgId"),
        ], []),
        new("Sync", "Sync", "M",
        [
            Long("systemSince", "0", 0),
            new("groups", FieldKind.SyncGroups, "{\"«GP»\":0,\"«GV»\":{\"since\":0,\"epoch\":\"«EPOCH»\"}}"),
            Int("limit", "100", 1, 1000),
            Rid(),
        ], []),
        new("WhoAmI", "WhoAmI", "O", null, []),
        // SPEC §9 group state.
        new("SetGroupAttributes", "SetGroupAttributes", "O",
        [
            Group(),
            new("set", FieldKind.StringMap, "{\"sweep\":\"v\"}") { MaxLength = 4096 },
            new("remove", FieldKind.KeyList, "[\"gone\"]"),
            // 0 = the key must not exist; a negative version never was.
            new("expectedVersions", FieldKind.LongMap, "{\"never\":0}") { AlsoInvalid = [("a negative version", "{\"never\":-1}")] },
            Rid(),
        ], []),
        new("GetGroupAttributes", "GetGroupAttributes", "M", [Group(), new("keys", FieldKind.KeyList, "[\"sweep\"]") { MaxLength = 32 }, Rid()], []),
        new("ChangeGroupCounters", "ChangeGroupCounters", "O",
            [Group(), new("increment", FieldKind.LongMap, "{\"sweep\":1}"), new("set", FieldKind.LongMap, "{\"sweep2\":5}"), Rid()], []),
        new("GetGroupCounters", "GetGroupCounters", "M", [Group(), new("keys", FieldKind.KeyList, "[\"sweep\"]") { MaxLength = 20 }, Rid()], []),
        new("MarkRead", "MarkRead", "M", [Group(), Long("seq", "«MSGSEQ»", 0) with { Required = true }, Rid()], []),
        new("GetReadCount", "GetReadCount", "M", [Group(), Long("seq", "«MSGSEQ»", 0) with { Required = true }, Rid()], []),
        new("GetReadMembers", "GetReadMembers", "M",
        [
            Group(), Long("seq", "«MSGSEQ»", 0) with { Required = true }, Bool("read", "true") with { Required = true },
            Int("offset", "0", 0), Int("limit", "10", 1, 500), Rid(),
        ], []),
        new("GetOnlineMembers", "GetOnlineMembers", "M", [Group(), Int("offset", "0", 0), Int("limit", "10", 1, 500), Rid()], []),
        // SPEC §9: history, invite links, search.
        new("GetMessages", "GetMessages", "M", [Group(), Long("before", "100", 1), Int("limit", "10", 1, 200), Rid()], []),
        new("CreateInviteLink", "CreateInviteLink", "O",
            [Group(), Int("maxUses", "10", 1, 100_000), Long("expiresInSeconds", "3600", 60, 30L * 24 * 3600), Bool("needsApproval", "false"), Rid()], []),
        new("GetInviteLinks", "GetInviteLinks", "O", [Group(), Rid()], []),
        new("RevokeInviteLink", "RevokeInviteLink", "O", [new("code", FieldKind.Token, Q("«LINK»")) { Required = true }, Rid()], []),
        new("JoinByInviteLink", "JoinByInviteLink", "Y", [new("code", FieldKind.Token, Q("«LINK»")) { Required = true }, Text("message", 256, "hi"), Rid()], []),
        new("SearchGroups", "SearchGroups", "X",
        [
            Text("query", 64, "Sweep") with { Required = true, AlsoInvalid = [("empty", Q(""))] },
            Int("limit", "10", 1, 50),
            new("cursor", FieldKind.Token) { AlsoInvalid = [("not one of ours", Q("AAAAAAAAAAAA")), ("garbage", Q("garbage!"))] },
            Rid(),
        ], []),
        new("SearchMembers", "SearchMembers", "O",
            [Group(), Text("query", 64, "sw") with { Required = true, AlsoInvalid = [("empty", Q(""))] }, Int("limit", "10", 1, 100), Rid()], []),
        new("RegisterPushSubscription", "RegisterPushSubscription", "M",
        [
            new("endpoint", FieldKind.PushEndpoint, Q("«EP»/new")) { Required = true },
            new("keys", FieldKind.PushKeys, PushKeys) { Required = true },
            Rid(),
        ], []),
        new("UnregisterPushSubscription", "UnregisterPushSubscription", "M",
            [new("endpoint", FieldKind.PushEndpoint, Q("«EP»")) { Required = true }, Rid()], []),
        new("GetWebPushKey", "GetWebPushKey", "M", null, []),
    ];

    /// <summary>A browser's P-256 public key and auth secret (base64url), as a subscription carries them.</summary>
    public const string PushP256dh = "BP3FTu8EsLVhiW6ZVJPPcNn-c4FyddsrE13KK37RRjBXnhUByc7Xn0eLwl2pMbD7teGUidBe1myujMAbuMUZR-k";
    public const string PushAuth = "Q2QhvcECg4rAlTcZ6BRYOw";

    /// <summary>A valid subscription's keys; SweepWorld registers them for M.</summary>
    public const string PushKeys = $"{{\"p256dh\":\"{PushP256dh}\",\"auth\":\"{PushAuth}\"}}";

    private static FieldSpec PathGroup(string name = "id") => new(name, FieldKind.GroupId, "«GP»");

    public static IReadOnlyList<RestTarget> Rest { get; } =
    [
        new("CreateChatGroup", "POST", "/chatgroups", [], [],
        [
            Name("groupname", "Sweep rest", required: true),
            Text("desc", 512, "d"),
            Text("description", 512, null) with { AlsoInvalid = [("given beside desc", Q("d2"))] },
            // No type in the base: `public` is what picks the type, so without it the call is bad.
            Bool("public", "true") with { Required = true },
            Int("maxusers", "100", 1, 6000),
            Bool("allowinvites", "true"),
            Bool("membersonly", "true"),
            Bool("invite_need_confirm", "false"),
            User("owner", "«O»"),
            Users("members", "[\"«M»\"]", minCount: 0),
            Text("custom", 1024, "c"),
            new("groupid", FieldKind.NewGroupId, Q("«RESTG»")),
            Enum("type", GroupTypes, null),
            Text("notification", 1024, "n"),
            Face("faceUrl"),
            Rid(),
        ]),
        new("ListChatGroups", "GET", "/chatgroups", [], [new("limit", "10", 1, 100), new("cursor", null, Cursor: true)], null),
        new("GetChatGroups", "GET", "/chatgroups/{ids}", [new("ids", FieldKind.GroupIds, "«GP»,«GV»")], [], null),
        new("ModifyChatGroup", "PUT", "/chatgroups/{id}", [PathGroup()], [],
        [
            Name("groupname", "Renamed", required: false),
            Text("description", 512, "d"),
            Int("maxusers", "100", 1, 6000),
            Bool("membersonly", "true"),
            Bool("allowinvites", "false"),
            Bool("invite_need_confirm", "true"),
            Text("custom", 1024, "c"),
            Text("notification", 1024, "n"),
            Face("faceUrl"),
            Bool("muteAll", "false"),
            Rid(),
        ]),
        new("DissolveChatGroup", "DELETE", "/chatgroups/{id}", [PathGroup()], [], null),
        new("DisableChatGroup", "POST", "/chatgroups/{id}/disable", [PathGroup()], [], null),
        new("EnableChatGroup", "POST", "/chatgroups/{id}/enable", [PathGroup()], [], null),
        new("TransferChatGroup", "PUT", "/chatgroups/{id}/owner", [PathGroup()], [],
            [User("newowner", "«M»") with { AlsoInvalid = [("the owner themself", Q("«O»"))] }]),
        new("GetJoinedChatGroups", "GET", "/users/{user}/joined_chatgroups", [new("user", FieldKind.UserId, "«O»")],
            [new("pagesize", "10", 1, 1000), new("pagenum", "1", 1, int.MaxValue / 1000)], null),
        new("GetChatGroupMembers", "GET", "/chatgroups/{id}/users", [PathGroup()],
            [new("pagenum", "1", 1, int.MaxValue / 1000), new("pagesize", "10", 1, 1000)], null),
        new("AddChatGroupMembers", "POST", "/chatgroups/{id}/users", [PathGroup()], [], [Users("usernames", "[\"«NEW2»\"]"), Bool("silent", "false")]),
        new("RemoveChatGroupMembers", "DELETE", "/chatgroups/{id}/users/{users}", [PathGroup(), new("users", FieldKind.UserIds, "«M»")], [], null),
        new("SetChatGroupAdmin", "POST", "/chatgroups/{id}/admin", [PathGroup()], [], [User("newadmin", "«M»")]),
        new("UnsetChatGroupAdmin", "DELETE", "/chatgroups/{id}/admin/{user}", [PathGroup(), new("user", FieldKind.UserId, "«A»")], [], null),
        new("MuteChatGroupMembers", "POST", "/chatgroups/{id}/mute", [PathGroup()], [],
            [Users("usernames", "[\"«M»\"]"), Long("mute_duration", "60000", 1, 30L * 24 * 3600 * 1000) with { Required = true }]),
        new("UnmuteChatGroupMembers", "DELETE", "/chatgroups/{id}/mute/{users}", [PathGroup(), new("users", FieldKind.UserIds, "«M»")], [], null),
        new("IssueUserToken", "POST", "/token", [], [], [User("username", "«TOK»"), Long("ttl", "3600", 1, 30L * 24 * 3600)]),
        // SPEC §9 group state.
        new("GetChatGroupAttributes", "GET", "/chatgroups/{id}/attributes", [PathGroup()], [], null),
        new("SetChatGroupAttributes", "PUT", "/chatgroups/{id}/attributes", [PathGroup()], [],
        [
            new("set", FieldKind.StringMap, "{\"sweep\":\"v\"}") { MaxLength = 4096 },
            new("remove", FieldKind.KeyList, "[\"gone\"]"),
            new("expectedVersions", FieldKind.LongMap, "{\"never\":0}") { AlsoInvalid = [("a negative version", "{\"never\":-1}")] },
            Rid(),
        ]),
        new("GetChatGroupCounters", "GET", "/chatgroups/{id}/counters", [PathGroup()], [], null),
        new("ChangeChatGroupCounters", "POST", "/chatgroups/{id}/counters", [PathGroup()], [],
            [new("increment", FieldKind.LongMap, "{\"sweep\":1}"), new("set", FieldKind.LongMap, "{\"sweep2\":5}"), Rid()]),
        new("GetChatGroupOnlineMembers", "GET", "/chatgroups/{id}/online", [PathGroup()], [new("offset", "0", 0, int.MaxValue), new("limit", "10", 1, 500)], null),
        new("GetChatGroupMessages", "GET", "/chatgroups/{id}/messages", [PathGroup()],
            [new("before", "100", 1, long.MaxValue), new("limit", "10", 1, 200)], null),
    ];
}
