using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.UnitTests.Membership;

public sealed class MemberRulesTests
{
    [Theory]
    [InlineData(MemberRole.Owner, MemberRole.Admin, true)]
    [InlineData(MemberRole.Owner, MemberRole.Member, true)]
    [InlineData(MemberRole.Owner, null, true)]
    [InlineData(MemberRole.Owner, MemberRole.Owner, false)]
    [InlineData(MemberRole.Admin, MemberRole.Member, true)]
    [InlineData(MemberRole.Admin, null, true)]
    [InlineData(MemberRole.Admin, MemberRole.Admin, false)]
    [InlineData(MemberRole.Admin, MemberRole.Owner, false)]
    [InlineData(MemberRole.Member, MemberRole.Member, false)]
    [InlineData(null, MemberRole.Member, false)]
    public void MayManage_ByRoles_FollowsKickAndMuteRows(MemberRole? caller, MemberRole? target, bool expected) =>
        Assert.Equal(expected, MemberRules.MayManage(caller, target, isAppAdmin: false));

    [Fact]
    public void MayManage_AppAdmin_ManagesAnyoneButTheOwner()
    {
        Assert.True(MemberRules.MayManage(null, MemberRole.Admin, isAppAdmin: true));
        Assert.False(MemberRules.MayManage(null, MemberRole.Owner, isAppAdmin: true));
    }

    [Theory]
    [InlineData(MemberRole.Member, MemberRole.Member, true, true)]
    [InlineData(MemberRole.Member, MemberRole.Member, false, false)]
    [InlineData(MemberRole.Admin, MemberRole.Member, false, true)]
    [InlineData(MemberRole.Admin, MemberRole.Admin, false, false)]
    [InlineData(MemberRole.Admin, MemberRole.Owner, false, false)]
    [InlineData(MemberRole.Owner, MemberRole.Admin, false, true)]
    [InlineData(MemberRole.Owner, MemberRole.Owner, true, true)]
    public void MayEditProfileOf_ByRoles_OwnOrManaged(MemberRole caller, MemberRole target, bool isSelf, bool expected) =>
        Assert.Equal(expected, MemberRules.MayEditProfileOf(caller, target, isSelf, isAppAdmin: false));

    [Theory]
    [InlineData(MemberRole.Member, false, false, false, false)]
    [InlineData(MemberRole.Member, false, true, false, true)]
    [InlineData(MemberRole.Member, false, true, true, false)]
    [InlineData(MemberRole.Admin, false, true, false, false)]
    [InlineData(MemberRole.Owner, false, true, false, false)]
    [InlineData(MemberRole.Admin, true, false, false, true)]
    [InlineData(MemberRole.Member, true, true, true, true)]
    public void IsMuted_PersonalMuteBindsAllMuteAllSparesStaffAndAllowlist(
        MemberRole role, bool personallyMuted, bool muteAll, bool allowlisted, bool expected)
    {
        var now = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var me = new MemberRow { UserId = "u", Role = role, MutedUntil = personallyMuted ? now.AddMinutes(1) : now.AddMinutes(-1) };

        Assert.Equal(expected, MemberRules.IsMuted(me, muteAll, allowlisted, now));
    }
}
