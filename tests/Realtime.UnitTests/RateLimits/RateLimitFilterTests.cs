using System.Reflection;
using Realtime.Server.Hubs;
using Realtime.Server.RateLimits;

namespace Realtime.UnitTests.RateLimits;

public sealed class RateLimitFilterTests
{
    private static IEnumerable<string> HubMethods() => typeof(GroupHub)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => !m.IsSpecialName && !m.Name.StartsWith("On", StringComparison.Ordinal))
        .Select(m => m.Name);

    [Fact]
    public void ClassOf_EveryReadingMethod_IsARead()
    {
        foreach (var method in HubMethods().Where(m => m.StartsWith("Get", StringComparison.Ordinal) || m.StartsWith("Search", StringComparison.Ordinal)))
            Assert.Equal(RateClass.Reads, RateLimitFilter.ClassOf(method));
        Assert.Equal(RateClass.Reads, RateLimitFilter.ClassOf("Sync"));
    }

    [Theory]
    [InlineData("SendMessage", RateClass.Messages)]
    [InlineData("CreateGroup", RateClass.Creates)]
    [InlineData("InviteMembers", RateClass.Writes)]
    [InlineData("UpdateMember", RateClass.Writes)]
    [InlineData("sendmessage", RateClass.Messages)]
    public void ClassOf_Commands_ByWhatTheyCost(string method, RateClass expected) =>
        Assert.Equal(expected, RateLimitFilter.ClassOf(method));

    [Fact]
    public void ClassOf_EveryClassifiedMethod_ExistsOnTheHub()
    {
        var methods = HubMethods().ToHashSet();
        foreach (var name in new[] { "SendMessage", "CreateGroup", "Sync", "WhoAmI", "GetGroups", "SearchGroup", "GetJoinedGroups", "GetPendingItems", "GetMembers", "GetBlocklist", "GetAllowlist" })
            Assert.Contains(name, methods);
    }
}
