using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Server.Errors;

namespace Realtime.Server;

/// <summary>The wire JSON of hub and REST: camelCase, enums by name, unknown fields refused.</summary>
public static class RealtimeJson
{
    /// <summary>
    /// Binding options. Beyond <see cref="Configure"/> (shared with SignalR's protocol) they refuse duplicate keys
    /// and check JSON payload values, which the protocol must not: there a whole hub argument is one JsonElement,
    /// and a refusal would be a code-less binding failure instead of an InvalidArgument naming the field.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new(Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web)))
    {
        AllowDuplicateProperties = false,
        Converters = { StrictJson.PayloadConverter },
    };

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase; // SignalR's options start without it
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.RespectNullableAnnotations = true;
        // The Web defaults are lenient where SPEC §3 is not: "5" is no number, GroupID no groupId, a key counts once.
        options.PropertyNameCaseInsensitive = false;
        options.NumberHandling = JsonNumberHandling.Strict;
        if (!options.Converters.Any(c => c.GetType().DeclaringType == typeof(StrictJson)))
            foreach (var converter in StrictJson.Converters) options.Converters.Add(converter);
        return options;
    }

    /// <summary>Binds a request object; any shape error becomes InvalidArgument naming the field.</summary>
    public static T Bind<T>(JsonElement element, string what = "request")
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw RealtimeException.Invalid(what, "must be a JSON object");
        try
        {
            return element.Deserialize<T>(Options) ?? throw RealtimeException.Invalid(what, "must not be null");
        }
        catch (JsonException e)
        {
            throw RealtimeException.Invalid(FieldOf(e), Describe(e));
        }
    }

    /// <summary>
    /// A plain string argument of a hub method, taken as JsonElement so that a number or an object
    /// is an InvalidArgument naming the field rather than SignalR's generic binding error. JSON null
    /// passes as null for the field's own validation to refuse.
    /// </summary>
    public static string? String(JsonElement element, string field) => element.ValueKind switch
    {
        JsonValueKind.String => StrictJson.ProblemOf(element) is { } problem ? throw RealtimeException.Invalid(field, problem) : element.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => throw RealtimeException.Invalid(field, "must be a string"),
    };

    private static string FieldOf(JsonException e)
    {
        var path = e.Path ?? "$";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path == "$" ? "request" : path;
    }

    private static string Describe(JsonException e)
    {
        if (e is StrictJsonException) return e.Message;
        var message = e.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            // "The JSON property 'x' could not be mapped to any .NET member ..." → name the field only.
            var start = message.IndexOf('\'') + 1;
            var end = start > 0 ? message.IndexOf('\'', start) : -1;
            return end > start ? $"unknown field '{message[start..end]}'" : "unknown field";
        }
        if (message.Contains("missing required properties", StringComparison.Ordinal)) return "missing required field";
        return "has the wrong type or format";
    }
}
