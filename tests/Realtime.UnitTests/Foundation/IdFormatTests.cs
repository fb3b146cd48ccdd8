using Realtime.Server;

namespace Realtime.UnitTests.Foundation;

/// <summary>
/// SPEC §1 id formats not already covered by IdsTests: auto ids ("@RT#" + 12 of [A-Z2-7]),
/// group ids in general (auto or custom), the user id charset, device ids (1–64 chars).
/// </summary>
public sealed class IdFormatTests
{
    [Fact]
    public void AutoGroupPrefix_IsAtRtHash() => Assert.Equal("@RT#", Ids.AutoGroupPrefix);

    [Theory]
    [InlineData("@RT#ABCDEFGHIJKL", true)]
    [InlineData("@RT#MNOPQRSTUVWX", true)]
    [InlineData("@RT#YZ2345672345", true)]
    [InlineData("@RT#ABCDEFGHIJK", false)]     // 11 chars
    [InlineData("@RT#ABCDEFGHIJKLM", false)]   // 13 chars
    [InlineData("@RT#abcdefghijkl", false)]    // lower case
    [InlineData("@RT#AAAAAAAAAAA0", false)]    // 0 is not in [A-Z2-7]
    [InlineData("@RT#AAAAAAAAAAA1", false)]
    [InlineData("@RT#AAAAAAAAAAA8", false)]
    [InlineData("@RT#AAAAAAAAAAA9", false)]
    [InlineData("@RT#AAAAAAAAAA_A", false)]
    [InlineData("@RT-ABCDEFGHIJKL", false)]
    [InlineData("XRT#ABCDEFGHIJKL", false)]
    [InlineData("ABCDEFGHIJKLMNOP", false)]
    [InlineData("", false)]
    public void IsAutoGroupId_Cases_FollowSpecFormat(string id, bool expected) =>
        Assert.Equal(expected, Ids.IsAutoGroupId(id));

    [Theory]
    [InlineData("@RT#ABCDEFGHIJKL", true)]     // auto
    [InlineData("team_1.x-Y", true)]           // custom
    [InlineData("@RT#ABCDEFGHIJK", false)]     // looks auto, is neither
    [InlineData("@RT#abcdefghijkl", false)]
    [InlineData("a@b", false)]                 // '@' is not in the custom charset at all
    [InlineData("a#b", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsValidGroupId_Cases_AutoOrCustom(string? id, bool expected) =>
        Assert.Equal(expected, Ids.IsValidGroupId(id));

    [Theory]
    [InlineData("@RT#ABCDEFGHIJKL")]           // an auto id can never be chosen as a custom one
    [InlineData("a@b")]
    [InlineData("caf\u00E9")]
    [InlineData("\u0661")]
    [InlineData(null)]
    public void IsValidCustomGroupId_OutsideCharsetOrAt_False(string? id) =>
        Assert.False(Ids.IsValidCustomGroupId(id));

    [Fact]
    public void NewAutoGroupId_Always_PassesAutoButNotCustomCheck()
    {
        var id = Ids.NewAutoGroupId();
        Assert.True(Ids.IsAutoGroupId(id));
        Assert.False(Ids.IsValidCustomGroupId(id));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("Zz9", true)]
    [InlineData("@", true)]
    [InlineData("_-.", true)]
    [InlineData("user@example.com", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData(" user", false)]
    [InlineData("user ", false)]
    [InlineData("a,b", false)]
    [InlineData("a/b", false)]
    [InlineData("a+b", false)]
    [InlineData("a\nb", false)]
    [InlineData("caf\u00E9", false)]
    [InlineData("\u0661\u0662", false)]
    [InlineData("\uFF21", false)]
    [InlineData("\U0001F600", false)]
    public void IsValidUserId_Charset_IsAsciiLettersDigitsAndUnderscoreDotAtHyphen(string? id, bool expected) =>
        Assert.Equal(expected, Ids.IsValidUserId(id));

    [Theory]
    [InlineData(1, true)]
    [InlineData(64, true)]
    [InlineData(65, false)]
    [InlineData(0, false)]
    public void IsValidDeviceId_Length_1To64(int length, bool expected) =>
        Assert.Equal(expected, Ids.IsValidDeviceId(new string('d', length)));

    [Fact]
    public void IsValidDeviceId_SpecExample_Passes() => Assert.True(Ids.IsValidDeviceId("ios-7f3a"));
}
