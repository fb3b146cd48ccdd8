namespace Realtime.IntegrationTests.Backplane;

/// <summary>
/// What every deployment must guarantee, whatever carries the messages: node A holds the clients,
/// node B makes the calls. Where a test proves that something was NOT delivered, it sends a marker
/// that is ordered after it and checks the marker is the next thing the client sees. The marker
/// goes on another channel (a connection's or a user's), and a backplane need not keep order across
/// channels: so it is sent only after a client on the same node received the message itself, which
/// proves the node has handled it (and would have queued it for the client before the marker).
/// </summary>
public abstract class HubLifetimeManagerSpecification : IAsyncLifetime
{
    private const int OrderingRounds = 50;

    protected TestNode A { get; private set; } = null!;

    protected TestNode B { get; private set; } = null!;

    protected abstract (TestNode A, TestNode B) CreateNodes();

    public Task InitializeAsync()
    {
        (A, B) = CreateNodes();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        if (!ReferenceEquals(A, B))
        {
            await B.DisposeAsync();
        }
    }

    protected static string NewId(string kind) => $"{kind}-{Guid.NewGuid():N}";

    [Fact]
    public async Task SendAllAsync_ClientsOnBothNodes_EveryClientReceives()
    {
        var a1 = await A.ConnectAsync();
        var b1 = await B.ConnectAsync();

        await B.Manager.SendAllAsync("Hello", ["all"]).Within();

        Assert.Equal("all", (await a1.NextAsync("Hello")).Arg(0));
        Assert.Equal("all", (await b1.NextAsync("Hello")).Arg(0));
    }

    [Fact]
    public async Task SendAllExceptAsync_ExcludedClientOnOtherNode_OnlyOthersReceive()
    {
        var excluded = await A.ConnectAsync();
        var a2 = await A.ConnectAsync();
        var b1 = await B.ConnectAsync();

        await B.Manager.SendAllExceptAsync("Hello", ["m"], [excluded.ConnectionId]).Within();
        await a2.NextAsync("Hello");
        await b1.NextAsync("Hello");
        await B.Manager.SendConnectionAsync(excluded.ConnectionId, "Marker", []).Within();

        await excluded.NextAsync("Marker");
    }

    [Fact]
    public async Task SendConnectionAsync_ClientOnOtherNode_Receives()
    {
        var a1 = await A.ConnectAsync();

        await B.Manager.SendConnectionAsync(a1.ConnectionId, "Direct", [42]).Within();

        Assert.Equal("42", (await a1.NextAsync("Direct")).Arg(0));
    }

    [Fact]
    public async Task SendConnectionsAsync_ClientsOnBothNodes_EachReceivesOnce()
    {
        var a1 = await A.ConnectAsync();
        var b1 = await B.ConnectAsync();

        await B.Manager.SendConnectionsAsync([a1.ConnectionId, b1.ConnectionId], "Direct", ["x"]).Within();
        await B.Manager.SendConnectionsAsync([a1.ConnectionId, b1.ConnectionId], "Marker", []).Within();

        await a1.NextAsync("Direct");
        await a1.NextAsync("Marker");
        await b1.NextAsync("Direct");
        await b1.NextAsync("Marker");
    }

    [Fact]
    public async Task SendGroupAsync_MemberOnOtherNode_MemberReceivesNonMemberDoesNot()
    {
        var group = NewId("g");
        var member = await A.ConnectAsync();
        var outsider = await A.ConnectAsync();
        await A.Manager.AddToGroupAsync(member.ConnectionId, group).Within();

        await B.Manager.SendGroupAsync(group, "InGroup", [group]).Within();
        Assert.Equal(group, (await member.NextAsync("InGroup")).Arg(0));
        await B.Manager.SendConnectionAsync(outsider.ConnectionId, "Marker", []).Within();

        await outsider.NextAsync("Marker");
    }

