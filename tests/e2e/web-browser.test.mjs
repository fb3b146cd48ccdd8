// The web sample in a real browser (Debian's chromium, driven by playwright-core; never a
// downloaded browser), the way a newcomer uses it: one URL (the Development node serves the page
// itself, Realtime:DevSample:Path) and a user name typed into the dev sign-in. Each scenario
// asserts on what the page shows. REALTIME_E2E_PROTOCOL=messagepack runs the pages on the binary
// hub protocol.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { TIMEOUT_MS, assertServerUp, baseUrl, connectWithInbox, invoke, makeToken, stopQuietly, uniqueId } from "./lib/realtime.mjs";

const TEST_TIMEOUT = { timeout: 120_000 };
const NODE1 = baseUrl(1);
const NODE2 = baseUrl(2);
const PROTOCOL = process.env.REALTIME_E2E_PROTOCOL ?? "json";
const CHROMIUM = process.env.REALTIME_E2E_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = fileURLToPath(new URL("../../.data/test-logs/", import.meta.url));
// A reconnect attempt waits up to 1.5 × 5 s (jittered backoff) after a few failures: room for that.
const RECONNECT_MS = Math.max(TIMEOUT_MS, 30_000);

let browser;
const opened = new Set();

before(async () => {
  await assertServerUp(NODE1);
  await assertServerUp(NODE2);
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: scripts/test.sh installs Debian's chromium`);
  const page = await fetch(`${NODE1}/`);
  assert.equal(page.status, 200, "the e2e nodes must serve the web sample (Realtime__DevSample__Path, as scripts/test.sh sets it)");
  // As root (CI) chromium needs --no-sandbox; nothing else of the machine is reached.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  await browser?.close();
  await Promise.all([...opened].map((c) => stopQuietly(c)));
});

/**
 * A browser context (its own localStorage: another person) signed in as `user` at `node`'s page.
 * The hub's WebSocket goes through a route of this test, so `offline()` can cut it the way a lost
 * network does (setOffline alone leaves open WebSockets open) and refuse new ones until `online()`.
 */
