using Realtime.Server.Hubs;

namespace Realtime.IntegrationTests.Infrastructure;

public sealed class TestTerminalContractTests
{
    [Fact]
    public void ServerMethods_MatchTheHubsClientInterface() =>
        Assert.Equal(
            typeof(IGroupClient).GetMethods().Select(m => (m.Name, m.GetParameters().Length)).Order(),
            TestTerminal.ServerMethods.Select(m => (m, 1)).Order());
}
