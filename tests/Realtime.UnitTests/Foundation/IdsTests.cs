using Realtime.Server;

namespace Realtime.UnitTests.Foundation;

public sealed class IdsTests
{
    [Fact]
    public void NewAutoGroupId_Always_HasPrefixAndTwelveBase32Chars()
    {
        for (var i = 0; i < 200; i++)
        {
            var id = Ids.NewAutoGroupId();
            Assert.Matches("^@RT#[A-Z2-7]{12}$", id);
            Assert.True(Ids.IsValidGroupId(id));
        }
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("team_1.x-y", true)]
    [InlineData("@team", false)]
    [InlineData("has space", false)]
    [InlineData("slash/no", false)]
    [InlineData("", false)]
    public void IsValidCustomGroupId_Cases(string id, bool valid) => Assert.Equal(valid, Ids.IsValidCustomGroupId(id));

    [Fact]
    public void IsValidCustomGroupId_LengthEdge_48PassesAnd49Fails()
    {
        Assert.True(Ids.IsValidCustomGroupId(new string('g', 48)));
        Assert.False(Ids.IsValidCustomGroupId(new string('g', 49)));
    }

    [Fact]
    public void IsValidUserId_LengthEdge_64PassesAnd65Fails()
    {
        Assert.True(Ids.IsValidUserId(new string('u', 64)));
        Assert.False(Ids.IsValidUserId(new string('u', 65)));
        Assert.True(Ids.IsValidUserId("a.b@c-d_e"));
        Assert.False(Ids.IsValidUserId("a#b"));
    }
}