    [Fact]
    public async Task SendGroupsAsync_MembersOfTwoGroupsOnTwoNodes_EachMemberReceives()
    {
        var (group1, group2) = (NewId("g"), NewId("g"));
        var a1 = await A.ConnectAsync();
        var b1 = await B.ConnectAsync();
        var outsider = await A.ConnectAsync();
        await A.Manager.AddToGroupAsync(a1.ConnectionId, group1).Within();
        await B.Manager.AddToGroupAsync(b1.ConnectionId, group2).Within();

        await B.Manager.SendGroupsAsync([group1, group2], "InGroup", []).Within();
        await a1.NextAsync("InGroup");
        await b1.NextAsync("InGroup");
        await B.Manager.SendConnectionAsync(outsider.ConnectionId, "Marker", []).Within();

        await outsider.NextAsync("Marker");
    }

    [Fact]
    public async Task SendGroupExceptAsync_ExcludedMemberOnOtherNode_OthersReceive()
    {
        var group = NewId("g");
        var excluded = await A.ConnectAsync();
        var a2 = await A.ConnectAsync();
        var b1 = await B.ConnectAsync();
        foreach (var (node, client) in new[] { (A, excluded), (A, a2), (B, b1) })
        {
            await node.Manager.AddToGroupAsync(client.ConnectionId, group).Within();
        }

        await B.Manager.SendGroupExceptAsync(group, "InGroup", [], [excluded.ConnectionId]).Within();
        await a2.NextAsync("InGroup");
        await b1.NextAsync("InGroup");
        await B.Manager.SendConnectionAsync(excluded.ConnectionId, "Marker", []).Within();

        await excluded.NextAsync("Marker");
    }

    [Fact]
    public async Task SendUserAsync_UserConnectedOnBothNodes_EveryConnectionOfUserReceives()
    {
        var (user, other) = (NewId("u"), NewId("u"));
        var a1 = await A.ConnectAsync(user);
        var b1 = await B.ConnectAsync(user);
        var otherClient = await A.ConnectAsync(other);

        await B.Manager.SendUserAsync(user, "ToUser", [user]).Within();
        Assert.Equal(user, (await a1.NextAsync("ToUser")).Arg(0));
        Assert.Equal(user, (await b1.NextAsync("ToUser")).Arg(0));
        await B.Manager.SendConnectionAsync(otherClient.ConnectionId, "Marker", []).Within();

        await otherClient.NextAsync("Marker");
    }

    [Fact]
    public async Task SendUsersAsync_TwoUsersOnDifferentNodes_BothReceive()
    {
        var (user1, user2) = (NewId("u"), NewId("u"));
        var a1 = await A.ConnectAsync(user1);
        var b1 = await B.ConnectAsync(user2);

        await B.Manager.SendUsersAsync([user1, user2], "ToUser", []).Within();

        await a1.NextAsync("ToUser");
        await b1.NextAsync("ToUser");
    }

    [Fact]
    public async Task AddToGroupAsync_ConnectionOnOtherNode_ReceivesGroupSendMadeRightAfter()
    {
        var a1 = await A.ConnectAsync();

        for (var round = 0; round < 10; round++)
        {
            // A fresh group each round, so node A must subscribe before B's send is published.
            var group = NewId("g");
            await B.Manager.AddToGroupAsync(a1.ConnectionId, group).Within();
            await B.Manager.SendGroupAsync(group, "InGroup", [round]).Within();

            Assert.Equal(round.ToString(), (await a1.NextAsync("InGroup")).Arg(0));
        }
    }

    [Fact]
    public async Task RemoveFromGroupAsync_ConnectionOnOtherNode_StopsReceiving()
    {
        var group = NewId("g");
        var removed = await A.ConnectAsync();
        var stays = await A.ConnectAsync();
        await A.Manager.AddToGroupAsync(removed.ConnectionId, group).Within();
        await A.Manager.AddToGroupAsync(stays.ConnectionId, group).Within();

        await B.Manager.RemoveFromGroupAsync(removed.ConnectionId, group).Within();
        await B.Manager.SendGroupAsync(group, "InGroup", []).Within();
        await stays.NextAsync("InGroup");
        await B.Manager.SendConnectionAsync(removed.ConnectionId, "Marker", []).Within();

        await removed.NextAsync("Marker");
    }

