using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Server.Errors;

namespace Realtime.Server.Admin;

/// <summary>Reading REST requests: JSON bodies and query numbers, every shape error an InvalidArgument naming the field.</summary>
public static class AdminHttp
{
    /// <summary>
    /// REST bodies are written with explicit Agora names, so nothing is renamed; nulls are written
    /// (an unlimited `maxusers` is null, not missing).
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new(RealtimeJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    private const int MaxBodyBytes = 256 * 1024;

    /// <summary>
    /// Binds the body as RealtimeJson binds hub arguments: unknown fields are refused by name. Only a
    /// JSON body is read, and only up to <see cref="MaxBodyBytes"/> bytes whatever Content-Length
    /// says (a chunked body has none), so a large body costs this node nothing.
    /// </summary>
    public static async Task<T> BodyAsync<T>(HttpRequest request)
    {
        if (!request.HasJsonContentType()) throw RealtimeException.Invalid("request", "the body must be sent as Content-Type: application/json");
        if (request.ContentLength > MaxBodyBytes) throw TooLarge();
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            if (body.Length + read > MaxBodyBytes) throw TooLarge();
            body.Write(buffer, 0, read);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length));
        }
        catch (JsonException e)
        {
            throw RealtimeException.Invalid("request", $"the body is not valid JSON ({e.Message})");
        }
        using (document) return RealtimeJson.Bind<T>(document.RootElement);
    }

    private static RealtimeException TooLarge() => RealtimeException.Invalid("request", $"the body must be at most {MaxBodyBytes} bytes");

    /// <summary>An optional integer query parameter within [min, max].</summary>
    public static int QueryInt(HttpRequest request, string name, int defaultValue, int min, int max)
    {
        var values = request.Query[name];
        if (values.Count == 0) return defaultValue;
        // Digits only: int.TryParse would also take a trailing NUL ("1\0").
        if (values.Count > 1 || values[0] is not { Length: > 0 and <= 10 } text || !text.All(char.IsAsciiDigit)
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw RealtimeException.Invalid(name, $"must be an integer from {min} to {max}");
        return value;
    }

    /// <summary>Comma-separated ids of a path segment (`/chatgroups/a,b`, `/users/u1,u2`).</summary>
    public static IReadOnlyList<string> List(string segment) =>
        segment.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static long Ms(DateTime at) => new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)).ToUnixTimeMilliseconds();

    public static long? Ms(DateTime? at) => at is { } value ? Ms(value) : null;
}
