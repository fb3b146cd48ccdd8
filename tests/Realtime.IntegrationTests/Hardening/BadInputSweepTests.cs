using System.Diagnostics;
using System.Text;
using Realtime.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Realtime.IntegrationTests.Hardening;

/// <summary>A node on its own database with the sweep's world built once, and its state read back before any case.</summary>
public class SweepFixture : IAsyncLifetime
{
    private readonly SweepServerFixture _server = new();

    /// <summary>Whether the world and the sweep speak the MessagePack hub protocol.</summary>
    protected virtual bool MessagePack => false;

    internal SweepWorld World { get; private set; } = null!;

    internal SortedDictionary<string, string> Initial { get; private set; } = null!;

    /// <summary>The state read after the latest batch (the tests of a class run one at a time): the next batch's "before".</summary>
    internal SortedDictionary<string, string> Latest { get; set; } = null!;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        World = await SweepWorld.BuildAsync(_server.Node, messagePack: MessagePack);
        Initial = Latest = await World.SnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        if (World is not null) await World.DisposeAsync();
        await _server.DisposeAsync();
    }
}

/// <summary>The sweep's node: Web Push configured (its methods are in the tables), http to loopback endpoints allowed.</summary>
public sealed class SweepServerFixture : ServerFixture
{
    private static readonly (string PublicKey, string PrivateKey) Vapid = Realtime.Server.WebPush.VapidKeys.Generate();

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        [$"Realtime:Apps:{RealtimeNode.App}:WebPush:PublicKey"] = Vapid.PublicKey,
        [$"Realtime:Apps:{RealtimeNode.App}:WebPush:PrivateKey"] = Vapid.PrivateKey,
        [$"Realtime:Apps:{RealtimeNode.App}:WebPush:Subject"] = "mailto:sweep@example.com",
        ["Realtime:WebPush:AllowLoopbackHttp"] = "true",
    };
}

/// <summary>
/// The generated bad-input sweep (issue "Hardening"): every hub method of SPEC §4 and every admin REST route of
/// SPEC §6 × wrong JSON type, null, missing, unknown/case-variant/duplicate keys, out-of-range numbers, enum forms
/// (case, spaces, "A, B", integers, unknown names), NUL, lone surrogates, over-long values, deep nesting, wrong
/// argument counts and shapes, malformed bodies, bad path segments and query values (BadInputSweepTables and
/// Bad.ValuesFor hold the table and the mutations). Each case must be refused with a SPEC §4 code — InvalidArgument
/// naming the field, unless the case lists another — never Internal, never a 5xx, never a code-less answer or close;
/// REST answers carry the code's status and the SPEC §6 error body. The world's state is read back around every
/// method's batch and must be what it was before the sweep. Hub frames are raw, so no client library fixes an input;
/// frames over the hub's 256 KiB limit must close the connection cleanly. BadInputSweepControlTests proves every
/// base request valid, so each refusal is the mutation's doing.
/// </summary>
public sealed class BadInputSweepTests(SweepFixture fixture, ITestOutputHelper output) : IClassFixture<SweepFixture>
{
    private SweepWorld World => fixture.World;

    public static TheoryData<string> HubTargets()
    {
        var data = new TheoryData<string>();
        foreach (var t in SweepTables.Hub) data.Add(t.Key);
        return data;
    }

    public static TheoryData<string> RestTargets()
    {
        var data = new TheoryData<string>();
        foreach (var t in SweepTables.Rest) data.Add(t.Key);
        return data;
    }

    [Fact]
    public void CaseCounts()
    {
        var hub = SweepTables.Hub.Sum(t => SweepCases.Hub(t).Count) + ProtocolFrames.Count + OversizedFrames.Count;
        var rest = SweepTables.Rest.Sum(t => SweepCases.Rest(t).Count);
        foreach (var t in SweepTables.Hub) output.WriteLine($"hub  {t.Key,-22} {SweepCases.Hub(t).Count,5}");
        output.WriteLine($"hub  {"(protocol frames)",-22} {ProtocolFrames.Count,5}");
        output.WriteLine($"hub  {"(oversized frames)",-22} {OversizedFrames.Count,5}");
        foreach (var t in SweepTables.Rest) output.WriteLine($"rest {t.Key,-22} {SweepCases.Rest(t).Count,5}");
        output.WriteLine($"generated cases: hub {hub}, REST {rest}, total {hub + rest}");
        Assert.True(hub > 1000 && rest > 500, $"the tables generate too few cases: hub {hub}, REST {rest}");
    }