    [Fact]
    public async Task AddToGroupAsync_UnknownConnection_CompletesWithoutError()
    {
        var group = NewId("g");
        var member = await A.ConnectAsync();
        await A.Manager.AddToGroupAsync(member.ConnectionId, group).Within();

        await B.Manager.AddToGroupAsync(NewId("nobody"), group).Within();
        await B.Manager.SendGroupAsync(group, "InGroup", []).Within();

        await member.NextAsync("InGroup");
    }

    [Fact]
    public async Task AddUserToGroupAsync_ThenSendGroup_EveryConnectionOfUserReceivesEveryRound()
    {
        var user = NewId("u");
        TestClient[] clients = [await A.ConnectAsync(user), await A.ConnectAsync(user), await B.ConnectAsync(user)];

        for (var round = 0; round < OrderingRounds; round++)
        {
            var group = NewId("g");
            await B.UserGroups.AddUserToGroupAsync(user, group).Within();
            await B.Manager.SendGroupAsync(group, "InGroup", [round]).Within();

            foreach (var client in clients)
            {
                Assert.Equal(round.ToString(), (await client.NextAsync("InGroup")).Arg(0));
            }
        }
    }

    [Fact]
    public async Task RemoveUserFromGroupAsync_ThenSendGroup_NoConnectionOfUserReceivesAnyRound()
    {
        var user = NewId("u");
        TestClient[] clients = [await A.ConnectAsync(user), await A.ConnectAsync(user), await B.ConnectAsync(user)];
        // Another member on each node keeps both nodes subscribed to the group, so the removed
        // connections are filtered by membership, not merely by a missing subscription.
        TestClient[] witnesses = [await A.ConnectAsync(NewId("w")), await B.ConnectAsync(NewId("w"))];

        for (var round = 0; round < OrderingRounds; round++)
        {
            var group = NewId("g");
            await A.Manager.AddToGroupAsync(witnesses[0].ConnectionId, group).Within();
            await B.Manager.AddToGroupAsync(witnesses[1].ConnectionId, group).Within();
            await B.UserGroups.AddUserToGroupAsync(user, group).Within();

            await B.UserGroups.RemoveUserFromGroupAsync(user, group).Within();
            await B.Manager.SendGroupAsync(group, "InGroup", [round]).Within();
            foreach (var witness in witnesses)
            {
                Assert.Equal(round.ToString(), (await witness.NextAsync("InGroup")).Arg(0));
            }

            await B.Manager.SendUserAsync(user, "Marker", [round]).Within();
            foreach (var client in clients)
            {
                Assert.Equal(round.ToString(), (await client.NextAsync("Marker")).Arg(0));
            }
        }
    }

    [Fact]
    public async Task AddUserToGroupAsync_UserWithoutConnections_CompletesWithoutError()
    {
        var group = NewId("g");
        var member = await A.ConnectAsync(NewId("u"));
        await A.Manager.AddToGroupAsync(member.ConnectionId, group).Within();

        await B.UserGroups.AddUserToGroupAsync(NewId("offline"), group).Within();
        await B.Manager.SendGroupAsync(group, "InGroup", []).Within();

        await member.NextAsync("InGroup");
    }

