using System.Diagnostics;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.Telemetry;

/// <summary>
/// A collector on loopback: accepts OTLP/HTTP protobuf trace exports (POST /v1/traces) and keeps the spans,
/// read field by field from the wire (opentelemetry/proto/collector/trace/v1 and trace/v1).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly Arrivals<Span> _spans = new();
    private LoopbackServer _server = null!;
    private int _exports;

    public Uri BaseUrl => _server.BaseUrl;

    public int Exports => Volatile.Read(ref _exports);

    public IReadOnlyList<Span> Spans => _spans.All;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        receiver._server = await LoopbackServer.StartAsync(
            app => app.MapPost("/v1/traces", receiver.HandleAsync),
            // The node's tracer listens to ASP.NET Core process-wide: hosting spans of a source nobody listens to keep
            // the receiver's own requests out of what it receives.
            builder => builder.Services.AddSingleton(new ActivitySource("Realtime.IntegrationTests.OtlpReceiver")));
        return receiver;
    }

    /// <summary>Waits until the spans received satisfy <paramref name="done"/>, or fails after the timeout with what came.</summary>
    public Task<IReadOnlyList<Span>> WaitForAsync(Func<IReadOnlyList<Span>, bool> done, TimeSpan? timeout = null) =>
        _spans.UntilAsync(done, () => "the expected spans were not exported; received: " + string.Join("\n", Spans.Select(s => $"{s.Scope}:{s.Name} {s.TraceId[..8]} {s.SpanId[..8]}<{s.ParentSpanId} {string.Join(" ", s.Attributes.Select(a => a.Key + "=" + a.Value))}")), timeout);

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        if (request.ContentType != "application/x-protobuf") return Results.StatusCode(415);
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var spans = ReadExport(body.ToArray());
        Interlocked.Increment(ref _exports);
        _spans.Add(spans);
        // An empty ExportTraceServiceResponse: full success.
        return Results.Bytes([], "application/x-protobuf");
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    public sealed record Span(
        string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, string Scope, ulong StartNanos, ulong EndNanos,
        IReadOnlyDictionary<string, string> Attributes, IReadOnlyDictionary<string, string> Resource, int StatusCode, IReadOnlyList<string> LinkedTraceIds)
    {
        public string? this[string attribute] => Attributes.GetValueOrDefault(attribute);
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    private static List<Span> ReadExport(byte[] message)
    {
        var spans = new List<Span>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1) ReadResourceSpans(value, spans);
        }
        return spans;
    }

    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }; Resource { repeated KeyValue attributes = 1; }
    private static void ReadResourceSpans(byte[] message, List<Span> spans)
    {
        var resource = new Dictionary<string, string>();
        var scopes = new List<byte[]>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
                foreach (var (f, attribute) in Fields(value)) if (f == 1) AddKeyValue(attribute, resource);
            if (field == 2) scopes.Add(value);
        }
        // ScopeSpans { InstrumentationScope scope = 1 (name = 1); repeated Span spans = 2; }
        foreach (var scopeSpans in scopes)
        {
            var scope = "";
            foreach (var (field, value) in Fields(scopeSpans))
            {
                if (field == 1)
                    foreach (var (f, name) in Fields(value)) if (f == 1) scope = name.ToStringUtf8();
                if (field == 2) spans.Add(ReadSpan(value, scope, resource));
            }
        }
    }

    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6;
    //        fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
    //        repeated KeyValue attributes = 9; repeated Link links = 13 (trace_id = 1); Status status = 15 (code = 3); }
    private static Span ReadSpan(byte[] message, string scope, Dictionary<string, string> resource)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        int kind = 0, status = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, string>();
        var links = new List<string>();
        var input = new CodedInputStream(message);
        while (input.ReadTag() is var tag and not 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4: parent = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 7: start = input.ReadFixed64(); break;
                case 8: end = input.ReadFixed64(); break;
                case 9: AddKeyValue(input.ReadBytes().ToByteArray(), attributes); break;
                case 13:
                    foreach (var (f, value) in Fields(input.ReadBytes().ToByteArray()))
                        if (f == 1) links.Add(Convert.ToHexStringLower(value));
                    break;
                case 15:
                    var statusInput = new CodedInputStream(input.ReadBytes().ToByteArray());
                    while (statusInput.ReadTag() is var t and not 0)
                    {
                        if (WireFormat.GetTagFieldNumber(t) == 3) status = statusInput.ReadEnum();
                        else statusInput.SkipLastField();
                    }
                    break;
                default: input.SkipLastField(); break;
            }
        }
        return new Span(traceId, spanId, parent, name, kind, scope, start, end, attributes, resource, status, links);
    }

    // KeyValue { string key = 1; AnyValue value = 2; }; AnyValue { string string_value = 1; bool bool_value = 2; int64 int_value = 3; }
    private static void AddKeyValue(byte[] message, Dictionary<string, string> into)
    {
        var key = "";
        var text = "";
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1) key = value.ToStringUtf8();
            if (field != 2) continue;
            var input = new CodedInputStream(value);
            while (input.ReadTag() is var tag and not 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: text = input.ReadString(); break;
                    case 2: text = input.ReadBool() ? "true" : "false"; break;
                    case 3: text = input.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture); break;
                    default: input.SkipLastField(); text = "?"; break;
                }
            }
        }
        into[key] = text;
    }

    /// <summary>The length-delimited fields of a message (the only kind read through here), others skipped.</summary>
    private static IEnumerable<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<(int, byte[])>();
        while (input.ReadTag() is var tag and not 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            else
                input.SkipLastField();
        }
        return fields;
    }
}

internal static class ByteStringText
{
    public static string ToStringUtf8(this byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
}
