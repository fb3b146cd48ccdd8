// The client samples keep working against two real nodes:
// - client-samples/js/realtime-client.mjs, the module both samples import (cursors, Sync on
//   connect and reconnect, gaps, duplicates, tooOld/removed), on the official client's Node build
//   and the protocol REALTIME_E2E_PROTOCOL names (json by default, or messagepack);
// - client-samples/node/client.mjs: the command-line client driven through stdin (needs
//   `npm ci` in client-samples/node, which scripts/test.sh runs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createECDH, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { RealtimeClient } from "../../client-samples/js/realtime-client.mjs";
import {
  TIMEOUT_MS,
  assertServerUp,
  baseUrl,
  connectWithInbox,
  invoke,
  makeToken,
  stopQuietly,
  uniqueId,
  withTimeout,
} from "./lib/realtime.mjs";

const TEST_TIMEOUT = { timeout: 60_000 };
const NODE1 = baseUrl(1);
const NODE2 = baseUrl(2);
const SAMPLES = fileURLToPath(new URL("../../client-samples/", import.meta.url));
const PROTOCOL = process.env.REALTIME_E2E_PROTOCOL ?? "json";

const opened = new Set();
before(async () => {
  await assertServerUp(NODE1);
  await assertServerUp(NODE2);
});
after(async () => {
  await Promise.all([...opened].map((c) => stopQuietly(c)));
});

/** Items added over time, and a bounded wait for the first one matching a predicate. */
class Feed {
  items = [];
  #waiters = [];

