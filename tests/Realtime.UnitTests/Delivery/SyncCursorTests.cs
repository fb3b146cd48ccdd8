using System.Text.Json;
using Realtime.Server;
using Realtime.Server.Delivery;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.UnitTests.Delivery;

/// <summary>Sync's group cursors (SPEC §4): a number or { since, epoch }, bound strictly.</summary>
public sealed class SyncCursorTests
{
    private static SyncRequest Bind(string json) => RealtimeJson.Bind<SyncRequest>(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Bind_NumberAndObjectCursors_Bound()
    {
        var r = Bind("""{"systemSince":0,"groups":{"a":3,"b":{"since":4,"epoch":"e1"},"c":{"epoch":"e2","since":0},"d":{"since":5}}}""");

        Assert.Equal(new SyncCursor(3), r.Groups!["a"]);
        Assert.Equal(new SyncCursor(4, "e1"), r.Groups["b"]);
        Assert.Equal(new SyncCursor(0, "e2"), r.Groups["c"]);
        Assert.Equal(new SyncCursor(5), r.Groups["d"]);
    }

    [Fact]
    public void Bind_NullOrAbsentGroups_NoCursors()
    {
        Assert.Null(Bind("""{"systemSince":0}""").Groups);
        Assert.Null(Bind("""{"systemSince":0,"groups":null}""").Groups);
        Assert.Empty(Bind("""{"systemSince":0,"groups":{}}""").Groups!);
    }

    [Fact]
    public void Bind_NullEpoch_AsAbsent()
    {
        Assert.Equal(new SyncCursor(2), Bind("""{"systemSince":0,"groups":{"a":{"since":2,"epoch":null}}}""").Groups!["a"]);
    }

    [Fact]
    public void Bind_LargestSinceAndLongestEpoch_Bound()
    {
        var epoch = new string('x', GroupEpoch.MaxLength);
        var r = Bind("{\"systemSince\":0,\"groups\":{\"a\":{\"since\":" + long.MaxValue + ",\"epoch\":\"" + epoch + "\"}}}");
        Assert.Equal(new SyncCursor(long.MaxValue, epoch), r.Groups!["a"]);
    }

    [Theory]
    [InlineData("5", "must be an object")]
    [InlineData("[]", "must be an object")]
    [InlineData("\"a\"", "must be an object")]
    [InlineData("""{"a":"1"}""", "must be a number or")]
    [InlineData("""{"a":null}""", "must be a number or")]
    [InlineData("""{"a":false}""", "must be a number or")]
    [InlineData("""{"a":[0]}""", "must be a number or")]
    [InlineData("""{"a":1.5}""", "whole number")]
    [InlineData("""{"a":1e2}""", "whole number")]
    [InlineData("""{"a":99999999999999999999}""", "whole number")]
    [InlineData("""{"a":-1}""", "negative")]
    [InlineData("""{"a":{}}""", "needs 'since'")]
    [InlineData("""{"a":{"epoch":"e"}}""", "needs 'since'")]
    [InlineData("""{"a":{"since":null}}""", "whole number")]
    [InlineData("""{"a":{"since":"1"}}""", "whole number")]
    [InlineData("""{"a":{"since":-3,"epoch":"e"}}""", "negative")]
    [InlineData("""{"a":{"since":1,"epoch":7}}""", "must be a string")]
    [InlineData("""{"a":{"since":1,"epoch":{}}}""", "must be a string")]
    [InlineData("""{"a":{"since":1,"epoch":""}}""", "1-64 chars")]
    [InlineData("""{"a":{"since":1,"epoch":"e","seq":2}}""", "unknown field 'seq'")]
    [InlineData("""{"a":{"since":1,"since":2}}""", "'since' twice")]
    [InlineData("""{"a":{"since":1,"epoch":"e","epoch":"f"}}""", "'epoch' twice")]
    [InlineData("""{"a":1,"a":2}""", "twice")]
    public void Bind_BadCursor_InvalidArgumentNamingGroups(string groups, string problem)
    {
        var e = Assert.Throws<RealtimeException>(() => Bind($$"""{"systemSince":0,"groups":{{groups}}}"""));

        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith("groups: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Bind_EpochTooLong_InvalidArgumentNamingGroups()
    {
        var epoch = new string('x', GroupEpoch.MaxLength + 1);
        var e = Assert.Throws<RealtimeException>(() => Bind("{\"systemSince\":0,\"groups\":{\"a\":{\"since\":1,\"epoch\":\"" + epoch + "\"}}}"));
        Assert.StartsWith("groups: ", e.Message);
    }

    [Fact]
    public void Bind_HugeUnknownFieldName_MessageCutShort()
    {
        var name = new string('k', 10_000);
        var e = Assert.Throws<RealtimeException>(() => Bind("{\"systemSince\":0,\"groups\":{\"a\":{\"since\":1,\"" + name + "\":1}}}"));
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Fact]
    public void Serialize_RoundTrips()
    {
        var r = new SyncRequest(0, new() { ["a"] = 3, ["b"] = new SyncCursor(4, "e") });
        var json = JsonSerializer.Serialize(r, RealtimeJson.Options);

        Assert.Contains("\"groups\":{\"a\":3,\"b\":{\"since\":4,\"epoch\":\"e\"}}", json);
        Assert.Equal(r.Groups, RealtimeJson.Bind<SyncRequest>(JsonDocument.Parse(json).RootElement).Groups);
    }

    [Theory]
    [InlineData(null, "e1", false)]
    [InlineData("e1", "e1", false)]
    [InlineData("e0", "e1", true)]
    [InlineData("E1", "e1", true)]
    public void IsOther_OnlyAnEpochThatDiffers(string? cursorEpoch, string epoch, bool other)
    {
        Assert.Equal(other, SyncEpochs.IsOther(new SyncCursor(5, cursorEpoch), epoch));
    }

    [Fact]
    public void Answer_Member_TooOldEmptyAndNextAtTheFirstWindow()
    {
        var g = SyncEpochs.Answer([(7, 9), (12, null)], trimmedThrough: 0, "e");

        Assert.Equal((0, 7L, false, false, true, "e"), (g.Items.Count, g.Next, g.HasMore, g.Removed, g.TooOld, g.Epoch));
    }

    [Fact]
    public void Answer_Removed_SaysSo()
    {
        var g = SyncEpochs.Answer([(0, 4)], trimmedThrough: 0, "e");

        Assert.True(g.Removed);
        Assert.Equal(0, g.Next);
    }

    [Fact]
    public void Answer_StartTrimmed_NextWhereTheRetainedLogStarts()
    {
        var g = SyncEpochs.Answer([(2, null)], trimmedThrough: 40, "e");

        Assert.Equal(40, g.Next);
    }

    [Fact]
    public void New_Epochs_UrlSafeRandomAndDistinct()
    {
        var epochs = Enumerable.Range(0, 1000).Select(_ => GroupEpoch.New()).ToList();

        Assert.All(epochs, e => Assert.Matches("^[0-9a-f]{32}$", e));
        Assert.Equal(epochs.Count, epochs.Distinct().Count());
    }
}
