using System.Security.Cryptography;

namespace Realtime.Server.Groups;

/// <summary>
/// A group incarnation's epoch (SPEC §4): opaque, random, URL-safe, never derived from the
/// internal gid. A group id dissolved and created again gets a new one, so a Sync cursor
/// carrying the old epoch is told tooOld instead of running on into the new group's log.
/// </summary>
public static class GroupEpoch
{
    /// <summary>The longest epoch a Sync cursor may carry (ours are 32 chars).</summary>
    public const int MaxLength = 64;

    /// <summary>128 random bits as 32 lowercase hex chars: the same shape as the column's SQL default.</summary>
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