    [Theory]
    [MemberData(nameof(HubTargets))]
    public Task Hub(string target) => HubSweepAsync(fixture, output, target);

    /// <summary>Every generated case of one hub method, sent over the fixture's protocol.</summary>
    internal static async Task HubSweepAsync(SweepFixture fixture, ITestOutputHelper output, string target)
    {
        var world = fixture.World;
        var cases = SweepCases.Hub(SweepTables.Hub.Single(t => t.Key == target));
        await SweepAsync(fixture, output, target, cases.Count, async failures =>
        {
            foreach (var c in cases)
            {
                var socket = await world.Hub.OfAsync(world[c.Caller]);
                var arguments = world.Fill(c.Arguments);
                var problem = SweepCases.Judge(c, await socket.InvokeAsync(c.Method, arguments));
                if (problem is not null) failures.Add((c.Label, $"{c.Method}({Abbrev.Of(arguments, 140)})", problem));
            }
        });
    }

    [Theory]
    [MemberData(nameof(RestTargets))]
    public async Task Rest(string target)
    {
        var cases = SweepCases.Rest(SweepTables.Rest.Single(t => t.Key == target));
        await SweepAsync(fixture, output, target, cases.Count, async failures =>
        {
            foreach (var c in cases)
            {
                var path = World.Fill(c.Path);
                var body = c.Body is null ? null : World.Fill(c.Body);
                var problem = SweepCases.Judge(c, await World.Rest.SendAsync(c.Method, path, body));
                if (problem is not null) failures.Add((c.Label, $"{c.Method} {Abbrev.Of(path, 100)} {(body is null ? "(no body)" : Abbrev.Of(body, 120))}", problem));
            }
        });
    }

    /// <summary>Frames that are no valid invocation: a completion with a spec code, or a close with a reason; never a hang.</summary>
    private static readonly IReadOnlyList<(string Label, byte[] Frame, string? InvocationId)> ProtocolFrames =
    [
        Frame("arguments missing", """{"type":1,"invocationId":"p1","target":"WhoAmI"}""", "p1"),
        Frame("arguments an object", """{"type":1,"invocationId":"p2","target":"CreateGroup","arguments":{}}""", "p2"),
        Frame("arguments null", """{"type":1,"invocationId":"p3","target":"CreateGroup","arguments":null}""", "p3"),
        Frame("arguments a string", """{"type":1,"invocationId":"p4","target":"CreateGroup","arguments":"x"}""", "p4"),
        Frame("invocationId a number", """{"type":1,"invocationId":5,"target":"WhoAmI","arguments":[]}""", null),
        Frame("target a number", """{"type":1,"invocationId":"p6","target":5,"arguments":[]}""", "p6"),
        Frame("target missing", """{"type":1,"invocationId":"p7","arguments":[]}""", "p7"),
        Frame("type missing", """{"invocationId":"p8","target":"WhoAmI","arguments":[]}""", "p8"),
        Frame("type a string", """{"type":"1","invocationId":"p9","target":"WhoAmI","arguments":[]}""", "p9"),
        Frame("not JSON", "not json", null),
        Frame("invalid UTF-8 (an encoded surrogate)", """{"type":1,"invocationId":"p11","target":"SearchGroup","arguments":["¤"]}""", "p11", [0xED, 0xA0, 0x80]),
        Frame("a raw NUL byte inside a string", """{"type":1,"invocationId":"p12","target":"SearchGroup","arguments":["a¤b"]}""", "p12", [0x00]),
        // A stream invocation of a method that is no stream, and stream ids a method does not take: refused with a code, and
        // not run (the CreateGroup arguments are valid: if it ran, the snapshot would show a new group).
        Frame("stream invocation of a non-stream method", """{"type":4,"invocationId":"p13","target":"CreateGroup","arguments":[{"type":"Public","name":"streamed","groupId":"sweep-streamed"}]}""", "p13"),
        Frame("stream ids on a method without streams", """{"type":1,"invocationId":"p14","target":"CreateGroup","arguments":[{"type":"Public","name":"streamed","groupId":"sweep-streamed2"}],"streamIds":["x"]}""", "p14"),
    ];