  add(item) {
    this.items.push(item);
    for (const w of [...this.#waiters]) {
      if (w.predicate(item)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(item);
      }
    }
  }

  waitFor(predicate, label, ms = TIMEOUT_MS) {
    const seen = this.items.find(predicate);
    if (seen) return Promise.resolve(seen);
    let waiter;
    const promise = new Promise((resolve) => {
      waiter = { predicate, resolve };
      this.#waiters.push(waiter);
    });
    return withTimeout(promise, ms, label).finally(() => {
      const at = this.#waiters.indexOf(waiter);
      if (at >= 0) this.#waiters.splice(at, 1);
    });
  }
}

async function owner(url = NODE1) {
  const name = uniqueId("owner");
  const { connection, inbox } = await connectWithInbox({ url, token: makeToken({ user: name }) });
  opened.add(connection);
  return { user: name, connection, inbox };
}

// ------------------------------------------------------------------------------ shared JS client

/** A store whose saved value a test can read (what localStorage or the CLI's --state file would hold). */
function inspectableStore() {
  const store = { value: null, load: () => store.value, save: (v) => (store.value = JSON.parse(JSON.stringify(v))), clear: () => (store.value = null) };
  return store;
}

/** The shared module's client on the protocol under test, its events recorded in a Feed. */
function jsClient({ url, token, device = uniqueId("browser"), store = inspectableStore(), feed = new Feed() }) {
  const client = new RealtimeClient({ signalR, url, token, device, store, protocol: PROTOCOL, messagePack: MessagePackHubProtocol });
  client.on("push", ({ kind, item, source }) => feed.add({ kind, item, source }));
  client.on("info", (text) => feed.add({ kind: "info", text }));
  client.on("error", (error) => feed.add({ kind: "info", text: `error: ${error.message}` }));
  client.on("synced", ({ reason }) => feed.add({ kind: "info", text: `synced (${reason})` }));
  client.on("tooOld", (what) => feed.add({ kind: "tooOld", ...what }));
  client.on("removed", (what) => feed.add({ kind: "removed", ...what }));
  return client;
}

test("webSample_LoadsTheBrowserBuildsAndTheSharedModule", TEST_TIMEOUT, () => {
  const builds = ["@microsoft/signalr/dist/browser/signalr.min.js", "@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js"];
  const window = {};
  window.self = window;
  window.window = window;
  const context = vm.createContext(window);
  for (const build of builds) vm.runInContext(readFileSync(fileURLToPath(new URL(`node_modules/${build}`, import.meta.url)), "utf8"), context);
  assert.equal(typeof window.signalR?.HubConnectionBuilder, "function");
  assert.equal(typeof window.signalR.protocols?.msgpack?.MessagePackHubProtocol, "function");
  const html = readFileSync(`${SAMPLES}web/index.html`, "utf8");
  for (const build of builds) assert.ok(html.includes(`src="node_modules/${build}"`), build);
  assert.match(readFileSync(`${SAMPLES}web/app.js`, "utf8"), /from "\.\/js\/realtime-client\.mjs"/);
  assert.match(readFileSync(`${SAMPLES}node/client.mjs`, "utf8"), /from "\.\.\/js\/realtime-client\.mjs"/);
});

test("jsClient_ReconnectToOtherNode_SyncsMissedEventsOnceThenGoesLive", TEST_TIMEOUT, async () => {
  const o = await owner(NODE1);
  const user = uniqueId("web");
  const token = makeToken({ user });
  const store = inspectableStore();
  const device = uniqueId("browser");
  const make = (url, feed) => jsClient({ url, token, device, store, feed });

  const first = new Feed();
  let web = make(NODE2, first);
  try {
    await withTimeout(web.connect(), TIMEOUT_MS, "web.connect()");
    // (The official client's own record of the protocol it negotiated in the handshake.)
    assert.equal(web.connection._protocol.name, PROTOCOL);
    const { groupId } = await invoke(o.connection, "CreateGroup", { type: "Public", name: uniqueId("web"), members: [user] });
    await first.waitFor((p) => p.kind === "SystemMessage" && p.item.type === "JoinedGroup" && p.item.groupId === groupId, "JoinedGroup");
    await first.waitFor((p) => p.kind === "GroupEvent" && p.item.groupId === groupId && p.item.seq === 1, "MembersJoined");
    await withTimeout(web.stop(), TIMEOUT_MS, "web.stop()");
    assert.equal(store.value.groups[groupId], 1, "the cursor is saved");

    const missed = [];
    for (const text of ["m1", "m2"]) missed.push((await invoke(o.connection, "SendMessage", { groupId, text })).seq);

    const second = new Feed();
    web = make(NODE1, second);
    await withTimeout(web.connect(), TIMEOUT_MS, "web.connect() again");
    const live = await invoke(o.connection, "SendMessage", { groupId, text: "live" });
    await second.waitFor((p) => p.kind === "GroupEvent" && p.item.seq === live.seq, "the live message");

    const events = second.items.filter((p) => p.kind === "GroupEvent");
    assert.ok(!second.items.some((p) => p.kind === "info" && /^error/.test(p.text)), JSON.stringify(second.items));
    assert.deepEqual(
      events.map((p) => [p.item.seq, p.item.data.text, p.source]),
      [[missed[0], "m1", "sync"], [missed[1], "m2", "sync"], [live.seq, "live", "live"]],
    );
    assert.deepEqual(second.items.filter((p) => p.kind === "SystemMessage"), [], "no system message is repeated");
    assert.ok(second.items.some((p) => p.kind === "info" && /^synced \(connected\)/.test(p.text)), "synced on connect");
  } finally {
    await withTimeout(web.stop(), TIMEOUT_MS, "web.stop()").catch(() => {});
  }
});

test("jsClient_GroupIdDissolvedAndCreatedAgainWhileOffline_ReadsTheNewGroupFromItsStart", TEST_TIMEOUT, async () => {
  const o = await owner(NODE1);
  const user = uniqueId("web");
  const token = makeToken({ user });
  const store = inspectableStore();
  const device = uniqueId("browser");
  const groupId = uniqueId("reused");
  const make = (url, feed) => jsClient({ url, token, device, store, feed });
  const saved = () => store.value;

  const first = new Feed();
  let web = make(NODE2, first);
  try {
    await withTimeout(web.connect(), TIMEOUT_MS, "web.connect()");
    await invoke(o.connection, "CreateGroup", { type: "Public", name: "first", groupId, members: [user] });
    const joined = await first.waitFor((p) => p.kind === "SystemMessage" && p.item.type === "JoinedGroup" && p.item.groupId === groupId, "JoinedGroup");
    for (const text of ["a1", "a2"]) await invoke(o.connection, "SendMessage", { groupId, text });
    await first.waitFor((p) => p.kind === "GroupEvent" && p.item.groupId === groupId && p.item.seq === 3, "a2");
    await withTimeout(web.stop(), TIMEOUT_MS, "web.stop()");
    const oldEpoch = joined.item.data.epoch;
    assert.equal(typeof oldEpoch, "string");
    assert.deepEqual([saved().groups[groupId], saved().epochs[groupId]], [3, oldEpoch], "the cursor is saved with its epoch");

    // While the client is away, the id becomes another group, whose log grows past the old cursor.
    await invoke(o.connection, "DissolveGroup", groupId);
    await invoke(o.connection, "CreateGroup", { type: "Public", name: "second", groupId, members: [user] });
    for (const text of ["b1", "b2", "b3", "b4"]) await invoke(o.connection, "SendMessage", { groupId, text });

    const second = new Feed();
    web = make(NODE1, second);
    await withTimeout(web.connect(), TIMEOUT_MS, "web.connect() again");
    const live = await invoke(o.connection, "SendMessage", { groupId, text: "live" });
    await second.waitFor((p) => p.kind === "GroupEvent" && p.item.groupId === groupId && p.item.seq === live.seq, "the live message");

    assert.ok(!second.items.some((p) => p.kind === "info" && /^error/.test(p.text)), JSON.stringify(second.items));
    // The whole new group, from its first event: nothing of it taken as following the old one.
    assert.deepEqual(
      second.items.filter((p) => p.kind === "GroupEvent" && p.item.groupId === groupId).map((p) => [p.item.seq, p.item.type, p.item.data.text, p.source]),
      [[1, "MembersJoined", undefined, "sync"], [2, "Message", "b1", "sync"], [3, "Message", "b2", "sync"], [4, "Message", "b3", "sync"], [5, "Message", "b4", "sync"], [6, "Message", "live", "live"]],
    );
    const rejoined = second.items.find((p) => p.kind === "SystemMessage" && p.item.type === "JoinedGroup" && p.item.groupId === groupId);
    assert.ok(rejoined, "the new group's JoinedGroup came through Sync");
    assert.notEqual(rejoined.item.data.epoch, oldEpoch);
    assert.deepEqual([saved().groups[groupId], saved().epochs[groupId]], [6, rejoined.item.data.epoch]);
  } finally {
    await withTimeout(web.stop(), TIMEOUT_MS, "web.stop()").catch(() => {});
  }
});

test("jsClient_LivePushAboveTheCursor_SyncFillsTheGapInOrderThenKickedIsRemoved", TEST_TIMEOUT, async () => {
  const o = await owner(NODE1);
  const user = uniqueId("gap");
  const store = inspectableStore();
  const feed = new Feed();
  const client = jsClient({ url: NODE2, token: makeToken({ user }), store, feed });
  const events = (groupId) => feed.items.filter((p) => p.kind === "GroupEvent" && p.item.groupId === groupId);
  try {
    await withTimeout(client.connect(), TIMEOUT_MS, "client.connect()");
    const { groupId } = await invoke(o.connection, "CreateGroup", { type: "Public", name: uniqueId("gap"), members: [user] });
    const sent = [];
    for (const text of ["g1", "g2"]) sent.push((await invoke(o.connection, "SendMessage", { groupId, text })).seq);
    await feed.waitFor((p) => p.kind === "GroupEvent" && p.item.seq === sent[1], "g2");

    // The cursor goes back to #1, as if the pushes of g1 and g2 had been lost on the way: the next
    // live push is a gap, held back until Sync has delivered what comes before it.
    await client.serial(() => client.cursors.set(groupId, 1));
    const before = events(groupId).length;
    const g3 = await invoke(o.connection, "SendMessage", { groupId, text: "g3" });
    await feed.waitFor((p) => p.kind === "GroupEvent" && p.item.seq === g3.seq, "g3");
    assert.deepEqual(
      events(groupId).slice(before).map((p) => [p.item.seq, p.item.data.text, p.source]),
      [[sent[0], "g1", "sync"], [sent[1], "g2", "sync"], [g3.seq, "g3", "sync"]],
    );

    // Kicked: the removal surfaces as an event, the cursor is dropped, nothing later arrives.
    await invoke(o.connection, "RemoveMembers", { groupId, userIds: [user] });
    await feed.waitFor((p) => p.kind === "removed" && p.groupId === groupId, "removed");
    assert.equal(store.value.groups[groupId], undefined);
    const last = events(groupId).at(-1).item;
    assert.deepEqual([last.type, last.data.userIds], ["MembersKicked", [user]]);
    await invoke(o.connection, "SendMessage", { groupId, text: "after" });
    await client.serial(() => client.sync("asked"));
    assert.equal(events(groupId).at(-1).item, last, "nothing of the group after the removal");
  } finally {
    await withTimeout(client.stop(), TIMEOUT_MS, "client.stop()").catch(() => {});
  }
});

test("jsClient_ScrollsHistoryBackAndJoinsByInviteLink", TEST_TIMEOUT, async () => {
  const o = await owner(NODE1);
  const [reader, joiner] = [uniqueId("hist"), uniqueId("link")];
  const make = (user, url, feed) => jsClient({ url, token: makeToken({ user }), feed });
  const { groupId } = await invoke(o.connection, "CreateGroup", { type: "Public", name: uniqueId("hist"), members: [reader] });
  const sent = [];
  for (let i = 0; i < 7; i++) sent.push((await invoke(o.connection, "SendMessage", { groupId, text: `h${i}` })).seq);

  const readerFeed = new Feed();
  const web = make(reader, NODE2, readerFeed);
  const joinerFeed = new Feed();
  const other = make(joiner, NODE1, joinerFeed);
  try {
    await withTimeout(web.connect(), TIMEOUT_MS, "web.connect()");
    // Scrolling back three at a time: every message once, newest first, then nothing more.
    const seen = [];
    for (let page = 0; page < 5; page++) {
      const items = await web.olderMessages(groupId, 3);
      if (items.length === 0) break;
      seen.push(...items.map((e) => [e.seq, e.data.text]));
    }
    assert.deepEqual(seen, sent.map((seq, i) => [seq, `h${i}`]).reverse());
    assert.equal((await web.olderMessages(groupId, 3)).length, 0, "nothing older");

    // The reader may not invite (Public: AdminsOnly); the owner's link opens the page with ?join=<code>.
    await assert.rejects(web.createInviteLink(groupId, "http://127.0.0.1:8090/"), /\[InviteNotAllowed\]/);
    const link = await invoke(o.connection, "CreateInviteLink", { groupId, maxUses: 1 });
    const pageUrl = `http://127.0.0.1:8090/index.html?join=${link.code}`;
    await withTimeout(other.connect(), TIMEOUT_MS, "other.connect()");
    const code = new URL(pageUrl).searchParams.get("join");
    const joined = await other.joinByLink(code);
    assert.deepEqual([joined.result, joined.groupId], ["Joined", groupId]);
    const system = await joinerFeed.waitFor((p) => p.kind === "SystemMessage" && p.item.type === "JoinedGroup" && p.item.groupId === groupId, "JoinedGroup");
    assert.equal(system.item.data.inviter, o.user);
    // A late joiner's history starts at its join.
    assert.equal((await other.olderMessages(groupId)).length, 0);
    const after = await invoke(o.connection, "SendMessage", { groupId, text: "welcome" });
    await joinerFeed.waitFor((p) => p.kind === "GroupEvent" && p.item.seq === after.seq, "the message after the join");
    other.older.delete(groupId);
    assert.deepEqual([...(await other.olderMessages(groupId))].map((e) => e.data.text), ["welcome"]);
    // The link was for one use: a second holder gets the one answer for every dead link.
    await assert.rejects(web.joinByLink(code), /\[InviteLinkInvalid\]/);
  } finally {
    await withTimeout(web.stop(), TIMEOUT_MS, "web.stop()").catch(() => {});
    await withTimeout(other.stop(), TIMEOUT_MS, "other.stop()").catch(() => {});
  }
});

test("jsClient_WebPush_SubscribesWithTheAppsKeyAndRegistersThenUnregisters", TEST_TIMEOUT, async () => {
  const user = uniqueId("webpush");
  const web = jsClient({ url: NODE1, token: makeToken({ user }) });
  // A browser's side without a browser: a P-256 key pair and an auth secret, as PushManager.subscribe() makes them.
  // The endpoint is a loopback port where nothing listens (the e2e nodes allow http to loopback, as Development does).
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16).toString("base64url");
  const endpoint = `http://127.0.0.1:9/push/${uniqueId("sub")}`;
  const calls = [];
  let subscription = null;
  const registration = {
    pushManager: {
      getSubscription: async () => subscription,
      subscribe: async (options) => {
        calls.push(["subscribe", { ...options }]);
        subscription = {
          endpoint,
          toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey("base64url"), auth } }),
          unsubscribe: async () => {
            calls.push(["unsubscribe"]);
            subscription = null;
            return true;
          },
        };
        return subscription;
      },
    },
  };
  try {
    await withTimeout(web.connect(), TIMEOUT_MS, "web.connect()");
    const { publicKey } = await web.invoke("GetWebPushKey");
    assert.match(publicKey, /^[A-Za-z0-9_-]{87}$/, "the app's VAPID public key, base64url");

    const on = await withTimeout(web.enableWebPush(registration), TIMEOUT_MS, "enableWebPush");
    assert.deepEqual({ ...on }, { endpoint, changed: true, subscriptions: 1 });
    assert.deepEqual(calls[0], ["subscribe", { userVisibleOnly: true, applicationServerKey: publicKey }]);
    // Again (the page reloaded): the same subscription, nothing changes.
    assert.equal((await web.enableWebPush(registration)).changed, false);

    const off = await withTimeout(web.disableWebPush(registration), TIMEOUT_MS, "disableWebPush");
    assert.deepEqual({ ...off }, { endpoint, changed: true, subscriptions: 0 });
    assert.deepEqual(calls.at(-1), ["unsubscribe"]);
    assert.equal(await web.disableWebPush(registration), null);
  } finally {
    await web.stop();
  }
});

