using System.Security.Cryptography;

namespace Realtime.Server;

/// <summary>The id formats of SPEC §1: user, device, custom and auto group ids.</summary>
public static class Ids
{
    public const string AutoGroupPrefix = "@RT#";
    private const string Base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static bool IsValidUserId(string? id) => IsToken(id, 64, allowAt: true);

    public static bool IsValidDeviceId(string? id) => IsToken(id, 64, allowAt: true);

    /// <summary>A custom id: 1–48 of [A-Za-z0-9_.-], never starting with '@' (so never clashing with auto ids).</summary>
    public static bool IsValidCustomGroupId(string? id) => IsToken(id, 48, allowAt: false);

    public static bool IsAutoGroupId(string id) =>
        id.Length == AutoGroupPrefix.Length + 12 && id.StartsWith(AutoGroupPrefix, StringComparison.Ordinal)
        && id.AsSpan(AutoGroupPrefix.Length).IndexOfAnyExcept(Base32) < 0;

    /// <summary>Any id a group may have: auto or custom.</summary>
    public static bool IsValidGroupId(string? id) => id is not null && (IsAutoGroupId(id) || IsValidCustomGroupId(id));

    public static string NewAutoGroupId()
    {
        Span<char> chars = stackalloc char[12];
        for (var i = 0; i < chars.Length; i++) chars[i] = Base32[RandomNumberGenerator.GetInt32(Base32.Length)];
        return AutoGroupPrefix + new string(chars);
    }

    private static bool IsToken(string? id, int max, bool allowAt)
    {
        if (string.IsNullOrEmpty(id) || id.Length > max) return false;
        foreach (var c in id)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' || (allowAt && c == '@');
            if (!ok) return false;
        }
        return true;
    }
}