    /// <summary>A frame's bytes; the one '¤' of <paramref name="json"/> becomes <paramref name="raw"/> bytes (what no string can carry).</summary>
    private static (string, byte[], string?) Frame(string label, string json, string? id, byte[]? raw = null)
    {
        var frame = Encoding.UTF8.GetBytes(json + '\u001e');
        if (raw is null) return (label, frame, id);
        var at = json.IndexOf('¤');
        var prefix = Encoding.UTF8.GetByteCount(json[..at]);
        return (label, [.. frame[..prefix], .. raw, .. frame[(prefix + Encoding.UTF8.GetByteCount("¤"))..]], id);
    }

    /// <summary>Frames over the hub's MaximumReceiveMessageSize (256 KiB): the connection is closed (a close frame or the socket closing), promptly.</summary>
    private static readonly IReadOnlyList<(string Label, byte[] Frame, int Fragment)> OversizedFrames =
    [
        ("a 300 KiB SendMessage invocation", Encoding.UTF8.GetBytes(
            $$"""{"type":1,"invocationId":"o1","target":"SendMessage","arguments":[{"groupId":"sweep-pub","text":"{{Bad.Rep("x", 300 * 1024)}}"}]}""" + '\u001e'), int.MaxValue),
        ("a 257 KiB CreateGroup invocation in 4 KiB WebSocket fragments", Encoding.UTF8.GetBytes(
            $$"""{"type":1,"invocationId":"o2","target":"CreateGroup","arguments":[{"type":"Public","name":"big","custom":"{{Bad.Rep("x", 257 * 1024)}}"}]}""" + '\u001e'), 4096),
        ("300 KiB without a record separator", Encoding.UTF8.GetBytes(Bad.Rep("x", 300 * 1024)), int.MaxValue),
        ("1 MiB of a JSON string without a record separator", Encoding.UTF8.GetBytes("""{"type":1,"invocationId":"o4","target":"WhoAmI","arguments":[""" + Bad.Q(Bad.Rep("y", 1024 * 1024))), 64 * 1024),
    ];

    [Fact]
    public async Task HubProtocolFrames()
    {
        await SweepAsync(fixture, output, "(protocol frames)", ProtocolFrames.Count, async failures =>
        {
            foreach (var (label, frame, id) in ProtocolFrames)
            {
                var socket = await World.Hub.OfAsync(World["O"]);
                var answer = await socket.SendAndAwaitAsync(frame, id);
                var problem = answer.Kind switch
                {
                    HubAnswerKind.Closed when answer.Detail.Length > 0 => null,
                    HubAnswerKind.Completion => SweepCases.Judge(new HubCase("(protocol frames)", label, "O", "", "", ["InvalidArgument"]), answer),
                    _ => answer.ToString(),
                };
                if (problem is not null) failures.Add((label, Abbrev.Of(Encoding.UTF8.GetString(frame), 140), problem));
            }
        });
    }

    [Fact]
    public async Task HubOversizedFrames()
    {
        await SweepAsync(fixture, output, "(oversized frames)", OversizedFrames.Count, async failures =>
        {
            foreach (var (label, frame, fragment) in OversizedFrames)
            {
                var socket = await World.Hub.OfAsync(World["M"]);
                var answer = await socket.SendAndAwaitAsync(frame, null, fragment);
                if (answer.Kind != HubAnswerKind.Closed)
                    failures.Add((label, $"{frame.Length} bytes", $"not closed: {answer}"));
                // The node is still serving: a fresh connection of the same user answers.
                var whoAmI = await (await World.Hub.OfAsync(World["M"])).InvokeAsync("WhoAmI", "[]");
                if (!whoAmI.HasResult) failures.Add((label, "WhoAmI afterwards", $"the node no longer answers: {whoAmI}"));
            }
        });
    }

