using Realtime.Server.Errors;
using Realtime.Server.History;

namespace Realtime.UnitTests.History;

public sealed class HistoryRulesTests
{
    [Fact]
    public void Page_Absent_NewestAndFifty() => Assert.Equal((long.MaxValue, 50), HistoryRules.Page(null, null));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(200, 200)]
    public void Page_LimitWithinBounds_Kept(int limit, int expected) => Assert.Equal(expected, HistoryRules.Page(5, limit).Limit);

    [Theory]
    [InlineData(null, 0, "limit")]
    [InlineData(null, 201, "limit")]
    [InlineData(0L, null, "before")]
    [InlineData(-5L, null, "before")]
    public void Page_OutOfRange_InvalidArgumentNamingField(long? before, int? limit, string field)
    {
        var e = Assert.Throws<RealtimeException>(() => HistoryRules.Page(before, limit));
        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith(field, e.Message);
    }

    [Fact]
    public void VisibleRanges_CurrentMember_FromJoinToBefore() =>
        Assert.Equal([(10L, 19L)], HistoryRules.VisibleRanges([new MemberWindow(10, null)], 0, 20));

    [Fact]
    public void VisibleRanges_KickedThenRejoined_TheGapIsLeftOutNewestFirst() =>
        Assert.Equal([(30L, long.MaxValue), (10L, 20L)],
            HistoryRules.VisibleRanges([new MemberWindow(10, 20), new MemberWindow(30, null)], 0, long.MaxValue));

    [Fact]
    public void VisibleRanges_BeforeInsideTheGap_OnlyTheEarlierWindow() =>
        Assert.Equal([(10L, 20L)], HistoryRules.VisibleRanges([new MemberWindow(10, 20), new MemberWindow(30, null)], 0, 25));

    [Fact]
    public void VisibleRanges_Trimmed_StartAfterRetention() =>
        Assert.Equal([(15L, 20L)], HistoryRules.VisibleRanges([new MemberWindow(10, 20)], 15, long.MaxValue));

    [Fact]
    public void VisibleRanges_WindowAllTrimmed_Nothing() =>
        Assert.Empty(HistoryRules.VisibleRanges([new MemberWindow(10, 20)], 25, long.MaxValue));

    [Fact]
    public void VisibleRanges_NoWindows_Nothing() => Assert.Empty(HistoryRules.VisibleRanges([], 0, long.MaxValue));

    [Fact]
    public void VisibleRanges_AppAdmin_TheWholeRetainedLog() =>
        Assert.Equal([(7L, 99L)], HistoryRules.VisibleRanges(null, 7, 100));
}
