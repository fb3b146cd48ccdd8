using System.Diagnostics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Realtime.Backplane.Redis;

namespace Realtime.Server.Telemetry;

/// <summary>
/// OpenTelemetry traces, off unless an OTLP endpoint is configured: hub commands (HubTracingFilter),
/// REST requests, their PostgreSQL statements and backplane publishes, exported by OTLP. Metrics stay
/// on /metrics (Operations/PrometheusExporter.cs). Off, nothing listens to the sources, so every
/// StartActivity answers null and tracing costs one check per span.
/// </summary>
public static class RealtimeTracing
{
    /// <summary>The ActivitySource of the server's own spans (hub commands).</summary>
    public const string SourceName = "Realtime";

    public const string ServiceName = "realtime";

    /// <summary>Paths that are polled, not used: never traced.</summary>
    private static readonly string[] Untraced = ["/metrics", "/healthz", "/readyz"];

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The OTLP endpoint: Realtime:Telemetry:OtlpEndpoint, else the standard OTEL_EXPORTER_OTLP_ENDPOINT
    /// (or its traces-only form), else null (tracing off).
    /// </summary>
    public static string? Endpoint(IConfiguration configuration) =>
        new[] { "Realtime:Telemetry:OtlpEndpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT" }
            .Select(key => configuration[key]).FirstOrDefault(value => !string.IsNullOrWhiteSpace(value));

    public static IServiceCollection AddRealtimeTracing(this IServiceCollection services, IConfiguration configuration)
    {
        if (Endpoint(configuration) is null) return services;

        var ours = configuration["Realtime:Telemetry:OtlpEndpoint"];
        var protocol = configuration["Realtime:Telemetry:OtlpProtocol"] switch
        {
            null or "" => (OtlpExportProtocol?)null,
            "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new InvalidOperationException($"Realtime:Telemetry:OtlpProtocol is '{other}'; say grpc or http/protobuf."),
        };
        var ratio = configuration.GetValue<double?>("Realtime:Telemetry:SampleRatio") ?? 1.0;
        if (ratio is < 0 or > 1) throw new InvalidOperationException($"Realtime:Telemetry:SampleRatio is {ratio}; say a fraction from 0 to 1.");
        var nodeId = configuration["Realtime:NodeId"] is { Length: > 0 } id ? id : new Apps.RealtimeOptions().NodeId;

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceInstanceId: nodeId, autoGenerateServiceInstanceId: false))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new OperationRootSampler(ratio)))
                .AddSource(SourceName, BackplaneTracing.SourceName)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = context => !Untraced.Any(path => context.Request.Path.StartsWithSegments(path));
                    // HubTracingFilter's spans stand for hub invocations (with the app and our error codes); SignalR's own would double them.
                    o.EnableAspNetCoreSignalRSupport = false;
                })
                .AddNpgsql()
                .AddOtlpExporter(o =>
                {
                    if (protocol is { } p) o.Protocol = p;
                    if (!string.IsNullOrWhiteSpace(ours))
                    {
                        // Like the standard variable, our setting names the collector; a URI given in code is
                        // used as it is, so the signal's path is added here for http/protobuf.
                        var endpoint = new Uri(ours);
                        o.Endpoint = o.Protocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath is "/" or ""
                            ? new Uri(endpoint, "v1/traces")
                            : endpoint;
                    }
                }));
        return services;
    }

    /// <summary>
    /// A trace starts at an operation (a hub command, a REST request), not at a client call: the PostgreSQL polls
    /// of the outbox, presence and retention jobs, which belong to none, are dropped instead of filling the
    /// collector with one-span traces. Of the operations, <c>ratio</c> are kept (by trace id); their children
    /// follow them (ParentBasedSampler).
    /// </summary>
    private sealed class OperationRootSampler(double ratio) : Sampler
    {
        private readonly TraceIdRatioBasedSampler _ratio = new(ratio);

        public override SamplingResult ShouldSample(in SamplingParameters parameters) =>
            parameters.Kind is ActivityKind.Client or ActivityKind.Producer
                ? new SamplingResult(SamplingDecision.Drop)
                : _ratio.ShouldSample(parameters);
    }
}
