namespace Realtime.Server.Callbacks;

/// <summary>The CallbackCommand values of SPEC §7.</summary>
public static class CallbackCommand
{
    public const string BeforeCreateGroup = "Group.CallbackBeforeCreateGroup";
    public const string AfterCreateGroup = "Group.CallbackAfterCreateGroup";
    public const string BeforeApplyJoinGroup = "Group.CallbackBeforeApplyJoinGroup";
    public const string BeforeInviteJoinGroup = "Group.CallbackBeforeInviteJoinGroup";
    public const string AfterNewMemberJoin = "Group.CallbackAfterNewMemberJoin";
    public const string AfterMemberExit = "Group.CallbackAfterMemberExit";
    public const string AfterGroupDestroyed = "Group.CallbackAfterGroupDestroyed";
    public const string AfterGroupInfoChanged = "Group.CallbackAfterGroupInfoChanged";
    public const string BeforeSendMsg = "Group.CallbackBeforeSendMsg";
    public const string AfterSendMsg = "Group.CallbackAfterSendMsg";
    public const string AfterGroupAttributesChanged = "Group.CallbackAfterGroupAttributesChanged";

    /// <summary>Members as callbacks list them (Tencent's shape).</summary>
    public static object MemberList(IEnumerable<string> users) => users.Select(u => new { Member_Account = u }).ToList();
}
