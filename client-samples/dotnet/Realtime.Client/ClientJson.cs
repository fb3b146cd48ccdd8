using System.Text.Json;
using System.Text.Json.Serialization;

namespace Realtime.Client;

/// <summary>The hub's wire JSON (SPEC §4): camelCase names, enums by name, absent optional fields left out.</summary>
public static class ClientJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Applies the wire settings to SignalR's own options (they start without the naming policy).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        if (!options.Converters.Any(c => c is JsonStringEnumConverter)) options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
