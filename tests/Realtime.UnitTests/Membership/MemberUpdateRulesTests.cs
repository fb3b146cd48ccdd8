using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.UnitTests.Membership;

public sealed class MemberUpdateRulesTests
{
    private static MemberRow Row(MemberRole role) => new() { UserId = "target", Role = role };

    private static void Refused(ErrorCode code, Action rule) => Assert.Equal(code, Assert.Throws<RealtimeException>(rule).Code);

    [Theory]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    [InlineData(false, false, false)]
    public void MsgRecvOptionIsTheMembersOwn_OnlySelfOrAppAdmin(bool isSelf, bool isAppAdmin, bool allowed)
    {
        if (allowed) MemberUpdateRules.MsgRecvOptionIsTheMembersOwn(isSelf, isAppAdmin);
        else Refused(ErrorCode.PermissionDenied, () => MemberUpdateRules.MsgRecvOptionIsTheMembersOwn(isSelf, isAppAdmin));
    }

    [Theory]
    [InlineData(MemberRole.Owner, false, true)]
    [InlineData(MemberRole.Admin, false, true)]
    [InlineData(MemberRole.Member, false, false)]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    public void OnlyStaffMute_ByCallerRole(MemberRole? caller, bool isAppAdmin, bool allowed)
    {
        if (allowed) MemberUpdateRules.OnlyStaffMute(caller, isAppAdmin);
        else Refused(ErrorCode.PermissionDenied, () => MemberUpdateRules.OnlyStaffMute(caller, isAppAdmin));
    }

    [Theory]
    [InlineData(MemberRole.Member, true, true)]
    [InlineData(MemberRole.Member, false, false)]
    [InlineData(MemberRole.Admin, false, true)]
    [InlineData(MemberRole.Owner, false, true)]
    public void OnlyStaffEditOthers_SelfAlwaysStaffForOthers(MemberRole caller, bool isSelf, bool allowed)
    {
        if (allowed) MemberUpdateRules.OnlyStaffEditOthers(caller, isSelf, isAppAdmin: false);
        else Refused(ErrorCode.PermissionDenied, () => MemberUpdateRules.OnlyStaffEditOthers(caller, isSelf, isAppAdmin: false));
    }

    [Theory]
    [InlineData(MemberRole.Owner, MemberRole.Admin, true)]
    [InlineData(MemberRole.Admin, MemberRole.Member, true)]
    [InlineData(MemberRole.Admin, MemberRole.Admin, false)]
    [InlineData(MemberRole.Admin, MemberRole.Owner, false)]
    [InlineData(MemberRole.Owner, MemberRole.Owner, false)]
    public void MuteOnlyThoseYouManage_ByBothRoles(MemberRole caller, MemberRole target, bool allowed)
    {
        if (allowed) MemberUpdateRules.MuteOnlyThoseYouManage(caller, Row(target), isAppAdmin: false);
        else Refused(ErrorCode.PermissionDenied, () => MemberUpdateRules.MuteOnlyThoseYouManage(caller, Row(target), isAppAdmin: false));
    }

    [Fact]
    public void MuteOnlyThoseYouManage_AppAdmin_NeverTheOwner()
    {
        MemberUpdateRules.MuteOnlyThoseYouManage(null, Row(MemberRole.Admin), isAppAdmin: true);
        Refused(ErrorCode.PermissionDenied, () => MemberUpdateRules.MuteOnlyThoseYouManage(null, Row(MemberRole.Owner), isAppAdmin: true));
    }

    [Theory]
    [InlineData(MemberRole.Admin, MemberRole.Member, false, true)]
    [InlineData(MemberRole.Admin, MemberRole.Admin, false, false)]
    [InlineData(MemberRole.Owner, MemberRole.Admin, false, true)]
    [InlineData(MemberRole.Member, MemberRole.Member, true, true)]
    [InlineData(MemberRole.Admin, MemberRole.Owner, false, false)]
    public void EditOnlyThoseYouManage_ByBothRoles(MemberRole caller, MemberRole target, bool isSelf, bool allowed)
    {
        if (allowed) MemberUpdateRules.EditOnlyThoseYouManage(caller, Row(target), isSelf, isAppAdmin: false);
        else Refused(ErrorCode.PermissionDenied, () => MemberUpdateRules.EditOnlyThoseYouManage(caller, Row(target), isSelf, isAppAdmin: false));
    }

    [Theory]
    [InlineData(MemberRole.Owner, MemberRole.Member, false)]
    [InlineData(MemberRole.Admin, MemberRole.Owner, false)]
    [InlineData(MemberRole.Member, MemberRole.Owner, false)]
    [InlineData(MemberRole.Admin, MemberRole.Member, true)]
    [InlineData(MemberRole.Member, MemberRole.Admin, true)]
    [InlineData(null, MemberRole.Owner, true)]
    public void OwnerChangesOnlyByTransfer_RefusesOwnerRoleEitherWay(MemberRole? requested, MemberRole target, bool allowed)
    {
        if (allowed) MemberUpdateRules.OwnerChangesOnlyByTransfer(requested, target);
        else Refused(ErrorCode.InvalidArgument, () => MemberUpdateRules.OwnerChangesOnlyByTransfer(requested, target));
    }

    [Theory]
    [InlineData(0L, true)]
    [InlineData(2_592_000L, true)]
    [InlineData(2_592_001L, false)]
    [InlineData(-1L, false)]
    public void MuteWithinLimit_ZeroToThirtyDays(long seconds, bool allowed)
    {
        if (allowed) MemberUpdateRules.MuteWithinLimit(seconds);
        else Assert.Contains("muteSeconds", Assert.Throws<RealtimeException>(() => MemberUpdateRules.MuteWithinLimit(seconds)).Message);
    }

    [Theory]
    [InlineData(98, true)]
    [InlineData(99, false)]
    public void AdminsWithinLimit_NinetyNineAdmins(int admins, bool allowed)
    {
        var g = new GroupRow { GroupId = "g", AdminCount = admins };
        if (allowed) MemberUpdateRules.AdminsWithinLimit(g);
        else Refused(ErrorCode.AdminLimitReached, () => MemberUpdateRules.AdminsWithinLimit(g));
    }
}
