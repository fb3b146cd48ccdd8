using Realtime.Server.Groups;

namespace Realtime.UnitTests.Groups;

/// <summary>
/// GroupTypeRules against SPEC §2's table, one data row per cell of each table row
/// (and the "Further rules" below it). Expected values are read from the spec, not the code.
/// </summary>
public sealed class GroupTypeRulesTests
{
    // "default / max maxMembers | 200 / 2000 | 2000 / 6000 | 10000 / 10000 | unlimited | unlimited"
    // (SPEC §4: "Unlimited maxMembers is null".)
    [Theory]
    [InlineData(GroupType.Private, 200)]
    [InlineData(GroupType.Public, 2000)]
    [InlineData(GroupType.ChatRoom, 10000)]
    [InlineData(GroupType.AVChatRoom, null)]
    [InlineData(GroupType.BChatRoom, null)]
    public void DefaultMaxMembers_ByType_MatchesSpecTable(GroupType type, int? expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).DefaultMaxMembers);

    [Theory]
    [InlineData(GroupType.Private, 2000)]
    [InlineData(GroupType.Public, 6000)]
    [InlineData(GroupType.ChatRoom, 10000)]
    [InlineData(GroupType.AVChatRoom, null)]
    [InlineData(GroupType.BChatRoom, null)]
    public void MaxMaxMembers_ByType_MatchesSpecTable(GroupType type, int? expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).MaxMaxMembers);

    // "found by SearchGroup (non-members) | no (looks like not found) | yes | yes | yes | yes"
    [Theory]
    [InlineData(GroupType.Private, false)]
    [InlineData(GroupType.Public, true)]
    [InlineData(GroupType.ChatRoom, true)]
    [InlineData(GroupType.AVChatRoom, true)]
    [InlineData(GroupType.BChatRoom, true)]
    public void SearchableByNonMembers_ByType_MatchesSpecTable(GroupType type, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).SearchableByNonMembers);

    // "apply to join | never (ApplyNotAllowed) | by applyJoinOption, default NeedPermission |
    //  default FreeAccess | default FreeAccess | default FreeAccess"
    // and §4: "A Private group reports applyJoinOption: DisableApply."
    [Theory]
    [InlineData(GroupType.Private, ApplyJoinOption.DisableApply)]
    [InlineData(GroupType.Public, ApplyJoinOption.NeedPermission)]
    [InlineData(GroupType.ChatRoom, ApplyJoinOption.FreeAccess)]
    [InlineData(GroupType.AVChatRoom, ApplyJoinOption.FreeAccess)]
    [InlineData(GroupType.BChatRoom, ApplyJoinOption.FreeAccess)]
    public void DefaultApplyJoinOption_ByType_MatchesSpecTable(GroupType type, ApplyJoinOption expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).DefaultApplyJoinOption);

    // Only Private says "never"; every other cell is a default, so the option may be changed.
    [Theory]
    [InlineData(GroupType.Private, true)]
    [InlineData(GroupType.Public, false)]
    [InlineData(GroupType.ChatRoom, false)]
    [InlineData(GroupType.AVChatRoom, false)]
    [InlineData(GroupType.BChatRoom, false)]
    public void ApplyJoinOptionFixed_ByType_OnlyPrivateNeverApplies(GroupType type, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).ApplyJoinOptionFixed);

    // "invite (inviteOption default) | Anyone | AdminsOnly | AdminsOnly | Disabled (fixed) | Disabled (fixed)"
    [Theory]
    [InlineData(GroupType.Private, InviteOption.Anyone)]
    [InlineData(GroupType.Public, InviteOption.AdminsOnly)]
    [InlineData(GroupType.ChatRoom, InviteOption.AdminsOnly)]
    [InlineData(GroupType.AVChatRoom, InviteOption.Disabled)]
    [InlineData(GroupType.BChatRoom, InviteOption.Disabled)]
    public void DefaultInviteOption_ByType_MatchesSpecTable(GroupType type, InviteOption expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).DefaultInviteOption);

    [Theory]
    [InlineData(GroupType.Private, false)]
    [InlineData(GroupType.Public, false)]
    [InlineData(GroupType.ChatRoom, false)]
    [InlineData(GroupType.AVChatRoom, true)]
    [InlineData(GroupType.BChatRoom, true)]
    public void InviteOptionFixed_ByType_OnlyWhereSpecSaysFixed(GroupType type, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).InviteOptionFixed);

    // "modify group profile | any member | owner, admins | owner, admins | owner | app admin only"
    [Theory]
    [InlineData(GroupType.Private, Allowed.AnyMember)]
    [InlineData(GroupType.Public, Allowed.OwnerAndAdmins)]
    [InlineData(GroupType.ChatRoom, Allowed.OwnerAndAdmins)]
    [InlineData(GroupType.AVChatRoom, Allowed.Owner)]
    [InlineData(GroupType.BChatRoom, Allowed.AppAdminOnly)]
    public void ModifyProfile_ByType_MatchesSpecTable(GroupType type, Allowed expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).ModifyProfile);

    // "set / unset admin | not supported | owner | owner | owner | owner"
    [Theory]
    [InlineData(GroupType.Private, false)]
    [InlineData(GroupType.Public, true)]
    [InlineData(GroupType.ChatRoom, true)]
    [InlineData(GroupType.AVChatRoom, true)]
    [InlineData(GroupType.BChatRoom, true)]
    public void SupportsAdmins_ByType_MatchesSpecTable(GroupType type, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).SupportsAdmins);

    // "dissolve (hub) | app admin only | owner | owner | owner | app admin only"
    [Theory]
    [InlineData(GroupType.Private, Allowed.AppAdminOnly)]
    [InlineData(GroupType.Public, Allowed.Owner)]
    [InlineData(GroupType.ChatRoom, Allowed.Owner)]
    [InlineData(GroupType.AVChatRoom, Allowed.Owner)]
    [InlineData(GroupType.BChatRoom, Allowed.AppAdminOnly)]
    public void Dissolve_ByType_MatchesSpecTable(GroupType type, Allowed expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).Dissolve);

    // "A user belongs to at most 1000 groups (AVChatRoom/BChatRoom not counted)"
    [Theory]
    [InlineData(GroupType.Private, true)]
    [InlineData(GroupType.Public, true)]
    [InlineData(GroupType.ChatRoom, true)]
    [InlineData(GroupType.AVChatRoom, false)]
    [InlineData(GroupType.BChatRoom, false)]
    public void CountsTowardJoinedLimit_ByType_AvAndBChatRoomsNotCounted(GroupType type, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).CountsTowardJoinedLimit);

    // "send message | any unmuted member | same | same | same | owner and admins only"
    [Theory]
    [InlineData(GroupType.Private, false)]
    [InlineData(GroupType.Public, false)]
    [InlineData(GroupType.ChatRoom, false)]
    [InlineData(GroupType.AVChatRoom, false)]
    [InlineData(GroupType.BChatRoom, true)]
    public void OnlyOwnerAndAdminsSend_ByType_OnlyBChatRoom(GroupType type, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.For(type).OnlyOwnerAndAdminsSend);

    [Theory]
    [InlineData(GroupType.Private)]
    [InlineData(GroupType.Public)]
    [InlineData(GroupType.ChatRoom)]
    [InlineData(GroupType.AVChatRoom)]
    [InlineData(GroupType.BChatRoom)]
    public void For_EachType_DescribesThatTypeWithDefaultWithinMax(GroupType type)
    {
        var rules = GroupTypeRules.For(type);
        Assert.Equal(type, rules.Type);
        Assert.Equal(rules.DefaultMaxMembers is null, rules.MaxMaxMembers is null);
        if (rules.DefaultMaxMembers is { } d) Assert.InRange(d, 1, rules.MaxMaxMembers!.Value);
    }

    [Fact]
    public void For_UndefinedType_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupTypeRules.For((GroupType)99));

    // Permits: one row per (allowed cell, caller role) for a hub user; null role = not a member.
    [Theory]
    [InlineData(Allowed.AnyMember, null, false)]
    [InlineData(Allowed.AnyMember, MemberRole.Member, true)]
    [InlineData(Allowed.AnyMember, MemberRole.Admin, true)]
    [InlineData(Allowed.AnyMember, MemberRole.Owner, true)]
    [InlineData(Allowed.OwnerAndAdmins, null, false)]
    [InlineData(Allowed.OwnerAndAdmins, MemberRole.Member, false)]
    [InlineData(Allowed.OwnerAndAdmins, MemberRole.Admin, true)]
    [InlineData(Allowed.OwnerAndAdmins, MemberRole.Owner, true)]
    [InlineData(Allowed.Owner, null, false)]
    [InlineData(Allowed.Owner, MemberRole.Member, false)]
    [InlineData(Allowed.Owner, MemberRole.Admin, false)]
    [InlineData(Allowed.Owner, MemberRole.Owner, true)]
    [InlineData(Allowed.AppAdminOnly, null, false)]
    [InlineData(Allowed.AppAdminOnly, MemberRole.Member, false)]
    [InlineData(Allowed.AppAdminOnly, MemberRole.Admin, false)]
    [InlineData(Allowed.AppAdminOnly, MemberRole.Owner, false)]
    public void Permits_HubUserByRole_FollowsCellWording(Allowed allowed, MemberRole? role, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.Permits(allowed, role, isAppAdmin: false));

    // "The app admin (REST) may do everything, on any group" — member or not.
    [Theory]
    [InlineData(Allowed.AnyMember, null)]
    [InlineData(Allowed.OwnerAndAdmins, null)]
    [InlineData(Allowed.Owner, null)]
    [InlineData(Allowed.AppAdminOnly, null)]
    [InlineData(Allowed.AppAdminOnly, MemberRole.Member)]
    [InlineData(Allowed.Owner, MemberRole.Admin)]
    public void Permits_AppAdmin_AlwaysPermitted(Allowed allowed, MemberRole? role) =>
        Assert.True(GroupTypeRules.Permits(allowed, role, isAppAdmin: true));

    // The "modify group profile" row read as who, per type, a hub user may be.
    [Theory]
    [InlineData(GroupType.Private, MemberRole.Member, true)]
    [InlineData(GroupType.Private, MemberRole.Admin, true)]
    [InlineData(GroupType.Private, MemberRole.Owner, true)]
    [InlineData(GroupType.Private, null, false)]
    [InlineData(GroupType.Public, MemberRole.Member, false)]
    [InlineData(GroupType.Public, MemberRole.Admin, true)]
    [InlineData(GroupType.Public, MemberRole.Owner, true)]
    [InlineData(GroupType.ChatRoom, MemberRole.Member, false)]
    [InlineData(GroupType.ChatRoom, MemberRole.Admin, true)]
    [InlineData(GroupType.ChatRoom, MemberRole.Owner, true)]
    [InlineData(GroupType.AVChatRoom, MemberRole.Member, false)]
    [InlineData(GroupType.AVChatRoom, MemberRole.Admin, false)]
    [InlineData(GroupType.AVChatRoom, MemberRole.Owner, true)]
    [InlineData(GroupType.BChatRoom, MemberRole.Member, false)]
    [InlineData(GroupType.BChatRoom, MemberRole.Admin, false)]
    [InlineData(GroupType.BChatRoom, MemberRole.Owner, false)]
    public void ModifyProfile_ByTypeAndRole_FollowsSpecRow(GroupType type, MemberRole? role, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.Permits(GroupTypeRules.For(type).ModifyProfile, role, isAppAdmin: false));

    // The "dissolve (hub)" row read the same way.
    [Theory]
    [InlineData(GroupType.Private, MemberRole.Member, false)]
    [InlineData(GroupType.Private, MemberRole.Admin, false)]
    [InlineData(GroupType.Private, MemberRole.Owner, false)]
    [InlineData(GroupType.Public, MemberRole.Member, false)]
    [InlineData(GroupType.Public, MemberRole.Admin, false)]
    [InlineData(GroupType.Public, MemberRole.Owner, true)]
    [InlineData(GroupType.ChatRoom, MemberRole.Member, false)]
    [InlineData(GroupType.ChatRoom, MemberRole.Admin, false)]
    [InlineData(GroupType.ChatRoom, MemberRole.Owner, true)]
    [InlineData(GroupType.AVChatRoom, MemberRole.Member, false)]
    [InlineData(GroupType.AVChatRoom, MemberRole.Admin, false)]
    [InlineData(GroupType.AVChatRoom, MemberRole.Owner, true)]
    [InlineData(GroupType.BChatRoom, MemberRole.Member, false)]
    [InlineData(GroupType.BChatRoom, MemberRole.Admin, false)]
    [InlineData(GroupType.BChatRoom, MemberRole.Owner, false)]
    public void Dissolve_ByTypeAndRole_FollowsSpecRow(GroupType type, MemberRole role, bool expected) =>
        Assert.Equal(expected, GroupTypeRules.Permits(GroupTypeRules.For(type).Dissolve, role, isAppAdmin: false));

    [Theory]
    [InlineData(GroupType.Private)]
    [InlineData(GroupType.Public)]
    [InlineData(GroupType.ChatRoom)]
    [InlineData(GroupType.AVChatRoom)]
    [InlineData(GroupType.BChatRoom)]
    public void ModifyProfileAndDissolve_AppAdmin_PermittedOnEveryType(GroupType type)
    {
        var rules = GroupTypeRules.For(type);
        Assert.True(GroupTypeRules.Permits(rules.ModifyProfile, null, isAppAdmin: true));
        Assert.True(GroupTypeRules.Permits(rules.Dissolve, null, isAppAdmin: true));
    }
}
