namespace Realtime.IntegrationTests.Backplane;

/// <summary>The specification on one node without Redis, as the server runs it (AddRealtimeLocal).</summary>
public sealed class InMemoryUserGroupsTests : HubLifetimeManagerSpecification
{
    protected override (TestNode A, TestNode B) CreateNodes()
    {
        var node = TestNode.InMemory();
        return (node, node);
    }
}

/// <summary>The specification on one node with SignalR's default manager and AddRealtimeLocalUserGroups.</summary>
public sealed class DefaultManagerUserGroupsTests : HubLifetimeManagerSpecification
{
    protected override (TestNode A, TestNode B) CreateNodes()
    {
        var node = TestNode.InMemoryWithDefaultManager();
        return (node, node);
    }
}
