using Realtime.Server.Admin;
using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.Membership;

namespace Realtime.UnitTests.Groups;

/// <summary>
/// Validate against SPEC §3 ("Every limit below is enforced ... with InvalidArgument and a message
/// naming the field") and §4 ("Lengths count Unicode code points, after trimming for name").
/// Limits come from the spec's numbers, so a wrong constant fails here.
/// </summary>
public sealed class ValidateTests
{
    /// <summary>A non-BMP character: two UTF-16 units, one code point.</summary>
    private const string Emoji = "\U0001F600";

    private static string Chars(int count, string unit = "x") => string.Concat(Enumerable.Repeat(unit, count));

    private static void AssertInvalid(string field, Action act)
    {
        var e = Assert.Throws<RealtimeException>(act);
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    // ---- code points ----

    [Theory]
    [InlineData("", 0)]
    [InlineData("abc", 3)]
    [InlineData("\U0001F600", 1)]
    [InlineData("a\U0001F600b", 3)]
    [InlineData("\u00E9", 1)]            // precomposed é
    [InlineData("e\u0301", 2)]           // e + combining acute: two code points
    [InlineData("\u4E2D\u6587", 2)]      // CJK, BMP
    public void CodePoints_Strings_CountsUnicodeCodePoints(string s, int expected) =>
        Assert.Equal(expected, Validate.CodePoints(s));

    // ---- the §3 length table (name is separate: trimming and '/') ----

    private static string CheckLength(string field, string value) => field switch
    {
        "introduction" => Validate.MaxLength(value, Validate.IntroductionMax, field),
        "notification" => Validate.MaxLength(value, Validate.NotificationMax, field),
        "custom (group)" => Validate.MaxLength(value, Validate.GroupCustomMax, "custom"),
        "custom (member)" => Validate.MaxLength(value, Validate.MemberCustomMax, "custom"),
        "nameCard" => Validate.MaxLength(value, Validate.NameCardMax, field),
        "message text" => Validate.MaxLength(value, Validate.MessageTextMax, "text"),
        "pending message" => Validate.MaxLength(value, Validate.PendingMessageMax, "message"),
        "reason" => Validate.MaxLength(value, MemberCommands.ReasonMax, field),
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    private static string FieldIn(string row) => row switch
    {
        "custom (group)" or "custom (member)" => "custom",
        "message text" => "text",
        "pending message" => "message",
        _ => row,
    };

    [Theory]
    [InlineData("introduction", 512)]
    [InlineData("notification", 1024)]
    [InlineData("custom (group)", 1024)]
    [InlineData("custom (member)", 512)]
    [InlineData("nameCard", 64)]
    [InlineData("message text", 4000)]
    [InlineData("pending message", 256)]
    [InlineData("reason", 256)]
    public void MaxLength_AtSpecMax_Passes(string row, int specMax)
    {
        var value = Chars(specMax);
        Assert.Equal(value, CheckLength(row, value));
    }

    [Theory]
    [InlineData("introduction", 512)]
    [InlineData("notification", 1024)]
    [InlineData("custom (group)", 1024)]
    [InlineData("custom (member)", 512)]
    [InlineData("nameCard", 64)]
    [InlineData("message text", 4000)]
    [InlineData("pending message", 256)]
    [InlineData("reason", 256)]
    public void MaxLength_SpecMaxPlusOne_InvalidArgumentNamingField(string row, int specMax) =>
        AssertInvalid(FieldIn(row), () => CheckLength(row, Chars(specMax + 1)));

    [Theory]
    [InlineData("introduction", 512)]
    [InlineData("notification", 1024)]
    [InlineData("custom (group)", 1024)]
    [InlineData("custom (member)", 512)]
    [InlineData("nameCard", 64)]
    [InlineData("message text", 4000)]
    [InlineData("pending message", 256)]
    public void MaxLength_SpecMaxEmojis_PassesAsCodePoints(string row, int specMax)
    {
        var value = Chars(specMax, Emoji);
        Assert.Equal(2 * specMax, value.Length);
        Assert.Equal(value, CheckLength(row, value));
    }

    [Theory]
    [InlineData("introduction", 512)]
    [InlineData("nameCard", 64)]
    [InlineData("pending message", 256)]
    public void MaxLength_SpecMaxPlusOneEmojis_InvalidArgument(string row, int specMax) =>
        AssertInvalid(FieldIn(row), () => CheckLength(row, Chars(specMax + 1, Emoji)));

    [Fact]
    public void MaxLength_Null_IsEmpty() => Assert.Equal("", Validate.MaxLength(null, 10, "custom"));

    [Fact]
    public void MaxLength_Empty_Passes() => Assert.Equal("", Validate.MaxLength("", Validate.NameCardMax, "nameCard"));

    // ---- name: 1–128 chars after trimming, no '/' ----

    [Fact]
    public void Name_128Chars_Passes() => Assert.Equal(Chars(128), Validate.Name(Chars(128)));

    [Fact]
    public void Name_129Chars_InvalidArgumentNamingName() => AssertInvalid("name", () => Validate.Name(Chars(129)));

    [Fact]
    public void Name_128Emojis_PassesAsCodePoints() => Assert.Equal(Chars(128, Emoji), Validate.Name(Chars(128, Emoji)));

    [Fact]
    public void Name_129Emojis_InvalidArgument() => AssertInvalid("name", () => Validate.Name(Chars(129, Emoji)));

    [Fact]
    public void Name_OneChar_Passes() => Assert.Equal("a", Validate.Name("a"));

    [Theory]
    [InlineData("  team  ", "team")]
    [InlineData("\tteam one\n", "team one")]
    [InlineData(" a b ", "a b")]
    public void Name_SurroundingWhitespace_ReturnsTrimmed(string raw, string expected) =>
        Assert.Equal(expected, Validate.Name(raw));

    [Fact]
    public void Name_128CharsPlusPadding_PassesBecauseLengthIsAfterTrim() =>
        Assert.Equal(Chars(128), Validate.Name("   " + Chars(128) + "   "));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public void Name_EmptyAfterTrim_InvalidArgument(string? raw) => AssertInvalid("name", () => Validate.Name(raw));

    [Theory]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("team/")]
    public void Name_WithSlash_InvalidArgument(string raw) => AssertInvalid("name", () => Validate.Name(raw));

    [Theory]
    [InlineData("a\\b")]
    [InlineData("a.b-c_d (e)")]
    [InlineData("\u4E2D\u6587\u7FA4")]
    public void Name_OtherPunctuationAndScripts_Passes(string raw) => Assert.Equal(raw, Validate.Name(raw));

    [Fact]
    public void Name_CustomField_NamesThatField() => AssertInvalid("groupname", () => Validate.Name("a/b", "groupname"));

    // ---- faceUrl: ≤ 512 chars, absolute http or https URL ----

    [Theory]
    [InlineData("http://example.com")]
    [InlineData("https://example.com/face.png")]
    [InlineData("https://cdn.example.com:8443/a/b.png?size=64#x")]
    [InlineData("HTTPS://EXAMPLE.COM/A.PNG")]
    public void FaceUrl_AbsoluteHttpOrHttps_Passes(string url) => Assert.Equal(url, Validate.FaceUrl(url));

    [Theory]
    [InlineData("ftp://example.com/face.png")]
    [InlineData("file:///etc/passwd")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:image/png;base64,AAAA")]
    [InlineData("mailto:a@example.com")]
    [InlineData("/relative/face.png")]
    [InlineData("face.png")]
    [InlineData("example.com/face.png")]
    [InlineData("//example.com/face.png")]
    [InlineData("http://")]
    [InlineData("not a url")]
    public void FaceUrl_NotAbsoluteHttp_InvalidArgumentNamingFaceUrl(string url) =>
        AssertInvalid("faceUrl", () => Validate.FaceUrl(url));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void FaceUrl_Absent_IsEmpty(string? url) => Assert.Equal("", Validate.FaceUrl(url));

    private static string UrlOfLength(int length)
    {
        const string prefix = "https://example.com/";
        return prefix + Chars(length - prefix.Length, "a");
    }

    [Fact]
    public void FaceUrl_512Chars_Passes()
    {
        var url = UrlOfLength(512);
        Assert.Equal(512, url.Length);
        Assert.Equal(url, Validate.FaceUrl(url));
    }

    [Fact]
    public void FaceUrl_513Chars_InvalidArgumentNamingFaceUrl() =>
        AssertInvalid("faceUrl", () => Validate.FaceUrl(UrlOfLength(513)));

    // ---- user ids: 1–64 chars of [A-Za-z0-9_.@-] ----

    [Theory]
    [InlineData("u")]
    [InlineData("Alice_01")]
    [InlineData("a.b@example-c.com")]
    [InlineData("0123456789")]
    [InlineData("-._@")]
    public void UserId_WellFormed_ReturnsIt(string id) => Assert.Equal(id, Validate.UserId(id));

    [Fact]
    public void UserId_64Chars_Passes() => Assert.Equal(Chars(64, "u"), Validate.UserId(Chars(64, "u")));

    [Fact]
    public void UserId_65Chars_InvalidArgumentNamingUserId() => AssertInvalid("userId", () => Validate.UserId(Chars(65, "u")));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData(" a")]
    [InlineData("a/b")]
    [InlineData("a#b")]
    [InlineData("a+b")]
    [InlineData("a:b")]
    [InlineData("caf\u00E9")]              // é: a letter, but not [A-Za-z]
    [InlineData("\u0661\u0662")]          // Arabic-Indic digits: digits, but not [0-9]
    [InlineData("\uFF21")]                // fullwidth A
    [InlineData("\U0001F600")]
    public void UserId_Malformed_InvalidArgumentNamingUserId(string? id) => AssertInvalid("userId", () => Validate.UserId(id));

    [Fact]
    public void UserId_CustomField_NamesThatField() => AssertInvalid("newOwnerId", () => Validate.UserId("a b", "newOwnerId"));

    // ---- batches of users: 1–100 (create: 0–100) ----

    private static List<string> Users(int count) => Enumerable.Range(1, count).Select(i => $"u{i}").ToList();

    [Fact]
    public void UserIds_100Users_Passes() => Assert.Equal(Users(100), Validate.UserIds(Users(100), "userIds"));

    [Fact]
    public void UserIds_101Users_InvalidArgumentNamingField() => AssertInvalid("userIds", () => Validate.UserIds(Users(101), "userIds"));

    [Fact]
    public void UserIds_OneUser_Passes() => Assert.Equal(["u1"], Validate.UserIds(["u1"], "userIds"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UserIds_NoneWhereOneRequired_InvalidArgument(bool nullList) =>
        AssertInvalid("userIds", () => Validate.UserIds(nullList ? null : [], "userIds"));

    [Fact]
    public void UserIds_NoneAtCreate_Passes() => Assert.Empty(Validate.UserIds([], "members", min: 0));

    [Fact]
    public void UserIds_101AtCreate_InvalidArgumentNamingMembers() =>
        AssertInvalid("members", () => Validate.UserIds(Users(101), "members", min: 0));

    [Fact]
    public void UserIds_OneMalformed_InvalidArgumentNamingField() =>
        AssertInvalid("usernames", () => Validate.UserIds(["ok", "not ok"], "usernames"));

    [Fact]
    public void UserIds_RepeatedUser_CountedOnce()
    {
        // 101 entries naming 100 users: the limit counts users.
        var list = Users(100);
        list.Add("u1");
        Assert.Equal(Users(100), Validate.UserIds(list, "userIds"));
    }

    [Fact]
    public void UserIds_IdsDifferingOnlyInCase_AreDifferentUsers() =>
        Assert.Equal(["Bob", "bob"], Validate.UserIds(["Bob", "bob"], "userIds"));

    // ---- group ids: auto "@RT#" + 12 of [A-Z2-7], or custom 1–48 of [A-Za-z0-9_.-] not starting with '@' ----

    [Theory]
    [InlineData("@RT#ABCDEFGHIJKL")]
    [InlineData("@RT#234567234567")]
    [InlineData("g")]
    [InlineData("team_1.x-Y")]
    public void GroupId_AutoOrCustom_ReturnsIt(string id) => Assert.Equal(id, Validate.GroupId(id));

    [Fact]
    public void GroupId_48CharCustom_Passes() => Assert.Equal(Chars(48, "g"), Validate.GroupId(Chars(48, "g")));

    [Fact]
    public void GroupId_49CharCustom_InvalidArgumentNamingGroupId() => AssertInvalid("groupId", () => Validate.GroupId(Chars(49, "g")));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("@RT#ABCDEFGHIJK")]      // 11 after the prefix
    [InlineData("@RT#ABCDEFGHIJKLM")]    // 13 after the prefix
    [InlineData("@RT#abcdefghijkl")]     // lower case is not [A-Z2-7]
    [InlineData("@RT#ABCDEFGHIJK1")]     // 1 is not base32
    [InlineData("@RT#ABCDEFGHIJK8")]     // 8 is not base32
    [InlineData("@rt#ABCDEFGHIJKL")]
    [InlineData("@XX#ABCDEFGHIJKL")]
    [InlineData("@team")]
    [InlineData("a@b")]
    [InlineData("a b")]
    [InlineData("a/b")]
    public void GroupId_Malformed_InvalidArgumentNamingGroupId(string? id) => AssertInvalid("groupId", () => Validate.GroupId(id));

    [Fact]
    public void GroupId_CustomField_NamesThatField() => AssertInvalid("groupIds", () => Validate.GroupId("@bad", "groupIds"));

    // ---- requestId: optional, ≤ 64 chars ----

    [Fact]
    public void RequestId_Absent_IsNull() => Assert.Null(Validate.RequestId(null));

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void RequestId_UpTo64Chars_Passes(int length) => Assert.Equal(Chars(length, "r"), Validate.RequestId(Chars(length, "r")));

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void RequestId_EmptyOr65Chars_InvalidArgumentNamingRequestId(int length) =>
        AssertInvalid("requestId", () => Validate.RequestId(Chars(length, "r")));

    [Fact]
    public void RequestId_64EmojiCodePoints_PassesAnd65Fail()
    {
        Assert.Equal(Chars(64, "😀"), Validate.RequestId(Chars(64, "😀")));
        AssertInvalid("requestId", () => Validate.RequestId(Chars(65, "😀")));
    }

    [Fact]
    public void RequestId_AsClientMsgId_NamesThatField() =>
        AssertInvalid("clientMsgId", () => Validate.RequestId("", "clientMsgId"));

    // ---- maxMembers: per-type max from SPEC §2, absent = the type's default ----

    [Theory]
    [InlineData(GroupType.Private, 200)]
    [InlineData(GroupType.Public, 2000)]
    [InlineData(GroupType.ChatRoom, 10000)]
    [InlineData(GroupType.AVChatRoom, null)]
    [InlineData(GroupType.BChatRoom, null)]
    public void MaxMembers_Absent_IsTypeDefault(GroupType type, int? expected) =>
        Assert.Equal(expected, Validate.MaxMembers(null, GroupTypeRules.For(type)));

    [Theory]
    [InlineData(GroupType.Private, 2000)]
    [InlineData(GroupType.Public, 6000)]
    [InlineData(GroupType.ChatRoom, 10000)]
    public void MaxMembers_TypeMax_Passes(GroupType type, int max) =>
        Assert.Equal(max, Validate.MaxMembers(max, GroupTypeRules.For(type)));

    [Theory]
    [InlineData(GroupType.Private, 2000)]
    [InlineData(GroupType.Public, 6000)]
    [InlineData(GroupType.ChatRoom, 10000)]
    public void MaxMembers_TypeMaxPlusOne_InvalidArgumentNamingMaxMembers(GroupType type, int max) =>
        AssertInvalid("maxMembers", () => Validate.MaxMembers(max + 1, GroupTypeRules.For(type)));

    [Theory]
    [InlineData(GroupType.AVChatRoom)]
    [InlineData(GroupType.BChatRoom)]
    public void MaxMembers_UnlimitedType_AcceptsAnyPositive(GroupType type)
    {
        Assert.Equal(100_000, Validate.MaxMembers(100_000, GroupTypeRules.For(type)));
        Assert.Equal(int.MaxValue, Validate.MaxMembers(int.MaxValue, GroupTypeRules.For(type)));
    }

    [Theory]
    [InlineData(GroupType.Private)]
    [InlineData(GroupType.Public)]
    [InlineData(GroupType.ChatRoom)]
    [InlineData(GroupType.AVChatRoom)]
    [InlineData(GroupType.BChatRoom)]
    public void MaxMembers_One_Passes(GroupType type) => Assert.Equal(1, Validate.MaxMembers(1, GroupTypeRules.For(type)));

    [Theory]
    [InlineData(GroupType.Private, 0)]
    [InlineData(GroupType.Public, -1)]
    [InlineData(GroupType.AVChatRoom, 0)]
    [InlineData(GroupType.BChatRoom, int.MinValue)]
    public void MaxMembers_BelowOne_InvalidArgumentNamingMaxMembers(GroupType type, int value) =>
        AssertInvalid("maxMembers", () => Validate.MaxMembers(value, GroupTypeRules.For(type)));

    [Fact]
    public void MaxMembers_CustomField_NamesThatField() =>
        AssertInvalid("maxusers", () => Validate.MaxMembers(2001, GroupTypeRules.For(GroupType.Private), "maxusers"));

    // ---- page sizes: GetMembers ≤ 500 (default 100); GetJoinedGroups ≤ 1000 ----

    [Fact]
    public void Page_GetMembersAbsent_OffsetZeroLimit100() =>
        Assert.Equal((0, 100), Validate.Page(null, null, MemberCommands.MembersPageDefault, MemberCommands.MembersPageMax));

    [Theory]
    [InlineData(1)]
    [InlineData(500)]
    public void Page_GetMembersLimitWithin500_Passes(int limit) =>
        Assert.Equal((7, limit), Validate.Page(7, limit, MemberCommands.MembersPageDefault, MemberCommands.MembersPageMax));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(501)]
    public void Page_GetMembersLimitOutside1To500_InvalidArgumentNamingLimit(int limit) =>
        AssertInvalid("limit", () => Validate.Page(0, limit, MemberCommands.MembersPageDefault, MemberCommands.MembersPageMax));

    [Fact]
    public void Page_NegativeOffset_InvalidArgumentNamingOffset() =>
        AssertInvalid("offset", () => Validate.Page(-1, null, MemberCommands.MembersPageDefault, MemberCommands.MembersPageMax));

    [Fact]
    public void Page_GetJoinedGroups1000_PassesAnd1001Fails()
    {
        Assert.Equal((0, 1000), Validate.Page(0, 1000, defaultLimit: 1000, maxLimit: 1000));
        AssertInvalid("limit", () => Validate.Page(0, 1001, defaultLimit: 1000, maxLimit: 1000));
    }

    // REST: list groups `limit` 1–100 (default 10); joined groups and members `pagesize` 1–1000 (default 1000).
    [Fact]
    public void RestPageConstants_MatchSpec()
    {
        Assert.Equal(10, GroupEndpoints.ListLimitDefault);
        Assert.Equal(100, GroupEndpoints.ListLimitMax);
        Assert.Equal(1000, GroupEndpoints.JoinedPageMax);
        Assert.Equal(1000, MemberEndpoints.MembersPageMax);
    }

    // ---- the remaining §3 constants ----

    [Fact]
    public void Constants_MatchSpecTable()
    {
        Assert.Equal(128, Validate.NameMax);
        Assert.Equal(512, Validate.FaceUrlMax);
        Assert.Equal(100, Validate.BatchUsersMax);
        Assert.Equal(8 * 1024, Validate.MessagePayloadMaxBytes);
        Assert.Equal(64, Validate.RequestIdMax);
    }
}
