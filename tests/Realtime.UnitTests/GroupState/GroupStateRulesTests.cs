using Realtime.Server.Errors;
using Realtime.Server.Groups;
using Realtime.Server.GroupState;

namespace Realtime.UnitTests.GroupState;

public sealed class GroupStateRulesTests
{
    private static readonly Dictionary<string, AttributeValue> None = [];

    private static ErrorCode CodeOf(Action a) => Assert.Throws<RealtimeException>(a).Code;

    [Theory]
    [InlineData("a", true)]
    [InlineData("Seat_1.mic:on-2", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("é", false)]
    [InlineData("a\0", false)]
    public void IsValidKey_CharactersOfTheSpec(string key, bool valid) => Assert.Equal(valid, GroupStateRules.IsValidKey(key));

    [Fact]
    public void IsValidKey_LengthEdges()
    {
        Assert.True(GroupStateRules.IsValidKey(new string('k', 64)));
        Assert.False(GroupStateRules.IsValidKey(new string('k', 65)));
        Assert.False(GroupStateRules.IsValidKey(null));
    }

    [Theory]
    [InlineData(GroupType.Private, Allowed.AnyMember)]
    [InlineData(GroupType.Public, Allowed.OwnerAndAdmins)]
    [InlineData(GroupType.ChatRoom, Allowed.OwnerAndAdmins)]
    [InlineData(GroupType.AVChatRoom, Allowed.OwnerAndAdmins)]
    [InlineData(GroupType.BChatRoom, Allowed.OwnerAndAdmins)]
    public void AttributeWriters_PerType(GroupType type, Allowed expected) => Assert.Equal(expected, GroupStateRules.AttributeWriters(type));

    [Fact]
    public void ApplyAttributes_VersionsStartAtOneAndCountChanges()
    {
        var (first, changes) = GroupStateRules.ApplyAttributes(None, new Dictionary<string, string> { ["a"] = "1" }, null, null);
        Assert.Equal(new AttributeValue("1", 1), first["a"]);
        Assert.Equal(new AttributeValue("1", 1), changes["a"]);
        var (second, _) = GroupStateRules.ApplyAttributes(first, new Dictionary<string, string> { ["a"] = "2" }, null, new Dictionary<string, long> { ["a"] = 1 });
        Assert.Equal(2, second["a"].Version);
        var (third, removed) = GroupStateRules.ApplyAttributes(second, null, ["a", "never"], null);
        Assert.Empty(third);
        Assert.Single(removed);
        Assert.Null(removed["a"]);
    }

    [Fact]
    public void ApplyAttributes_ExpectedVersionMismatch_VersionConflictNothingReturned()
    {
        var current = new Dictionary<string, AttributeValue> { ["a"] = new("x", 3) };
        Assert.Equal(ErrorCode.VersionConflict, CodeOf(() => GroupStateRules.ApplyAttributes(current, new Dictionary<string, string> { ["b"] = "1" }, null, new Dictionary<string, long> { ["a"] = 2 })));
        Assert.Equal(ErrorCode.VersionConflict, CodeOf(() => GroupStateRules.ApplyAttributes(current, new Dictionary<string, string> { ["a"] = "1" }, null, new Dictionary<string, long> { ["a"] = 0 })));
        Assert.Equal(ErrorCode.VersionConflict, CodeOf(() => GroupStateRules.ApplyAttributes(current, new Dictionary<string, string> { ["b"] = "1" }, null, new Dictionary<string, long> { ["b"] = 1 })));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(current, new Dictionary<string, string> { ["b"] = "1" }, null, new Dictionary<string, long> { ["b"] = -1 })));
        Assert.Equal("x", current["a"].Value);
    }

    [Fact]
    public void ApplyAttributes_LimitsCountTheStateAfterTheCall()
    {
        var full = Enumerable.Range(0, 32).ToDictionary(i => $"k{i}", _ => new AttributeValue("v", 1));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(full, new Dictionary<string, string> { ["k32"] = "v" }, null, null)));
        var (swapped, _) = GroupStateRules.ApplyAttributes(full, new Dictionary<string, string> { ["k32"] = "v" }, ["k0"], null);
        Assert.Equal(32, swapped.Count);

        var big = Enumerable.Range(0, 4).ToDictionary(i => $"b{i}", _ => new AttributeValue(new string('x', 4096), 1));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(big, new Dictionary<string, string> { ["one"] = "x" }, null, null)));
        // Bytes, not characters: 4096 two-byte characters are 8 KiB.
        var (twoByte, _) = GroupStateRules.ApplyAttributes(None, new Dictionary<string, string> { ["a"] = new string('é', 4096), ["b"] = new string('é', 4096) }, null, null);
        Assert.Equal(2, twoByte.Count);
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(twoByte, new Dictionary<string, string> { ["c"] = "x" }, null, null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(None, new Dictionary<string, string> { ["a"] = new string('x', 4097) }, null, null)));
    }

    [Fact]
    public void ApplyAttributes_ArgumentErrors()
    {
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(None, null, null, null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(None, new Dictionary<string, string> { ["a"] = "1" }, ["a"], null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(None, null, ["a", "a"], null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(None, new Dictionary<string, string> { ["a"] = null! }, null, null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyAttributes(None, null, ["bad key"], null)));
    }

    [Fact]
    public void ApplyCounters_OverflowRefusedEitherWay()
    {
        var current = new Dictionary<string, long> { ["max"] = long.MaxValue, ["min"] = long.MinValue };
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyCounters(current, new Dictionary<string, long> { ["max"] = 1 }, null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyCounters(current, new Dictionary<string, long> { ["min"] = -1 }, null)));
        var (next, changed) = GroupStateRules.ApplyCounters(current, new Dictionary<string, long> { ["max"] = -1, ["new"] = 5 }, new Dictionary<string, long> { ["min"] = 0 });
        Assert.Equal((long.MaxValue - 1, 5L, 0L), (next["max"], next["new"], next["min"]));
        Assert.Equal(["min", "max", "new"], changed);
        Assert.Equal(long.MaxValue, current["max"]);
    }

    [Fact]
    public void ApplyCounters_TwentyKeysAfterTheCallAndArgumentErrors()
    {
        var twenty = Enumerable.Range(0, 20).ToDictionary(i => $"c{i}", _ => 0L);
        GroupStateRules.ApplyCounters(twenty, new Dictionary<string, long> { ["c0"] = 1 }, null);
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyCounters(twenty, new Dictionary<string, long> { ["c20"] = 1 }, null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyCounters(twenty, null, null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyCounters(twenty, new Dictionary<string, long> { ["a"] = 1 }, new Dictionary<string, long> { ["a"] = 1 })));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.ApplyCounters(twenty, null, new Dictionary<string, long> { ["a b"] = 1 })));
    }

    [Theory]
    [InlineData(10, 4, 2, 4)]
    [InlineData(10, 10, 0, 0)]
    [InlineData(10, 11, 0, 0)]
    public void Unread_MessagesAfterTheCursorNotOwnNeverNegative(long total, long read, long own, long expected) =>
        Assert.Equal(expected, GroupStateRules.Unread(total, read, own));

    [Fact]
    public void Seq_And_Page_Rules()
    {
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.Seq(null)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.Seq(-1)));
        Assert.Equal(0, GroupStateRules.Seq(0));
        Assert.Equal((0, 100), GroupStateRules.Page(null, null));
        Assert.Equal((5, 500), GroupStateRules.Page(5, 500));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.Page(0, 501)));
        Assert.Equal(ErrorCode.InvalidArgument, CodeOf(() => GroupStateRules.Page(-1, 1)));
    }
}