test("webSample_ServiceWorker_ShowsANotificationPerPush", TEST_TIMEOUT, async () => {
  const listeners = {};
  const shown = [];
  const self = {
    addEventListener: (type, fn) => (listeners[type] = fn),
    registration: { showNotification: async (title, options) => shown.push({ title, ...options }) },
    clients: { matchAll: async () => [], openWindow: async () => null },
  };
  vm.runInContext(readFileSync(`${SAMPLES}web/sw.js`, "utf8"), vm.createContext({ self }), { filename: "sw.js" });
  const body = { kind: "GroupMessage", deliveryId: "d1", users: ["bob"], message: { groupId: "g1", data: { sender: "alice", text: "hi bob" } } };
  const waits = [];
  listeners.push({ data: { json: () => body }, waitUntil: (p) => waits.push(p) });
  await Promise.all(waits);
  assert.deepEqual(shown, [{ title: "alice in g1", body: "hi bob", tag: "d1", data: body }]);
  assert.match(readFileSync(`${SAMPLES}web/index.html`, "utf8"), /id="push-on"/);
});

// ------------------------------------------------------------------------------ node sample

const cliReady = existsSync(`${SAMPLES}node/node_modules/@microsoft/signalr/package.json`);

/** The CLI as a child process: lines of stdout in a Feed, commands written to stdin. */
function startCli(args) {
  const child = spawn(process.execPath, [`${SAMPLES}node/client.mjs`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines = new Feed();
  let buffer = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop();
    for (const line of parts) lines.add(line);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk) => lines.add(`stderr: ${chunk}`));
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    lines,
    exited,
    send: (line) => child.stdin.write(`${line}\n`),
    line: (re, label = String(re)) => lines.waitFor((l) => re.test(l), `CLI line ${label}`),
    kill: () => child.exitCode === null && child.kill("SIGKILL"),
  };
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\#]/g, "\\$&");

