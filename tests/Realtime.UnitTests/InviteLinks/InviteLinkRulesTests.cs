using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.InviteLinks;

namespace Realtime.UnitTests.InviteLinks;

public sealed class InviteLinkRulesTests
{
    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    private static InviteLinkRow Link(int? maxUses = null, int uses = 0, DateTime? expires = null, DateTime? revoked = null) =>
        new() { Code = "c", CreatedBy = "alice", MaxUses = maxUses, Uses = uses, ExpiresAt = expires ?? Now.AddDays(1), RevokedAt = revoked };

    [Fact]
    public void NewCode_CarriesAtLeast128RandomBitsInUrlSafeChars()
    {
        var codes = Enumerable.Range(0, 1000).Select(_ => InviteLinkRules.NewCode()).ToList();
        Assert.All(codes, c =>
        {
            Assert.Matches("^[A-Za-z0-9_-]+$", c);
            // base64url: 6 bits a char.
            Assert.True(c.Length * 6 >= 128, c);
            Assert.Equal(c, InviteLinkRules.Code(c));
        });
        Assert.Equal(1000, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.True(InviteLinkRules.CodeBytes * 8 >= 128);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a+b")]
    [InlineData("\u00e9")]
    public void Code_Malformed_InvalidArgumentNamingCode(string? code)
    {
        var e = Assert.Throws<RealtimeException>(() => InviteLinkRules.Code(code));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith("code", e.Message);
    }

    [Fact]
    public void Code_SixtyFiveChars_InvalidArgument() =>
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<RealtimeException>(() => InviteLinkRules.Code(new string('a', 65))).Code);

    [Fact]
    public void Settings_Absent_UnlimitedForSevenDays() =>
        Assert.Equal(((int?)null, TimeSpan.FromDays(7)), InviteLinkRules.Settings(null, null));

    [Theory]
    [InlineData(1, 60)]
    [InlineData(100_000, 2_592_000)]
    public void Settings_Bounds_Accepted(int maxUses, long seconds) =>
        Assert.Equal((maxUses, TimeSpan.FromSeconds(seconds)), InviteLinkRules.Settings(maxUses, seconds));

    [Theory]
    [InlineData(0, null, "maxUses")]
    [InlineData(100_001, null, "maxUses")]
    [InlineData(null, 59L, "expiresInSeconds")]
    [InlineData(null, 2_592_001L, "expiresInSeconds")]
    public void Settings_OutOfRange_InvalidArgumentNamingField(int? maxUses, long? seconds, string field)
    {
        var e = Assert.Throws<RealtimeException>(() => InviteLinkRules.Settings(maxUses, seconds));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith(field, e.Message);
    }

    [Theory]
    [InlineData(InviteOption.Anyone, MemberRole.Member, true)]
    [InlineData(InviteOption.AdminsOnly, MemberRole.Member, false)]
    [InlineData(InviteOption.Disabled, MemberRole.Member, false)]
    [InlineData(InviteOption.AdminsOnly, MemberRole.Admin, true)]
    [InlineData(InviteOption.Disabled, MemberRole.Admin, true)]
    [InlineData(InviteOption.Disabled, MemberRole.Owner, true)]
    [InlineData(InviteOption.Anyone, null, false)]
    public void MayCreate_ByInviteOptionOwnerAndAdminsAlways(InviteOption option, MemberRole? role, bool expected) =>
        Assert.Equal(expected, InviteLinkRules.MayCreate(option, role, isAppAdmin: false));

    [Fact]
    public void Admits_LiveLink_True() => Assert.True(InviteLinkRules.Admits(Link(maxUses: 2, uses: 1), Now, InviteOption.AdminsOnly, MemberRole.Admin));

    [Fact]
    public void Admits_Revoked_False() => Assert.False(InviteLinkRules.Admits(Link(revoked: Now.AddMinutes(-1)), Now, InviteOption.Anyone, MemberRole.Owner));

    [Fact]
    public void Admits_AtItsExpiry_False() => Assert.False(InviteLinkRules.Admits(Link(expires: Now), Now, InviteOption.Anyone, MemberRole.Owner));

    [Fact]
    public void Admits_UsedUp_False() => Assert.False(InviteLinkRules.Admits(Link(maxUses: 10, uses: 10), Now, InviteOption.Anyone, MemberRole.Owner));

    [Fact]
    public void Admits_CreatorGone_False() => Assert.False(InviteLinkRules.Admits(Link(), Now, InviteOption.Anyone, creatorRole: null));

    [Fact]
    public void Admits_MembersLinkAfterInvitesBecameAdminsOnly_False() =>
        Assert.False(InviteLinkRules.Admits(Link(), Now, InviteOption.AdminsOnly, MemberRole.Member));

    [Theory]
    [InlineData("alice", MemberRole.Member, true)]
    [InlineData("bob", MemberRole.Member, false)]
    [InlineData("bob", MemberRole.Admin, true)]
    [InlineData("bob", MemberRole.Owner, true)]
    [InlineData("alice", null, false)]
    public void MayRevoke_CreatorOwnerAdmins(string user, MemberRole? role, bool expected) =>
        Assert.Equal(expected, InviteLinkRules.MayRevoke(Link(), user, role, isAppAdmin: false));

    [Fact]
    public void Invalid_OneAnswerForEveryReason()
    {
        var e = InviteLinkRules.Invalid();
        Assert.Equal(ErrorCode.InviteLinkInvalid, e.Code);
        Assert.Equal(e.Message, InviteLinkRules.Invalid().Message);
    }
}
