namespace Realtime.Server.Errors;

/// <summary>The error codes of SPEC §4: names and numbers are public API.</summary>
public enum ErrorCode
{
    InvalidArgument = 10001,
    Unauthorized = 10002,
    PermissionDenied = 10003,
    GroupNotFound = 10004,
    NotMember = 10005,
    AlreadyMember = 10006,
    GroupFull = 10007,
    GroupIdTaken = 10008,
    QuotaExceeded = 10009,
    GroupDisabled = 10010,
    OwnerCannotQuit = 10011,
    AdminLimitReached = 10012,
    MemberMuted = 10013,
    Blocked = 10014,
    ApplyNotAllowed = 10015,
    InviteNotAllowed = 10016,
    PendingNotFound = 10017,
    PendingAlreadyHandled = 10018,
    JoinedGroupLimit = 10019,
    CallbackRejected = 10020,
    RateLimited = 10021,
    UnsupportedForGroupType = 10022,
    UserNotFound = 10023,
    VersionConflict = 10024,
    InviteLinkInvalid = 10025,
    Internal = 10099,
}

public static class ErrorCodes
{
    /// <summary>The HTTP status that REST answers for a code (SPEC §4 table).</summary>
    public static int HttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument or ErrorCode.UnsupportedForGroupType => 400,
        ErrorCode.Unauthorized => 401,
        ErrorCode.PermissionDenied or ErrorCode.NotMember or ErrorCode.GroupDisabled or ErrorCode.MemberMuted
            or ErrorCode.Blocked or ErrorCode.ApplyNotAllowed or ErrorCode.InviteNotAllowed
            or ErrorCode.CallbackRejected => 403,
        ErrorCode.GroupNotFound or ErrorCode.PendingNotFound or ErrorCode.UserNotFound or ErrorCode.InviteLinkInvalid => 404,
        ErrorCode.AlreadyMember or ErrorCode.GroupFull or ErrorCode.GroupIdTaken or ErrorCode.OwnerCannotQuit
            or ErrorCode.AdminLimitReached or ErrorCode.PendingAlreadyHandled or ErrorCode.JoinedGroupLimit
            or ErrorCode.VersionConflict => 409,
        ErrorCode.QuotaExceeded or ErrorCode.RateLimited => 429,
        _ => 500,
    };
}
