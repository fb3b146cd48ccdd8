using System.Buffers.Text;
using System.Security.Cryptography;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.InviteLinks;

/// <summary>The pure rules of invite links (SPEC §9), each named after what it protects.</summary>
public static class InviteLinkRules
{
    /// <summary>Random bytes in a code: 144 bits (the spec asks for at least 128), 24 base64url chars.</summary>
    public const int CodeBytes = 18;
    public const int CodeMaxLength = 64;
    public const int MaxUsesMax = 100_000;
    public const long ExpiresMinSeconds = 60;
    public const long ExpiresMaxSeconds = 30L * 24 * 3600;
    public const long ExpiresDefaultSeconds = 7L * 24 * 3600;

    /// <summary>A new code from the system's cryptographic generator.</summary>
    public static string NewCode() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(CodeBytes));

    /// <summary>
    /// A code argument: 1–64 chars of the base64url alphabet, else InvalidArgument. A well-formed
    /// code that names no live link is not refused here: it answers InviteLinkInvalid like any other.
    /// </summary>
    public static string Code(string? code)
    {
        if (string.IsNullOrEmpty(code) || code.Length > CodeMaxLength || !code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw RealtimeException.Invalid("code", $"must be 1-{CodeMaxLength} chars of [A-Za-z0-9_-]");
        return code;
    }

    /// <summary>maxUses 1–100000 (absent = unlimited), expiresInSeconds 60–2592000 (absent = 7 days).</summary>
    public static (int? MaxUses, TimeSpan Lifetime) Settings(int? maxUses, long? expiresInSeconds)
    {
        if (maxUses is < 1 or > MaxUsesMax) throw RealtimeException.Invalid("maxUses", $"must be 1-{MaxUsesMax}");
        var seconds = expiresInSeconds ?? ExpiresDefaultSeconds;
        if (seconds is < ExpiresMinSeconds or > ExpiresMaxSeconds)
            throw RealtimeException.Invalid("expiresInSeconds", $"must be {ExpiresMinSeconds}-{ExpiresMaxSeconds}");
        return (maxUses, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>Whoever may invite under the group's inviteOption creates links; the owner and admins always.</summary>
    public static bool MayCreate(InviteOption option, MemberRole? role, bool isAppAdmin) =>
        isAppAdmin || role is MemberRole.Owner or MemberRole.Admin || (role is MemberRole.Member && option == InviteOption.Anyone);

    /// <summary>
    /// A link admits while it is not revoked, not expired and not used up, and while its creator
    /// could still create it (a member who left, or who may no longer invite, takes their links' power along).
    /// </summary>
    public static bool Admits(InviteLinkRow link, DateTime now, InviteOption option, MemberRole? creatorRole) =>
        link.RevokedAt is null
        && link.ExpiresAt > now
        && (link.MaxUses is not { } max || link.Uses < max)
        && MayCreate(option, creatorRole, isAppAdmin: false);

    /// <summary>The creator, the owner and admins revoke.</summary>
    public static bool MayRevoke(InviteLinkRow link, string? userId, MemberRole? role, bool isAppAdmin) =>
        isAppAdmin || role is MemberRole.Owner or MemberRole.Admin || (role is not null && link.CreatedBy == userId);

    /// <summary>Owner and admins list every link of the group; other members their own.</summary>
    public static bool SeesAllLinks(MemberRole? role, bool isAppAdmin) => isAppAdmin || role is MemberRole.Owner or MemberRole.Admin;

    /// <summary>The one answer for a code that admits nobody, whatever the reason, so codes cannot be probed.</summary>
    public static RealtimeException Invalid() =>
        new(ErrorCode.InviteLinkInvalid, "this invite link is not valid (unknown, revoked, expired or used up)");
}
