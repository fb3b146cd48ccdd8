using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Realtime.Server.Operations;

/// <summary>
/// Renders this node's System.Diagnostics.Metrics instruments in the Prometheus text format
/// (prometheus-net and OpenTelemetry do not restore here). Counters are summed, histograms
/// bucketed, gauges observed at scrape time.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>For durations in seconds; a histogram that advises its own bounds (e.g. a count) gets those.</summary>
    private static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static double[] BucketsOf(Instrument instrument) => instrument switch
    {
        Histogram<int> { Advice.HistogramBucketBoundaries: { } b } => b.Select(x => (double)x).ToArray(),
        Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => b.Select(x => (double)x).ToArray(),
        Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => b.ToArray(),
        _ => SecondsBuckets,
    };

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, Series>> _series = new();
    private readonly Lock _scrape = new();

    /// <param name="meters">This node's meter factory: only its meters (and the named shared ones) are exported.</param>
    /// <param name="sharedMeters">Process-wide meters to include too, e.g. the backplane's.</param>
    public PrometheusExporter(IMeterFactory meters, IEnumerable<string> sharedMeters)
    {
        var shared = sharedMeters.ToHashSet(StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) || shared.Contains(instrument.Meter.Name))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public string Scrape()
    {
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var (instrument, series) in _series.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
                Write(text, instrument, series);
            return text.ToString();
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var series = _series.GetOrAdd(instrument, _ => new()).GetOrAdd(labels, _ => new Series(BucketsOf(instrument)));
        lock (series)
        {
            switch (instrument)
            {
                case Histogram<double> or Histogram<long> or Histogram<int>:
                    series.Count++;
                    series.Value += value;
                    for (var b = 0; b < series.Buckets.Length; b++) if (value <= series.Buckets[b]) series.BucketCounts[b]++;
                    break;
                case ObservableGauge<long> or ObservableGauge<int> or ObservableGauge<double>:
                    series.Value = value;
                    break;
                default:
                    series.Value += value;
                    break;
            }
        }
    }

    private static void Write(StringBuilder text, Instrument instrument, ConcurrentDictionary<string, Series> series)
    {
        var isCounter = instrument is Counter<long> or Counter<int> or Counter<double>;
        var isHistogram = instrument is Histogram<double> or Histogram<long> or Histogram<int>;
        var name = isCounter && !instrument.Name.EndsWith("_total", StringComparison.Ordinal) ? instrument.Name + "_total" : instrument.Name;
        if (instrument.Description is { Length: > 0 } help) text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\n", " ")).Append('\n');
        text.Append("# TYPE ").Append(name).Append(isCounter ? " counter\n" : isHistogram ? " histogram\n" : " gauge\n");
        foreach (var (labels, s) in series.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            lock (s)
            {
                if (!isHistogram)
                {
                    Line(text, name, labels, s.Value);
                    continue;
                }
                for (var b = 0; b < s.Buckets.Length; b++)
                    Line(text, name + "_bucket", Join(labels, $"le=\"{s.Buckets[b].ToString(CultureInfo.InvariantCulture)}\""), s.BucketCounts[b]);
                Line(text, name + "_bucket", Join(labels, "le=\"+Inf\""), s.Count);
                Line(text, name + "_sum", labels, s.Value);
                Line(text, name + "_count", labels, s.Count);
            }
        }
    }

    private static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ')
            .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var pairs = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
            pairs.Add($"{key}=\"{Convert.ToString(value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"");
        pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Series(double[] buckets)
    {
        public double Value;
        public long Count;
        public readonly double[] Buckets = buckets;
        public readonly long[] BucketCounts = new long[buckets.Length];
    }
}
