using System.Text.Json.Serialization;

namespace Realtime.Server.Admin;

/// <summary>What an admin endpoint answers; AdminFilter wraps it in the Agora envelope of SPEC §6.</summary>
public sealed record AdminReply(object? Data, int? Count = null, string? Cursor = null)
{
    /// <summary>A page: `count` is the number of items in it, `cursor` the value for the next page (null on the last).</summary>
    public static AdminReply Page<T>(IReadOnlyCollection<T> items, string? cursor = null) => new(items, items.Count, cursor);
}

/// <summary>The success envelope of SPEC §6.</summary>
public sealed record AdminEnvelope(
    string Action,
    string Application,
    string Uri,
    string Path,
    IReadOnlyList<object> Entities,
    object? Data,
    long Timestamp,
    long Duration,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Count,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Cursor);

/// <summary>The failure body of SPEC §6 (ErrorMapping.RestBody writes it; this type documents it in OpenAPI).</summary>
public sealed record AdminError(string Error, int Code, [property: JsonPropertyName("error_description")] string ErrorDescription, long Timestamp);