    /// <summary>Runs one batch between two snapshots; fails listing every failing case (grouped by what came back) and every changed state.</summary>
    internal static async Task SweepAsync(
        SweepFixture fixture, ITestOutputHelper output, string target, int count, Func<List<(string Label, string Sent, string Problem)>, Task> run)
    {
        var world = fixture.World;
        var clock = Stopwatch.StartNew();
        var before = fixture.Latest;
        var failures = new List<(string Label, string Sent, string Problem)>();
        await run(failures);
        var after = fixture.Latest = await world.SnapshotAsync();
        var changed = SweepWorld.Diff(before, after);
        var drift = SweepWorld.Diff(fixture.Initial, after);
        output.WriteLine($"{target}: {count} cases, {failures.Count} failing, {changed.Count} state changes, {clock.Elapsed.TotalSeconds:0.0} s");

        if (failures.Count == 0 && changed.Count == 0 && drift.Count == 0) return;
        var message = new StringBuilder($"{target}: {failures.Count} of {count} bad-input cases answered wrongly");
        // One line per distinct answer (most bugs answer many cases alike), listing the cases and one input sent.
        foreach (var group in failures.GroupBy(f => Normalize(f.Problem)))
        {
            message.Append($"\n  {group.Count()} × {Abbrev.Of(group.First().Problem, 400)}");
            message.Append($"\n      cases: {string.Join(" | ", group.Select(f => f.Label))}");
            message.Append($"\n      e.g. sent {group.First().Sent}");
        }
        if (changed.Count > 0) message.Append($"\n  state changed during this batch (a refused call must change nothing):\n    {string.Join("\n    ", changed)}");
        else if (drift.Count > 0) message.Append($"\n  state differs from before the sweep (changed by an earlier batch):\n    {string.Join("\n    ", drift)}");
        output.WriteLine(message.ToString());
        Assert.Fail(message.ToString());
    }

    /// <summary>Answers that differ only in echoed values (field names, numbers, ids) count as one kind.</summary>
    private static string Normalize(string problem) =>
        System.Text.RegularExpressions.Regex.Replace(problem.Length > 120 ? problem[..120] : problem, @"[A-Za-z_]+: |'[^']*'|\d+", "#");
}

/// <summary>
/// The control of the sweep: every base request from which the cases are made is valid, so each case is refused
/// because of its one change. Each base runs in a fresh world of its own (own users and groups) on a separate database.
/// </summary>
public sealed class BadInputSweepControlTests(SweepServerFixture fixture) : IClassFixture<SweepServerFixture>
{
    private static int _worlds;

    public static TheoryData<string> HubTargets() => BadInputSweepTests.HubTargets();

    public static TheoryData<string> RestTargets() => BadInputSweepTests.RestTargets();

    [Theory]
    [MemberData(nameof(HubTargets))]
    public async Task HubBaseIsAccepted(string target)
    {
        var t = SweepTables.Hub.Single(x => x.Key == target);
        await using var world = await SweepWorld.BuildAsync(fixture.Node, $"-c{Interlocked.Increment(ref _worlds)}");
        var arguments = world.Fill(SweepCases.HubBase(t));
        var answer = await (await world.Hub.OfAsync(world[t.Caller])).InvokeAsync(t.Method, arguments);
        Assert.True(answer.HasResult || (answer.Kind == HubAnswerKind.Completion && answer.Error is null),
            $"the base of {target} is not accepted: {t.Method}({Abbrev.Of(arguments, 400)}) → {answer}");
    }

    [Theory]
    [MemberData(nameof(RestTargets))]
    public async Task RestBaseIsAccepted(string target)
    {
        var t = SweepTables.Rest.Single(x => x.Key == target);
        await using var world = await SweepWorld.BuildAsync(fixture.Node, $"-c{Interlocked.Increment(ref _worlds)}");
        var (path, body) = SweepCases.RestBase(t);
        path = world.Fill(path);
        body = body is null ? null : world.Fill(body);
        var answer = await world.Rest.SendAsync(t.Method, path, body);
        Assert.True(answer.Status == System.Net.HttpStatusCode.OK, $"the base of {target} is not accepted: {t.Method} {path} {body} → {answer}");
    }
}
