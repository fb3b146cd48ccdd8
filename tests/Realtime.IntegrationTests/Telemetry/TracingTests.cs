using OpenTelemetry.Trace;
using Realtime.Backplane.Redis;
using Realtime.IntegrationTests.Admin;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Telemetry;

namespace Realtime.IntegrationTests.Telemetry;

// Serial: an ActivityListener is process-wide, so a traced node would see other tests' nodes, and the
// untraced test checks that nothing listens at all.
[Collection(SerialCollection.Name)]
public sealed class TracingTests
{
    private const int Unset = 0, Error = 2;

    /// <summary>A node's settings to export its traces to <paramref name="receiver"/> over OTLP/HTTP, soon after each span.</summary>
    private static Dictionary<string, string?> ExportingTo(OtlpReceiver receiver, params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Realtime:Telemetry:OtlpEndpoint"] = receiver.BaseUrl.ToString(),
            ["Realtime:Telemetry:OtlpProtocol"] = "http/protobuf",
            // The batch exporter's standard setting (read from configuration as from the environment): export soon.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task Otlp_Configured_HubCommandsAndRestCallsExportedWithTheirPostgresAndBackplaneSpans()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(nodes: 1, settings: ExportingTo(receiver));
        var node = cluster[0];
        var token = TestTokens.Issue("alice");
        const string secretText = "words-that-must-never-reach-a-trace";

        var alice = await TestTerminal.ConnectAsync(node.HubUrl, token, "d1");
        var groupId = (await alice.InvokeAsync("CreateGroup", new { type = "Public", name = "traced" })).Str("groupId");
        await alice.InvokeAsync("SendMessage", new { groupId, text = secretText });
        await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("SendMessage", new { groupId = "@RT#AAAAAAAAAAAA", text = "x" }));
        await alice.DisposeAsync();

