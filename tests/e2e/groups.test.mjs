// Groups across two nodes through the official client: creation pushes, messages, errors,
// Sync after a reconnect to the other node, and a kick. Node 1 is REALTIME_E2E_URL, node 2
// REALTIME_E2E_URL2; both share one PostgreSQL and one Redis. Every user and group is new to
// this run (random suffix), so the suite can run again and again against one database.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { LogLevel } from "@microsoft/signalr";
import {
  TimeoutError,
  assertServerUp,
  baseUrl,
  connectWithInbox,
  invoke,
  makeToken,
  stopQuietly,
  uniqueId,
} from "./lib/realtime.mjs";

const TEST_TIMEOUT = { timeout: 60_000 };
const NODE1 = baseUrl(1);
const NODE2 = baseUrl(2);

/** Every connection a test opened; all are stopped (bounded) after the suite. */
const opened = new Set();

before(async () => {
  await assertServerUp(NODE1);
  await assertServerUp(NODE2);
});

after(async () => {
  await Promise.all([...opened].map((c) => stopQuietly(c)));
});

/** A user connected to url as device: { user, connection, inbox }. */
async function user(name, url, device = uniqueId("device"), logLevel) {
  const { connection, inbox } = await connectWithInbox({ url, token: makeToken({ user: name }), device, logLevel });
  opened.add(connection);
  return { user: name, connection, inbox, device };
}

async function close(terminal) {
  await stopQuietly(terminal.connection);
  opened.delete(terminal.connection);
}

/** Owner on node 1 creates a Public group with the given members; answers the GroupInfo. */
function createGroup(owner, members, extra = {}) {
  return invoke(owner.connection, "CreateGroup", {
    type: "Public",
    name: uniqueId("e2e-group"),
    members: members.map((m) => m.user),
    requestId: uniqueId("create"),
    ...extra,
  });
}

/** A member's view: waits until it has JoinedGroup and the group's first event (MembersJoined). */
async function joined(member, groupId) {
  const system = await member.inbox.systemMessage("JoinedGroup", groupId);
  const event = await member.inbox.event(groupId, { type: "MembersJoined" });
  return { system, event };
}

/**
 * Asserts that a promise is refused by the server (not by a timeout) with an Error whose
 * message starts with "[code] ". Answers the message.
 */
async function assertHubError(promise, code) {
  let error;
  await assert.rejects(promise, (e) => {
    error = e;
    return true;
  });
  assert.ok(!(error instanceof TimeoutError), `expected [${code}], got a timeout: ${error.message}`);
  assert.ok(error instanceof Error, "the JS client rejects with an Error");
  // The server strips SignalR's "An unexpected error occurred invoking ..." prefix and the JS
  // client adds none of its own: the message is exactly the server's "[Code] text".
  assert.match(error.message, new RegExp(`^\\[${code}\\] \\S`), `message: ${error.message}`);
  return error.message;
}

