using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.UnitTests.Membership;

public sealed class PendingRulesTests
{
    [Theory]
    [InlineData("owner", MemberRole.Owner, PendingParty.Handler)]
    [InlineData("admin", MemberRole.Admin, PendingParty.Handler)]
    [InlineData("applicant", null, PendingParty.Reader)]
    [InlineData("member", MemberRole.Member, PendingParty.None)]
    [InlineData("stranger", null, PendingParty.None)]
    public void PartyOf_JoinRequest_StaffHandleApplicantReads(string caller, MemberRole? role, PendingParty expected) =>
        Assert.Equal(expected, PendingRules.PartyOf(PendingType.JoinRequest, "applicant", null, role, caller, isAppAdmin: false));

    [Theory]
    [InlineData("invitee", null, PendingParty.Handler)]
    [InlineData("inviter", MemberRole.Member, PendingParty.Reader)]
    [InlineData("owner", MemberRole.Owner, PendingParty.None)]
    [InlineData("stranger", null, PendingParty.None)]
    public void PartyOf_Invitation_InviteeHandlesInviterReads(string caller, MemberRole? role, PendingParty expected) =>
        Assert.Equal(expected, PendingRules.PartyOf(PendingType.Invitation, "inviter", "invitee", role, caller, isAppAdmin: false));

    [Theory]
    [InlineData(PendingType.JoinRequest)]
    [InlineData(PendingType.Invitation)]
    public void PartyOf_AppAdmin_HandlesEither(PendingType type) =>
        Assert.Equal(PendingParty.Handler, PendingRules.PartyOf(type, "from", "to", null, null, isAppAdmin: true));
}