async function signIn(user, { node = NODE1, query = "" } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const network = { down: false, sockets: new Set(), handshakes: [] };
  await context.routeWebSocket(/\/hubs\/groups/, (ws) => {
    if (network.down) return ws.close({ code: 4000, reason: "offline" });
    const server = ws.connectToServer();
    // Forwarded as they are; the first frame of each connection is the handshake naming the protocol.
    let first = true;
    ws.onMessage((message) => {
      if (first) network.handshakes.push(String(message));
      first = false;
      server.send(message);
    });
    network.sockets.add(ws);
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${node}/?protocol=${PROTOCOL}${query}`);
  await page.fill("#user", user);
  await page.click("#sign-in");
  await page.locator(`body[data-signed-in="${user}"]`).waitFor();
  assert.match(network.handshakes[0], new RegExp(`^\\{"protocol":"${PROTOCOL}","version":1\\}\u001e$`), "the page speaks the protocol under test");
  return {
    page,
    context,
    /** Script errors of the page and error lines of its log (a refused hub call shows there). */
    async problems() {
      return [...errors, ...(await page.locator("#log .error").allTextContents())];
    },
    /** The page's raw log, for a failure's message. */
    async logText() {
      return (await page.locator("#log .line").allTextContents()).join("\n");
    },
    async offline() {
      network.down = true;
      await context.setOffline(true);
      for (const ws of network.sockets) await ws.close({ code: 4000, reason: "offline" });
      network.sockets.clear();
      await page.locator("#conn", { hasText: "reconnecting" }).waitFor();
    },
    async online() {
      network.down = false;
      await context.setOffline(false);
      await page.locator("#conn", { hasText: "reconnected" }).waitFor({ timeout: RECONNECT_MS });
    },
  };
}

const groupItem = (page, groupId) => page.locator(`#groups li[data-group-id="${groupId}"]`);
const messages = (page) => page.locator("#messages .msg").allTextContents();

/** Waits until the open group's messages are exactly `expected` ("sender:text", oldest first). */
async function expectMessages(page, expected) {
  await page.locator("#messages .msg").nth(expected.length - 1).waitFor();
  await page.locator("#messages .msg .text", { hasText: expected.at(-1).split(":").slice(1).join(":") }).last().waitFor();
  assert.deepEqual(await messages(page), expected);
}

test("webPage_TwoUsers_CreateInviteAcceptChatAndSeeProfileEditsLive", TEST_TIMEOUT, async () => {
  const [aliceId, bobId] = [uniqueId("alice"), uniqueId("bob")];
  const alice = await signIn(aliceId);
  const bob = await signIn(bobId, { node: NODE2 });
  try {
    // Bob has a group of his own first: the composer must send to the group he picks, not the first one.
    await bob.page.fill("#new-group-name", "bob's notes");
    await bob.page.click("#create-group");
    await bob.page.locator("#group-title", { hasText: "bob's notes" }).waitFor();

    const name = uniqueId("trip");
    await alice.page.fill("#new-group-name", name);
    await alice.page.click("#create-group");
    await alice.page.locator("#group-title", { hasText: name }).waitFor();
    const groupId = await alice.page.locator("#groups li.selected").getAttribute("data-group-id");
    assert.match(groupId, /^@RT#[A-Z2-7]{12}$/);

    await alice.page.fill("#invite-users", bobId);
    await alice.page.click("#invite");
    await alice.page.locator("#status", { hasText: `${bobId}: Invited` }).waitFor();

    // Bob's pending list shows the invitation; he accepts it.
    const invitation = bob.page.locator("#pending li", { hasText: `${aliceId} invites you to` });
    await invitation.locator("button.approve").click();
    await groupItem(bob.page, groupId).waitFor();
    await alice.page.locator("#messages .notice", { hasText: `${bobId} joined` }).waitFor();
    await alice.page.locator(`#members li[data-user-id="${bobId}"]`).waitFor();

    // A message while Bob looks at his other group: an unread badge, cleared when he opens it.
    await alice.page.fill("#text", "welcome");
    await alice.page.click("#send");
    await groupItem(bob.page, groupId).locator(".badge", { hasText: "1" }).waitFor();
    await groupItem(bob.page, groupId).click();
    await bob.page.locator("#group-title", { hasText: name }).waitFor();
    await expectMessages(bob.page, [`${aliceId}:welcome`]);
    assert.equal(await groupItem(bob.page, groupId).locator(".badge").textContent(), "");

    await bob.page.fill("#text", "hi alice");
    await bob.page.click("#send");
    await alice.page.fill("#text", "hi bob");
    await expectMessages(alice.page, [`${aliceId}:welcome`, `${bobId}:hi alice`]);
    await alice.page.click("#send");
    const conversation = [`${aliceId}:welcome`, `${bobId}:hi alice`, `${aliceId}:hi bob`];
    await expectMessages(alice.page, conversation);
    await expectMessages(bob.page, conversation);

    // Alice edits the profile; Bob's page shows it live: title, list, profile panel, a notice.
    const renamed = `${name} renamed`;
    await alice.page.fill("#profile-name", renamed);
    await alice.page.fill("#profile-notification", "meet at nine");
    await alice.page.click("#profile-save");
    await alice.page.locator("#status", { hasText: "profile saved" }).waitFor();
    await bob.page.locator("#group-title", { hasText: renamed }).waitFor();
    await groupItem(bob.page, groupId).locator(".name", { hasText: renamed }).waitFor();
    await bob.page.locator("#messages .notice", { hasText: `${aliceId} changed name to "${renamed}"` }).waitFor();
    assert.equal(await bob.page.inputValue("#profile-notification"), "meet at nine");
    assert.match(await bob.page.textContent("#profile-meta"), /version 2$/);

    mkdirSync(SHOTS, { recursive: true });
    await bob.page.screenshot({ path: `${SHOTS}web-sample.png` });
    assert.deepEqual([await alice.problems(), await bob.problems()], [[], []]);
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});

test("webPage_TabOffline_ShowsEverythingItMissedInOrderExactlyOnce", TEST_TIMEOUT, async () => {
  const ownerId = uniqueId("owner");
  const { connection } = await connectWithInbox({ url: NODE1, token: makeToken({ user: ownerId }) });
  opened.add(connection);
  const bobId = uniqueId("bob");
  const name = uniqueId("offline");
  const { groupId } = await invoke(connection, "CreateGroup", { type: "Public", name, members: [bobId] });
  await invoke(connection, "SendMessage", { groupId, text: "before" });

  const bob = await signIn(bobId, { node: NODE2 });
  try {
    await groupItem(bob.page, groupId).click();
    await expectMessages(bob.page, [`${ownerId}:before`]);

    await bob.offline();
    const missed = ["m1", "m2", "m3", "m4", "m5"];
    for (const text of missed.slice(0, 3)) await invoke(connection, "SendMessage", { groupId, text });
    await invoke(connection, "UpdateGroupProfile", { groupId, name: `${name} (moved)` });
    for (const text of missed.slice(3)) await invoke(connection, "SendMessage", { groupId, text });
    // Still offline: nothing of it on the page yet.
    assert.deepEqual(await messages(bob.page), [`${ownerId}:before`]);

    await bob.online();
    const expected = [`${ownerId}:before`, ...missed.map((t) => `${ownerId}:${t}`)];
    await expectMessages(bob.page, expected);
    await bob.page.locator("#group-title", { hasText: `${name} (moved)` }).waitFor();
    // Once each, in seq order, the rename between m3 and m4 where it happened.
    const lines = await bob.page.locator("#messages [data-seq]").evaluateAll((nodes) => nodes.map((n) => [Number(n.dataset.seq), n.textContent]));
    const seqs = lines.map(([seq]) => seq);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), "no line twice, seqs ascending");
    const texts = lines.map(([, text]) => text);
    assert.equal(texts.filter((t) => /changed name/.test(t)).length, 1);
    assert.ok(texts.indexOf(`${ownerId}:m3`) < texts.findIndex((t) => /changed name/.test(t)));
    assert.ok(texts.findIndex((t) => /changed name/.test(t)) < texts.indexOf(`${ownerId}:m4`));

    // Live again afterwards.
    await invoke(connection, "SendMessage", { groupId, text: "live" });
    await expectMessages(bob.page, [...expected, `${ownerId}:live`]);
    assert.deepEqual(await bob.problems(), []);
  } catch (error) {
    error.message += `\n--- the page's log:\n${await bob.logText()}`;
    throw error;
  } finally {
    await bob.context.close();
  }
});

test("webPage_OpenGroupAndLoadEarlier_ShowsEveryMessageOnceOldestAtTheTop", TEST_TIMEOUT, async () => {
  const owner = uniqueId("bo");
  const member = uniqueId("bm");
  const writer = uniqueId("bw");
  const first = await connectWithInbox({ url: NODE1, token: makeToken({ user: owner }) });
  const second = await connectWithInbox({ url: NODE2, token: makeToken({ user: writer }) });
  opened.add(first.connection);
  opened.add(second.connection);
  const { groupId } = await invoke(first.connection, "CreateGroup", { type: "Public", name: uniqueId("browser"), members: [member, writer] });
  // Two senders, 30 each: within each user's message burst (the e2e nodes keep the default rate limits).
  const senders = [owner, writer];
  for (let i = 0; i < 60; i++) await invoke(i % 2 ? second.connection : first.connection, "SendMessage", { groupId, text: `msg ${i}` });

  const reader = await signIn(member, { node: NODE2 });
  try {
    await groupItem(reader.page, groupId).locator(".badge", { hasText: "60" }).waitFor();
    await groupItem(reader.page, groupId).click();
    await expectMessages(reader.page, Array.from({ length: 50 }, (_, k) => `${senders[(k + 10) % 2]}:msg ${k + 10}`));
    await reader.page.click("#load-earlier");
    await expectMessages(reader.page, Array.from({ length: 60 }, (_, i) => `${senders[i % 2]}:msg ${i}`));
    assert.ok(await reader.page.locator("#load-earlier").isDisabled(), "nothing older to load");
    assert.deepEqual(await reader.problems(), []);
  } finally {
    await reader.context.close();
  }
});

test("webPage_OpenedFromAnInviteLink_JoinsOnceSignedInAndSeesHistoryFromItsJoin", TEST_TIMEOUT, async () => {
  const ownerId = uniqueId("bo");
  const joinerId = uniqueId("bj");
  const { connection, inbox } = await connectWithInbox({ url: NODE1, token: makeToken({ user: ownerId }) });
  opened.add(connection);
  const { groupId } = await invoke(connection, "CreateGroup", { type: "Public", name: uniqueId("linked") });
  await invoke(connection, "SendMessage", { groupId, text: "before the join" });
  const { code } = await invoke(connection, "CreateInviteLink", { groupId, maxUses: 1 });

  const joiner = await signIn(joinerId, { node: NODE2, query: `&join=${code}` });
  const owner = await signIn(ownerId);
  try {
    await joiner.page.locator("#status", { hasText: `joined ${groupId} by invite link` }).waitFor();
    assert.equal(new URL(joiner.page.url()).searchParams.get("join"), null, "the code is dropped from the address once used");
    const joined = await inbox.event(groupId, { type: "MembersJoined" });
    assert.deepEqual([joined.data.userIds, joined.data.inviter], [[joinerId], ownerId]);

    await groupItem(joiner.page, groupId).click();
    await invoke(connection, "SendMessage", { groupId, text: "welcome" });
    await expectMessages(joiner.page, [`${ownerId}:welcome`]);

    // The owner's page makes links as URLs of the page.
    await groupItem(owner.page, groupId).click();
    await owner.page.click("#invite-link");
    await owner.page.locator("#status", { hasText: "invite link for" }).waitFor();
    const made = new URL(await owner.page.inputValue("#invite-url"));
    assert.equal(made.origin + made.pathname, `${NODE1}/`);
    assert.match(made.searchParams.get("join"), /^[A-Za-z0-9_-]{24}$/);
    assert.deepEqual([await joiner.problems(), await owner.problems()], [[], []]);
  } finally {
    await joiner.context.close();
    await owner.context.close();
  }
});