test("createGroup_OwnerOnNode1_MemberOnNode2GetsJoinedGroupAndMembersJoined", TEST_TIMEOUT, async () => {
  const owner = await user(uniqueId("owner"), NODE1);
  const member = await user(uniqueId("member"), NODE2);

  const group = await createGroup(owner, [member]);
  assert.match(group.groupId, /^@RT#[A-Z2-7]{12}$/);
  assert.equal(group.owner, owner.user);
  assert.equal(group.memberCount, 2);
  assert.equal(group.version, 1);
  assert.equal(group.lastSeq, 1);

  const { system, event } = await joined(member, group.groupId);
  assert.equal(system.type, "JoinedGroup");
  assert.equal(system.data.joinSeq, 0, "a creation member's cursor starts before the group's first event");
  assert.ok(Number.isInteger(system.seq) && system.seq >= 1);
  assert.equal(event.seq, 1);
  assert.equal(event.actor, owner.user);
  assert.ok(event.data.userIds.includes(member.user), `MembersJoined names the member: ${JSON.stringify(event.data)}`);

  // The creator is told too, on node 1.
  await owner.inbox.systemMessage("GroupCreated", group.groupId);
  await owner.inbox.event(group.groupId, { type: "MembersJoined", seq: 1 });

  // And the member on node 2 sees the group in its list.
  const list = await invoke(member.connection, "GetJoinedGroups", { offset: 0, limit: 1000 });
  const entry = list.groups.find((g) => g.groupId === group.groupId);
  assert.ok(entry, "the group is among the member's joined groups");
  assert.equal(entry.role, "Member");
  assert.equal(entry.lastSeq, 1);

  await close(owner);
  await close(member);
});

test("sendMessage_OnNode2_ReachesOwnerOnNode1WithNextSeq", TEST_TIMEOUT, async () => {
  const owner = await user(uniqueId("owner"), NODE1);
  const member = await user(uniqueId("member"), NODE2);
  const group = await createGroup(owner, [member]);
  const { groupId } = group;
  await joined(member, groupId);

  const clientMsgId = uniqueId("msg");
  const sent = await invoke(member.connection, "SendMessage", { groupId, text: "hello from node 2", clientMsgId });
  assert.equal(sent.seq, group.lastSeq + 1);
  assert.equal(typeof sent.messageId, "string");

  const atOwner = await owner.inbox.event(groupId, { type: "Message", seq: sent.seq });
  assert.equal(atOwner.data.messageId, sent.messageId);
  assert.equal(atOwner.data.sender, member.user);
  assert.equal(atOwner.data.text, "hello from node 2");
  assert.equal(atOwner.data.clientMsgId, clientMsgId);
  assert.equal(atOwner.actor, member.user);

  // The sender's own terminal gets the same event; and the reverse direction works too.
  await member.inbox.event(groupId, { type: "Message", seq: sent.seq });
  const reply = await invoke(owner.connection, "SendMessage", { groupId, payload: { kind: "ack", of: sent.messageId } });
  assert.equal(reply.seq, sent.seq + 1);
  const atMember = await member.inbox.event(groupId, { type: "Message", seq: reply.seq });
  assert.deepEqual(atMember.data.payload, { kind: "ack", of: sent.messageId });

  // Each terminal saw the group's events gapless and in order (the owner's own copy included).
  await owner.inbox.event(groupId, { type: "Message", seq: reply.seq });
  for (const terminal of [owner, member]) {
    assert.deepEqual(terminal.inbox.eventsOf(groupId).map((e) => e.seq), [1, 2, 3]);
  }

  await close(owner);
  await close(member);
});

test("errors_UnknownGroup_RejectWithGroupNotFoundCodeFirst", TEST_TIMEOUT, async (t) => {
  const alice = await user(uniqueId("alice"), NODE1, undefined, LogLevel.None);
  const bob = await user(uniqueId("bob"), NODE2, undefined, LogLevel.None);
  const missing = "@RT#" + "A".repeat(12);

  const message = await assertHubError(invoke(bob.connection, "SendMessage", { groupId: missing, text: "anyone?" }), "GroupNotFound");
  t.diagnostic(`SendMessage on node 2: ${message}`);
  assert.ok(message.includes(missing), "the message names the group");
  assert.ok(!message.includes("An unexpected error occurred"), "SignalR's prefix is stripped");
  assert.ok(!message.includes("HubException"), "no exception type in the message");

  await assertHubError(invoke(alice.connection, "SearchGroup", missing), "GroupNotFound");
  await assertHubError(invoke(alice.connection, "QuitGroup", uniqueId("no-such-group")), "GroupNotFound");
  await assertHubError(invoke(bob.connection, "DissolveGroup", missing), "GroupNotFound");

  // A Private group looks missing to a non-member, on either node.
  const secret = await invoke(alice.connection, "CreateGroup", { type: "Private", name: uniqueId("private") });
  await assertHubError(invoke(bob.connection, "SearchGroup", secret.groupId), "GroupNotFound");
  await assertHubError(invoke(bob.connection, "SendMessage", { groupId: secret.groupId, text: "let me in" }), "GroupNotFound");

  // Per-item failures are results, not errors.
  const got = await invoke(bob.connection, "GetGroups", [missing]);
  assert.deepEqual(got.groups, []);
  assert.deepEqual(got.failed, [{ groupId: missing, code: "GroupNotFound" }]);

  // Other codes travel the same way: an unknown field is InvalidArgument naming the field.
  const invalid = await assertHubError(
    invoke(alice.connection, "CreateGroup", { type: "Public", name: "x", colour: "red" }),
    "InvalidArgument",
  );
  assert.ok(invalid.includes("colour"), `names the field: ${invalid}`);

  // The connection survives a refused call.
  const ok = await invoke(bob.connection, "GetJoinedGroups", {});
  assert.equal(typeof ok.total, "number");

  await close(alice);
  await close(bob);
});

test("sync_MemberReconnectsToOtherNode_GetsExactlyTheMissedEventsInOrder", TEST_TIMEOUT, async () => {
  const owner = await user(uniqueId("owner"), NODE1);
  const device = uniqueId("phone");
  let member = await user(uniqueId("member"), NODE2, device);
  const group = await createGroup(owner, [member]);
  const { groupId } = group;
  await joined(member, groupId);
  const lastSeen = await invoke(owner.connection, "SendMessage", { groupId, text: "before" });
  await member.inbox.event(groupId, { seq: lastSeen.seq });

  // The member's cursors: the last seq seen on each stream.
  const groupCursor = Math.max(...member.inbox.eventsOf(groupId).map((e) => e.seq));
  const systemCursor = member.inbox.lastSystemSeq;
  assert.equal(groupCursor, lastSeen.seq);
  await close(member);

  // Missed while offline: three messages, a profile change, and a role change (a group event
  // for everyone and a system message for the member).
  const missedTexts = ["one", "two", "three"];
  const sends = [];
  for (const text of missedTexts) sends.push(await invoke(owner.connection, "SendMessage", { groupId, text }));
  const profile = await invoke(owner.connection, "UpdateGroupProfile", { groupId, notification: "meet at 9", expectedVersion: 1 });
  assert.equal(profile.version, 2);
  await invoke(owner.connection, "UpdateMember", { groupId, userId: member.user, role: "Admin" });
  const last = await invoke(owner.connection, "GetGroups", [groupId]);
  const lastSeq = last.groups[0].lastSeq;
  assert.equal(lastSeq, lastSeen.seq + 5);

  // Back, on the other node, same device.
  member = await user(member.user, NODE1, device);
  const result = await invoke(member.connection, "Sync", { systemSince: systemCursor, groups: { [groupId]: groupCursor }, limit: 100 });

  const g = result.groups[groupId];
  assert.ok(g, "Sync answers for the group asked about");
  assert.deepEqual(
    g.items.map((e) => [e.seq, e.type]),
    [
      [lastSeen.seq + 1, "Message"],
      [lastSeen.seq + 2, "Message"],
      [lastSeen.seq + 3, "Message"],
      [lastSeen.seq + 4, "ProfileChanged"],
      [lastSeen.seq + 5, "MemberChanged"],
    ],
  );
  assert.deepEqual(g.items.slice(0, 3).map((e) => e.data.text), missedTexts);
  assert.deepEqual(g.items.slice(0, 3).map((e) => e.data.messageId), sends.map((s) => s.messageId));
  assert.deepEqual(g.items[3].data.changes, { notification: "meet at 9" });
  assert.equal(g.items[4].data.userId, member.user);
  assert.equal(g.items[4].data.changes.role, "Admin");
  assert.ok(g.items.every((e) => e.groupId === groupId));
  assert.equal(g.next, lastSeq);
  assert.equal(g.hasMore, false);
  assert.equal(g.removed, false);
  assert.equal(g.tooOld, false);

  assert.deepEqual(
    result.system.items.map((m) => [m.seq, m.type, m.groupId]),
    [[systemCursor + 1, "RoleChanged", groupId]],
  );
  assert.equal(result.system.next, systemCursor + 1);
  assert.equal(result.system.hasMore, false);
  assert.equal(result.system.tooOld, false);

  // Syncing again from the new cursors answers nothing: exactly the missed events, once.
  const again = await invoke(member.connection, "Sync", { systemSince: result.system.next, groups: { [groupId]: g.next } });
  assert.deepEqual(again.groups[groupId].items, []);
  assert.deepEqual(again.system.items, []);

  // Live pushes resume on the new node from the next seq; nothing replayed live.
  const welcome = await invoke(owner.connection, "SendMessage", { groupId, text: "welcome back" });
  assert.equal(welcome.seq, lastSeq + 1);
  await member.inbox.event(groupId, { type: "Message", seq: welcome.seq });
  assert.deepEqual(member.inbox.eventsOf(groupId).map((e) => e.seq), [welcome.seq]);

  await close(owner);
  await close(member);
});

test("sync_EpochCursorOfADissolvedGroupWhoseIdWasTakenAgain_TooOldOnTheOtherNode", TEST_TIMEOUT, async () => {
  const owner = await user(uniqueId("owner"), NODE1);
  const member = await user(uniqueId("member"), NODE2);
  const groupId = uniqueId("again");
  await createGroup(owner, [member], { groupId });
  const { system } = await joined(member, groupId);
  const oldEpoch = system.data.epoch;
  assert.match(oldEpoch, /^[A-Za-z0-9_-]{16,64}$/, "an opaque, URL-safe epoch");
  const before = await invoke(member.connection, "Sync", { systemSince: 0, groups: { [groupId]: { since: 0, epoch: oldEpoch } } });
  assert.deepEqual([before.groups[groupId].epoch, before.groups[groupId].next, before.groups[groupId].tooOld], [oldEpoch, 1, false]);

  await invoke(owner.connection, "DissolveGroup", groupId);
  await createGroup(owner, [member], { groupId });
  await invoke(owner.connection, "SendMessage", { groupId, text: "new group" });
  const rejoined = await member.inbox.waitFor("SystemMessage", (m) => m.type === "JoinedGroup" && m.groupId === groupId && m.data.epoch !== oldEpoch);
  const list = await invoke(member.connection, "GetJoinedGroups", { offset: 0, limit: 1000 });
  assert.equal(list.groups.find((g) => g.groupId === groupId).epoch, rejoined.data.epoch);

  // The old cursor (seq 1) is below the new group's lastSeq (2): only the epoch tells them apart.
  const stale = (await invoke(member.connection, "Sync", { systemSince: 0, groups: { [groupId]: { since: 1, epoch: oldEpoch } } })).groups[groupId];
  assert.deepEqual(
    [stale.tooOld, stale.items, stale.hasMore, stale.epoch, stale.next],
    [true, [], false, rejoined.data.epoch, 0],
  );
  const fresh = (await invoke(member.connection, "Sync", { systemSince: 0, groups: { [groupId]: { since: stale.next, epoch: stale.epoch } } })).groups[groupId];
  assert.equal(fresh.tooOld, false);
  assert.deepEqual(fresh.items.map((e) => [e.seq, e.type]), [[1, "MembersJoined"], [2, "Message"]]);

  await close(owner);
  await close(member);
});

test("removeMembers_KickedMemberOnNode2_GetsKickedAndNoLaterEvents", TEST_TIMEOUT, async () => {
  const owner = await user(uniqueId("owner"), NODE1);
  const kicked = await user(uniqueId("kicked"), NODE2);
  // A remaining member on the same node: node 2 keeps receiving the group's events.
  const stays = await user(uniqueId("stays"), NODE2);
  const group = await createGroup(owner, [kicked, stays]);
  const { groupId } = group;
  await joined(kicked, groupId);
  await joined(stays, groupId);

  await invoke(owner.connection, "RemoveMembers", { groupId, userIds: [kicked.user], reason: "spam" });

  const notice = await kicked.inbox.systemMessage("Kicked", groupId);
  assert.equal(notice.data.reason, "spam");
  assert.equal(notice.actor, owner.user);
  const removal = await stays.inbox.event(groupId, { type: "MembersKicked" });
  assert.deepEqual(removal.data.userIds, [kicked.user]);
  assert.equal(removal.data.reason, "spam");
  const kickSeq = removal.seq;

  // Later events reach the remaining member on node 2 (and the owner on node 1)...
  let lastSeq = kickSeq;
  for (let i = 0; i < 3; i++) lastSeq = (await invoke(owner.connection, "SendMessage", { groupId, text: `after ${i}` })).seq;
  await invoke(owner.connection, "UpdateGroupProfile", { groupId, introduction: "no longer yours" });
  lastSeq += 1;
  await stays.inbox.event(groupId, { seq: lastSeq });
  await owner.inbox.event(groupId, { seq: lastSeq });

  // ...and by then the kicked terminal has nothing of the group from the kick on.
  assert.deepEqual(kicked.inbox.eventsOf(groupId).filter((e) => e.seq >= kickSeq), []);
  assert.deepEqual(kicked.inbox.eventsOf(groupId).map((e) => e.seq), [1]);
  assert.deepEqual(
    kicked.inbox.system.filter((m) => m.groupId === groupId).map((m) => m.type),
    ["JoinedGroup", "Kicked"],
  );

  // The kicked user can no longer act in the group, and Sync stops at the kick.
  await assertHubError(invoke(kicked.connection, "SendMessage", { groupId, text: "still here?" }), "NotMember");
  const sync = await invoke(kicked.connection, "Sync", { systemSince: 0, groups: { [groupId]: 0 } });
  const g = sync.groups[groupId];
  assert.equal(g.removed, true);
  assert.deepEqual(g.items.map((e) => e.seq), [1, kickSeq]);
  assert.equal(g.items.at(-1).type, "MembersKicked");
  assert.ok(sync.system.items.some((m) => m.type === "Kicked" && m.groupId === groupId));

  const list = await invoke(kicked.connection, "GetJoinedGroups", {});
  assert.ok(!list.groups.some((x) => x.groupId === groupId), "the group left the kicked user's list");

  await close(owner);
  await close(kicked);
  await close(stays);
});