    [Fact]
    public async Task AttachesDetachesAndGroupSendsInterleavedFromOneNode_DetachedConnectionsNeverReceive_EachGroupInOrder()
    {
        // Lanes run concurrently, so B's publishes of attaches, detaches and group sends of
        // different users and groups interleave on its connections; each lane in itself is
        // sequential, as a caller that awaits each step (the server's commands) makes them.
        // Each round attaches the user to a group of its own (re-joins have their own test).
        const int lanes = 6;
        const int rounds = 30;
        var work = Enumerable.Range(0, lanes).Select(async lane =>
        {
            var user = NewId("u");
            var groups = Enumerable.Range(0, rounds).Select(_ => NewId("g")).ToArray();
            TestClient[] clients = [await A.ConnectAsync(user), await A.ConnectAsync(user), await B.ConnectAsync(user)];
            TestClient[] witnesses = [await A.ConnectAsync(NewId("w")), await B.ConnectAsync(NewId("w"))];
            foreach (var group in groups)
            {
                await A.Manager.AddToGroupAsync(witnesses[0].ConnectionId, group).Within();
                await B.Manager.AddToGroupAsync(witnesses[1].ConnectionId, group).Within();
            }

            for (var round = 0; round < rounds; round++)
            {
                await B.UserGroups.AddUserToGroupAsync(user, groups[round]).Within();
                await B.Manager.SendGroupAsync(groups[round], "InGroup", [round, "member"]).Within();
                await B.UserGroups.RemoveUserFromGroupAsync(user, groups[round]).Within();
                await B.Manager.SendGroupAsync(groups[round], "InGroup", [round, "removed"]).Within();
            }

            // One channel's messages arrive in the order they were published (rounds are different
            // groups, so only each round's pair is ordered).
            foreach (var witness in witnesses)
            {
                var seen = new List<(string Round, string Kind)>();
                for (var i = 0; i < 2 * rounds; i++)
                {
                    var received = await witness.NextAsync("InGroup");
                    seen.Add((received.Arg(0), received.Arg(1)));
                }

                for (var round = 0; round < rounds; round++)
                {
                    var r = round.ToString();
                    Assert.True(seen.IndexOf((r, "member")) is >= 0 and var m && m < seen.IndexOf((r, "removed")), $"round {r}: member before removed");
                }
            }

            // Every send made while attached, none made after a detach: the marker (sent once both
            // nodes handled every group send, see the class remarks) comes right after the last one.
            await B.Manager.SendUserAsync(user, "Marker", [lane]).Within();
            foreach (var client in clients)
            {
                var got = new List<(string Round, string Kind)>();
                for (var round = 0; round < rounds; round++)
                {
                    var received = await client.NextAsync("InGroup");
                    got.Add((received.Arg(0), received.Arg(1)));
                }

                Assert.Equal(Enumerable.Range(0, rounds).Select(r => (r.ToString(), "member")).Order(), got.Order());
                Assert.Equal(lane.ToString(), (await client.NextAsync("Marker")).Arg(0));
            }
        });

        await Task.WhenAll(work);
    }

    [Fact]
    public async Task UserDetachedAndAttachedAgainManyTimes_HearsExactlyWhatWasSentWhileAttached()
    {
        // The same user in and out of the same group, round after round: an attach is fenced behind
        // the group's earlier events, so the event sent while detached never shows after the re-attach.
        const int lanes = 6;
        const int rounds = 30;
        var work = Enumerable.Range(0, lanes).Select(async lane =>
        {
            var (user, group) = (NewId("u"), NewId("g"));
            TestClient[] clients = [await A.ConnectAsync(user), await A.ConnectAsync(user), await B.ConnectAsync(user)];
            TestClient[] witnesses = [await A.ConnectAsync(NewId("w")), await B.ConnectAsync(NewId("w"))];
            await A.Manager.AddToGroupAsync(witnesses[0].ConnectionId, group).Within();
            await B.Manager.AddToGroupAsync(witnesses[1].ConnectionId, group).Within();

            for (var round = 0; round < rounds; round++)
            {
                await B.UserGroups.AddUserToGroupAsync(user, group).Within();
                await B.Manager.SendGroupAsync(group, "InGroup", [round, "member"]).Within();
                await B.UserGroups.RemoveUserFromGroupAsync(user, group).Within();
                await B.Manager.SendGroupAsync(group, "InGroup", [round, "removed"]).Within();
            }

            // One channel's messages arrive in the order they were published.
            foreach (var witness in witnesses)
            {
                for (var round = 0; round < rounds; round++)
                {
                    foreach (var kind in new[] { "member", "removed" })
                    {
                        var received = await witness.NextAsync("InGroup");
                        Assert.Equal((round.ToString(), kind), (received.Arg(0), received.Arg(1)));
                    }
                }
            }

            // Every send made while attached, none made after a detach: the marker (sent once both
            // nodes handled every group send, see the class remarks) comes right after the last one.
            await B.Manager.SendUserAsync(user, "Marker", [lane]).Within();
            foreach (var client in clients)
            {
                for (var round = 0; round < rounds; round++)
                {
                    var received = await client.NextAsync("InGroup");
                    Assert.Equal((round.ToString(), "member"), (received.Arg(0), received.Arg(1)));
                }

                Assert.Equal(lane.ToString(), (await client.NextAsync("Marker")).Arg(0));
            }
        });

        await Task.WhenAll(work);
    }
}