        using (var http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(10) })
        {
            (await http.GetAsync("/metrics")).EnsureSuccessStatusCode();
            (await http.GetAsync("/healthz")).EnsureSuccessStatusCode();
        }
        using var rest = RestClient.Admin(node);
        (await rest.GetAsync($"/chatgroups/{Uri.EscapeDataString(groupId)}")).Ok();

        bool IsRest(OtlpReceiver.Span s) => s.Scope == "Microsoft.AspNetCore" && s["http.route"] == "/v1/apps/{appId}/chatgroups/{ids}";
        bool IsSend(OtlpReceiver.Span s) => s.Name == "GroupHub/SendMessage" && s.StatusCode == Unset;
        bool IsHubConnection(OtlpReceiver.Span s) => s.Scope == "Microsoft.AspNetCore" && s["url.path"] == "/hubs/groups";
        bool InTraceOf(OtlpReceiver.Span s, IReadOnlyList<OtlpReceiver.Span> all, Func<OtlpReceiver.Span, bool> root) =>
            all.Any(r => root(r) && r.TraceId == s.TraceId);
        var spans = await receiver.WaitForAsync(all =>
            all.Any(IsSend) && all.Any(IsRest) && all.Any(IsHubConnection)
            && all.Any(s => s.Scope == "Npgsql" && InTraceOf(s, all, IsSend))
            && all.Any(s => s.Name == "backplane publish" && InTraceOf(s, all, IsSend))
            && all.Any(s => s.Scope == "Npgsql" && InTraceOf(s, all, IsRest)));

        Assert.DoesNotContain(spans, s => s.Scope == "Microsoft.AspNetCore.SignalR.Server");
        var send = spans.Single(IsSend);
        Assert.Equal(RealtimeTracing.SourceName, send.Scope);
        Assert.Equal("", send.ParentSpanId);
        Assert.Equal(2, send.Kind); // SERVER
        Assert.Equal("SendMessage", send["rpc.method"]);
        Assert.Equal(RealtimeNode.App, send["realtime.app"]);
        Assert.Equal("realtime", send.Resource["service.name"]);
        Assert.Equal("node-a", send.Resource["service.instance.id"]);
        // A command is a trace of its own, linked to its connection's (which lasts as long as the connection).
        Assert.Contains(spans.Single(IsHubConnection).TraceId, send.LinkedTraceIds);

        // PostgreSQL statements and backplane publishes hang below the command's span.
        var byId = spans.ToDictionary(s => s.SpanId);
        bool Below(OtlpReceiver.Span s, OtlpReceiver.Span ancestor)
        {
            for (var at = s; byId.TryGetValue(at.ParentSpanId, out var parent); at = parent)
                if (parent.SpanId == ancestor.SpanId) return true;
            return false;
        }
        var statements = spans.Where(s => s.Scope == "Npgsql" && s.TraceId == send.TraceId).ToList();
        Assert.All(statements, s => Assert.True(Below(s, send), $"{s.Name} is not below the command's span"));
        Assert.Contains(statements, s => s["db.query.text"]?.Contains("INSERT", StringComparison.OrdinalIgnoreCase) == true);
        var publish = spans.First(s => s.Name == "backplane publish" && s.TraceId == send.TraceId);
        Assert.True(Below(publish, send));
        Assert.Equal("group", publish["realtime.backplane.channel"]);
        Assert.Equal("redis", publish["messaging.system"]);

        var failed = spans.Single(s => s.Name == "GroupHub/SendMessage" && s.StatusCode == Error);
        Assert.Equal("GroupNotFound", failed["error.type"]);

        var restCall = spans.Single(IsRest);
        Assert.Equal(2, restCall.Kind);
        Assert.Contains(spans, s => s.Scope == "Npgsql" && s.TraceId == restCall.TraceId && Below(s, restCall));

        // Polled endpoints are not traced; ended before the REST call, they would have been exported with or before it.
        Assert.DoesNotContain(spans, s => s["url.path"] is "/metrics" or "/healthz" or "/readyz");
        // No message content and no token anywhere.
        Assert.DoesNotContain(spans, s => s.Attributes.Values.Any(v => v.Contains(secretText, StringComparison.Ordinal) || v.Contains(token, StringComparison.Ordinal)));
        // Background jobs' statements (outbox, presence, retention) start no traces of their own.
        Assert.DoesNotContain(spans, s => s.Scope == "Npgsql" && s.ParentSpanId == "");
    }

    [Fact]
    public async Task Otlp_CommandsBatchedIntoOneTransaction_StatementsBelongToACommandStillRunning()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var cluster = await Cluster.StartAsync(nodes: 1, settings: ExportingTo(receiver));
        var node = cluster[0];
        await using var alice = await node.ConnectAsync("alice");
        await using var bob = await node.ConnectAsync("bob");
        var groupId = (await alice.InvokeAsync("CreateGroup", new { type = "Public", name = "busy", members = new[] { "bob" } })).Str("groupId");

        // Pipelined sends to one group: GroupCommit applies those that queue up behind a running transaction
        // together, in a loop that outlives the command that started it.
        const int perUser = 30;
        await Task.WhenAll(new[] { alice, bob }.SelectMany(t => Enumerable.Range(0, perUser).Select(i => t.InvokeAsync("SendMessage", new { groupId, text = $"m{i}" }))));

        var spans = await receiver.WaitForAsync(all => all.Count(s => s.Name == "GroupHub/SendMessage") == 2 * perUser);
        var roots = spans.Where(s => s.Name == "GroupHub/SendMessage").ToDictionary(s => s.TraceId);
        var children = spans.Where(s => roots.ContainsKey(s.TraceId) && s.Scope is "Npgsql" or BackplaneTracing.SourceName).ToList();
        Assert.NotEmpty(children);
        // A statement or publish in a command's trace started while that command was running, never after it
        // was answered (as it would, were a later batch's transaction filed under the loop's first command).
        Assert.All(children, s => Assert.True(s.StartNanos <= roots[s.TraceId].EndNanos,
            $"{s.Scope} span started {(s.StartNanos - roots[s.TraceId].EndNanos) / 1000} µs after its command ended"));
    }

    [Fact]
    public async Task Otlp_CallbackDelivered_OutboxDeliverySpanWithItsStatements()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var webhooks = await WebhookReceiver.StartAsync(RealtimeNode.AppSecret);
        await using var cluster = await Cluster.StartAsync(nodes: 1, settings: ExportingTo(receiver, (
            $"Realtime:Apps:{RealtimeNode.App}:CallbackUrl", webhooks.CallbackUrl)));
        await using var alice = await cluster[0].ConnectAsync("alice");
        await alice.InvokeAsync("CreateGroup", new { type = "Public", name = "called back" });
        await webhooks.WaitForAsync(r => r.Command == "Group.CallbackAfterCreateGroup");

        bool IsDelivery(OtlpReceiver.Span s) => s.Name == "outbox deliver Callback" && s["realtime.outbox.outcome"] == "delivered";
        var spans = await receiver.WaitForAsync(all => all.Any(d => IsDelivery(d) && all.Any(s => s.Scope == "Npgsql" && s.ParentSpanId == d.SpanId)));
        var delivery = spans.First(IsDelivery);
        Assert.Equal("", delivery.ParentSpanId);
        Assert.Equal(RealtimeNode.App, delivery["realtime.app"]);
        Assert.Equal("1", delivery["realtime.outbox.attempt"]);
    }

    [Fact]
    public async Task Otlp_NotConfigured_NothingListens()
    {
        await using var cluster = await Cluster.StartAsync(nodes: 1);
        var node = cluster[0];

        await using (var alice = await node.ConnectAsync("alice"))
        {
            var groupId = (await alice.InvokeAsync("CreateGroup", new { type = "Public", name = "untraced" })).Str("groupId");
            await alice.InvokeAsync("SendMessage", new { groupId, text = "hello" });
        }

        Assert.Null(node.Services.GetService<TracerProvider>());
        // No listener: every StartActivity of these sources answers null, so tracing costs a check per span.
        Assert.False(RealtimeTracing.Source.HasListeners());
        Assert.False(BackplaneTracing.Source.HasListeners());
    }
}
