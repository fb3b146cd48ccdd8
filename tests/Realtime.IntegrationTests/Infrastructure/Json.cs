using System.Text.Json;

namespace Realtime.IntegrationTests.Infrastructure;

/// <summary>Small readers for hub results and pushes.</summary>
public static class Json
{
    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static long Long(this JsonElement e, string name) => e.GetProperty(name).GetInt64();

    public static int Int(this JsonElement e, string name) => e.GetProperty(name).GetInt32();

    public static bool Bool(this JsonElement e, string name) => e.GetProperty(name).GetBoolean();

    /// <summary>Matches a push whose first argument has the given type (and group, when given).</summary>
    public static Func<JsonElement[], bool> OfType(string type, string? groupId = null) =>
        args => args[0].Str("type") == type && (groupId is null || args[0].TryGetProperty("groupId", out var g) && g.GetString() == groupId);
}
