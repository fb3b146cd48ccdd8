using Realtime.Server.Errors;

namespace Realtime.UnitTests.Foundation;

public sealed class ErrorCodeTests
{
    [Theory]
    [InlineData(ErrorCode.InvalidArgument, 10001, 400)]
    [InlineData(ErrorCode.Unauthorized, 10002, 401)]
    [InlineData(ErrorCode.PermissionDenied, 10003, 403)]
    [InlineData(ErrorCode.GroupNotFound, 10004, 404)]
    [InlineData(ErrorCode.NotMember, 10005, 403)]
    [InlineData(ErrorCode.AlreadyMember, 10006, 409)]
    [InlineData(ErrorCode.GroupFull, 10007, 409)]
    [InlineData(ErrorCode.GroupIdTaken, 10008, 409)]
    [InlineData(ErrorCode.QuotaExceeded, 10009, 429)]
    [InlineData(ErrorCode.GroupDisabled, 10010, 403)]
    [InlineData(ErrorCode.OwnerCannotQuit, 10011, 409)]
    [InlineData(ErrorCode.AdminLimitReached, 10012, 409)]
    [InlineData(ErrorCode.MemberMuted, 10013, 403)]
    [InlineData(ErrorCode.Blocked, 10014, 403)]
    [InlineData(ErrorCode.ApplyNotAllowed, 10015, 403)]
    [InlineData(ErrorCode.InviteNotAllowed, 10016, 403)]
    [InlineData(ErrorCode.PendingNotFound, 10017, 404)]
    [InlineData(ErrorCode.PendingAlreadyHandled, 10018, 409)]
    [InlineData(ErrorCode.JoinedGroupLimit, 10019, 409)]
    [InlineData(ErrorCode.CallbackRejected, 10020, 403)]
    [InlineData(ErrorCode.RateLimited, 10021, 429)]
    [InlineData(ErrorCode.UnsupportedForGroupType, 10022, 400)]
    [InlineData(ErrorCode.UserNotFound, 10023, 404)]
    [InlineData(ErrorCode.VersionConflict, 10024, 409)]
    [InlineData(ErrorCode.InviteLinkInvalid, 10025, 404)]
    [InlineData(ErrorCode.Internal, 10099, 500)]
    public void ErrorCode_MatchesSpecTable(ErrorCode code, int number, int status)
    {
        Assert.Equal(number, (int)code);
        Assert.Equal(status, code.HttpStatus());
    }

    [Fact]
    public void HubMessage_StartsWithBracketedCode()
    {
        var e = new RealtimeException(ErrorCode.GroupNotFound, "group x does not exist");
        Assert.Equal("[GroupNotFound] group x does not exist", e.HubMessage);
    }
}