test("nodeSample_CommandsAndPushesAcrossNodes", TEST_TIMEOUT, async () => {
  assert.ok(cliReady, "client-samples/node has no node_modules: scripts/test.sh runs npm ci there");
  const o = await owner(NODE1);
  const user = uniqueId("cli");
  const cli = startCli(["--url", NODE2, "--token", makeToken({ user }), "--device", uniqueId("tty"), "--protocol", PROTOCOL]);
  try {
    await cli.line(new RegExp(`connected to .* as ${escape(user)}@demo`));
    await cli.line(/starting from now/);

    const { groupId } = await invoke(o.connection, "CreateGroup", { type: "Public", name: uniqueId("cli"), members: [user] });
    const g = escape(groupId);
    await cli.line(new RegExp(`\\[system #\\d+.*\\] JoinedGroup ${g}`));
    await cli.line(new RegExp(`\\[${g} #1.*\\] MembersJoined`));

    cli.send(`send ${groupId} hello from the cli`);
    const sent = await o.inbox.event(groupId, { type: "Message" });
    assert.equal(sent.data.sender, user);
    assert.equal(sent.data.text, "hello from the cli");

    await invoke(o.connection, "SendMessage", { groupId, text: "hello cli" });
    await cli.line(new RegExp(`\\[${g} #3( sync)?\\] ${escape(o.user)}: hello cli`));

    cli.send("send @RT#AAAAAAAAAAAA nobody");
    await cli.line(/error: \[GroupNotFound\] /);

    cli.send("groups");
    await cli.line(new RegExp(`${g} +Public +Member .* 1 unread`));

    // Group state (SPEC §9) from the command set.
    cli.send(`read ${groupId}`);
    await cli.line(/read up to #3, 0 unread/);
    cli.send(`readcount ${groupId} 3`);
    await cli.line(/#3: 2 read, 0 not yet/);
    await invoke(o.connection, "SetGroupAttributes", { groupId, set: { topic: "hiking" } });
    cli.send(`attrs ${groupId}`);
    await cli.line(/topic="hiking" \(v1\)/);
    cli.send(`setattr ${groupId} topic climbing`);
    await cli.line(/error: \[PermissionDenied\] /);
    cli.send(`incr ${groupId} likes 2`);
    await cli.line(/likes = 2 \(#\d+\)/);
    cli.send(`counters ${groupId}`);
    await cli.line(/likes=2/);
    cli.send(`online ${groupId}`);
    await cli.line(new RegExp(`2 online: .*${escape(user)}`));

    cli.send(`quit ${groupId}`);
    await cli.line(new RegExp(`no longer a member of ${g}`));

    cli.send("exit");
    assert.equal(await withTimeout(cli.exited, TIMEOUT_MS, "CLI exit"), 0);
  } finally {
    cli.kill();
  }
});
