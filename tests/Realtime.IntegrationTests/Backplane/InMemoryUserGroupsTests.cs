namespace Realtime.IntegrationTests.Backplane;

/// <summary>The specification on one node with SignalR's in-memory manager and AddRealtimeLocalUserGroups.</summary>
public sealed class InMemoryUserGroupsTests : HubLifetimeManagerSpecification
{
    protected override (TestNode A, TestNode B) CreateNodes()
    {
        var node = TestNode.InMemory();
        return (node, node);
    }
}
