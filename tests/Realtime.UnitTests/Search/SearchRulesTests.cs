using Realtime.Server.Errors;
using Realtime.Server.Search;

namespace Realtime.UnitTests.Search;

public sealed class SearchRulesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("  spaced  ")]
    public void Query_OneToSixtyFour_TakenAsTyped(string query) => Assert.Equal(query, SearchRules.Query(query));

    [Fact]
    public void Query_SixtyFourAstralCodePoints_Accepted() =>
        Assert.Equal(64, SearchRules.Query(string.Concat(Enumerable.Repeat("\U0001F600", 64))).Length / 2);

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Query_Empty_InvalidArgument(string? query) =>
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<RealtimeException>(() => SearchRules.Query(query)).Code);

    [Fact]
    public void Query_SixtyFive_InvalidArgument() =>
        Assert.StartsWith("query", Assert.Throws<RealtimeException>(() => SearchRules.Query(new string('q', 65))).Message);

    [Theory]
    [InlineData(null, 20)]
    [InlineData(1, 1)]
    [InlineData(50, 50)]
    public void Limit_GroupsWithinBounds(int? limit, int expected) =>
        Assert.Equal(expected, SearchRules.Limit(limit, SearchRules.GroupsLimitMax, SearchRules.GroupsLimitDefault));

    [Theory]
    [InlineData(0)]
    [InlineData(51)]
    public void Limit_GroupsOutOfRange_InvalidArgument(int limit) =>
        Assert.StartsWith("limit", Assert.Throws<RealtimeException>(() => SearchRules.Limit(limit, SearchRules.GroupsLimitMax, SearchRules.GroupsLimitDefault)).Message);

    [Fact]
    public void Limit_MembersUpToHundred() =>
        Assert.Throws<RealtimeException>(() => SearchRules.Limit(101, SearchRules.MembersLimitMax, SearchRules.MembersLimitDefault));

    [Theory]
    [InlineData("50%", "50\\%")]
    [InlineData("a_b", "a\\_b")]
    [InlineData("c:\\d", "c:\\\\d")]
    [InlineData("plain", "plain")]
    public void EscapeLike_SpecialsMatchThemselves(string query, string expected) => Assert.Equal(expected, SearchRules.EscapeLike(query));

    [Fact]
    public void Cursor_RoundTrips()
    {
        var p = new SearchPosition(1, "hiking \U0001F600 club", 123456789);
        Assert.Equal(p, SearchRules.Decode(SearchRules.Encode(p)));
        Assert.Null(SearchRules.Decode(null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage!")]
    [InlineData("AAAAAAAAAAAA")]
    [InlineData("AgAAAAAAAAABYQ")] // rank 2
    public void Cursor_NotOurs_InvalidArgument(string cursor) =>
        Assert.StartsWith("cursor", Assert.Throws<RealtimeException>(() => SearchRules.Decode(cursor)).Message);
}
