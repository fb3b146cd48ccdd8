using System.Text.Json.Serialization;
using Realtime.Server.Membership;

namespace Realtime.Server.InviteLinks;

/// <summary>An invite link as its group's members see it (SPEC §9); <c>maxUses</c> null = unlimited.</summary>
public sealed record InviteLink(
    string Code,
    string GroupId,
    string CreatedBy,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? MaxUses,
    int Uses,
    bool NeedsApproval,
    bool Revoked);

public sealed record CreateInviteLinkRequest(
    string? GroupId, int? MaxUses = null, long? ExpiresInSeconds = null, bool? NeedsApproval = null, string? RequestId = null);

/// <summary>A read: <c>requestId</c> is accepted (SPEC §4) and ignored.</summary>
public sealed record GetInviteLinksRequest(string? GroupId, string? RequestId = null);

public sealed record RevokeInviteLinkRequest(string? Code, string? RequestId = null);

/// <summary><c>message</c> goes with the join request when the link needs approval.</summary>
public sealed record JoinByInviteLinkRequest(string? Code, string? Message = null, string? RequestId = null);

public sealed record JoinByInviteLinkResult(ApplyOutcome Result, string GroupId, Guid? PendingId = null);

/// <summary>An invite_links row with its group's public id.</summary>
public sealed class InviteLinkRow
{
    public string Code { get; init; } = "";
    public long Gid { get; init; }
    public string GroupId { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime ExpiresAt { get; init; }
    public int? MaxUses { get; init; }
    public int Uses { get; set; }
    public bool NeedsApproval { get; init; }
    public DateTime? RevokedAt { get; set; }

    public InviteLink ToLink() => new(Code, GroupId, CreatedBy, CreatedAt, ExpiresAt, MaxUses, Uses, NeedsApproval, RevokedAt is not null);
}
