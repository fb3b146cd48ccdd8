#!/usr/bin/env node
// A command-line client for Realtime (SPEC §4) with the official @microsoft/signalr client.
//
//   node client.mjs --url http://127.0.0.1:5080 --token <jwt> [--device cli-1] [--state state.json]
//   (or REALTIME_URL, REALTIME_TOKEN, REALTIME_DEVICE, REALTIME_STATE)
//
// It prints every SystemMessage and GroupEvent, keeps the last seq seen per stream (the
// user's system stream and one per joined group), and calls Sync after every (re)connect and
// whenever it sees a gap, so it ends up with every event exactly once, in order. Commands on
// stdin: create <name> [member...] | send <groupId> <text> | join <groupId> | quit <groupId>
// | groups | invite <groupId> <user...> | pending | approve|reject <pendingId> | sync | cursors
// | help | exit.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import * as signalR from "@microsoft/signalr";

// ----------------------------------------------------------------------------- options

const { values: opts } = parseArgs({
  options: {
    url: { type: "string", default: process.env.REALTIME_URL ?? "http://127.0.0.1:5080" },
    token: { type: "string", default: process.env.REALTIME_TOKEN },
    device: { type: "string", default: process.env.REALTIME_DEVICE ?? `cli-${randomUUID().slice(0, 8)}` },
    state: { type: "string", default: process.env.REALTIME_STATE },
    replay: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help || !opts.token) {
  console.error(`usage: node client.mjs --token <jwt> [--url ${opts.url}] [--device <id>] [--state <file>] [--replay] [--verbose]
  --token   a token for the app (REALTIME_TOKEN); see README.md for the dev app "demo"
  --url     a server node (REALTIME_URL); any node serves any client
  --device  this terminal's id (REALTIME_DEVICE), 1-64 chars
  --state   a JSON file keeping the cursors across runs (REALTIME_STATE): the next run
            syncs what happened while it was not running
  --replay  with no saved cursors, sync everything from the start instead of from now`);
  process.exit(opts.help ? 0 : 2);
}

const hubUrl = `${opts.url.replace(/\/+$/, "")}/hubs/groups?device=${encodeURIComponent(opts.device)}`;

// ----------------------------------------------------------------------------- output

const now = () => new Date().toISOString().slice(11, 23);
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
let rl;
const prompt = () => interactive && rl?.prompt(true);
function print(line) {
  // Keep the prompt usable while pushes arrive.
  if (interactive && rl) {
    process.stdout.clearLine(0);
    process.stdout.cursorTo(0);
  }
  console.log(`${now()} ${line}`);
  prompt();
}
const info = (line) => print(`-- ${line}`);
const debug = (line) => opts.verbose && print(`.. ${line}`);
const compact = (value) => (value === undefined ? "" : JSON.stringify(value));

function describeEvent(e) {
  if (e.type === "Message") {
    const body = e.data.text ?? compact(e.data.payload);
    return `${e.data.sender}: ${body}`;
  }
  return `${e.type} by ${e.actor ?? "-"} ${compact(e.data)}`;
}

// ----------------------------------------------------------------------------- cursors

/**
 * systemSeq: last system seq seen (0 = none). groups: groupId -> last group seq seen.
 * epochs: groupId -> the epoch of the group those seqs belong to (a group id dissolved and
 * created again is a new group with a new epoch and its own seqs). Saved after every change
 * when --state is given.
 */
const cursors = loadState();

function loadState() {
  if (opts.state && existsSync(opts.state)) {
    const saved = JSON.parse(readFileSync(opts.state, "utf8"));
    return {
      fresh: false,
      systemSeq: saved.systemSeq ?? 0,
      groups: new Map(Object.entries(saved.groups ?? {})),
      epochs: new Map(Object.entries(saved.epochs ?? {})),
    };
  }
  return { fresh: true, systemSeq: 0, groups: new Map(), epochs: new Map() };
}

function saveState() {
  if (!opts.state) return;
  const tmp = `${opts.state}.tmp`;
  const { systemSeq, groups, epochs } = cursors;
  writeFileSync(tmp, JSON.stringify({ systemSeq, groups: Object.fromEntries(groups), epochs: Object.fromEntries(epochs) }, null, 2));
  renameSync(tmp, opts.state);
}

/** Sets a group's cursor; with an epoch, the group (incarnation of the id) it belongs to. */
function setCursor(groupId, seq, epoch) {
  cursors.groups.set(groupId, seq);
  if (epoch) cursors.epochs.set(groupId, epoch);
}

function dropCursor(groupId) {
  cursors.groups.delete(groupId);
  cursors.epochs.delete(groupId);
}

/** What Sync is sent for a group: { since, epoch } once the epoch is known, else the plain seq. */
function syncCursor(groupId) {
  const since = cursors.groups.get(groupId);
  const epoch = cursors.epochs.get(groupId);
  return epoch ? { since, epoch } : since;
}

// ----------------------------------------------------------------------------- connection

const connection = new signalR.HubConnectionBuilder()
  .withUrl(hubUrl, {
    // Read on every (re)connect: replace it with a call that fetches a fresh token.
    accessTokenFactory: () => opts.token,
    // Any node serves any client: no negotiate round trip, no sticky sessions.
    skipNegotiation: true,
    transport: signalR.HttpTransportType.WebSockets,
  })
  // Retry forever: 0 s, 1 s, 2 s, 5 s, then every 10 s.
  .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ({ previousRetryCount }) => [0, 1000, 2000, 5000][previousRetryCount] ?? 10_000 })
  .configureLogging(opts.verbose ? signalR.LogLevel.Information : signalR.LogLevel.None)
  .build();

// Pushes, syncs and commands' follow-ups run one at a time, in arrival order, so the cursors
// are only ever touched by one of them.
let chain = Promise.resolve();
function serial(work) {
  const next = chain.then(work).catch((error) => info(`error: ${error.message}`));
  chain = next;
  return next;
}

/** Set while a Sync is needed (a gap, an unknown group, a removal); run after the current work. */
let syncWanted = false;
function wantSync(reason) {
  debug(`sync wanted: ${reason}`);
  if (syncWanted) return;
  syncWanted = true;
  serial(() => (syncWanted ? sync(reason) : undefined));
}

const REMOVALS = new Set(["Kicked", "QuitGroup", "GroupDissolved"]);

/** Groups seen in a GroupEvent before any JoinedGroup told us where their stream starts. */
const unknownGroups = new Set();

/** Applies one system message in seq order. source: "live" or "sync". */
function applySystem(m, source) {
  if (m.seq <= cursors.systemSeq) return debug(`dup system #${m.seq}`);
  if (m.seq > cursors.systemSeq + 1) return wantSync(`system gap: have ${cursors.systemSeq}, got ${m.seq}`);
  cursors.systemSeq = m.seq;
  print(`[system #${m.seq}${source === "sync" ? " sync" : ""}] ${m.type} ${m.groupId ?? ""} by ${m.actor ?? "-"} ${compact(m.data)}`);
  if ((m.type === "JoinedGroup" || m.type === "GroupCreated") && m.groupId) {
    // The group's stream starts after joinSeq (what came before is not ours to see); fetch
    // anything already past it.
    const joinSeq = m.data?.joinSeq ?? 0;
    const epoch = m.data?.epoch;
    const known = cursors.epochs.get(m.groupId);
    // Another epoch: the id was dissolved and created again, a new group whose seqs start over.
    if ((epoch && known && known !== epoch) || !(cursors.groups.get(m.groupId) >= joinSeq)) setCursor(m.groupId, joinSeq, epoch);
    unknownGroups.delete(m.groupId);
    wantSync(`joined ${m.groupId}`);
  }
  // Removal: Sync answers the group's last events up to the removal and removed: true.
  if (REMOVALS.has(m.type) && m.groupId && cursors.groups.has(m.groupId)) wantSync(`left ${m.groupId}`);
  saveState();
}

/** Applies one group event in seq order. */
function applyEvent(e, source) {
  const last = cursors.groups.get(e.groupId);
  if (last === undefined) {
    // A group we have not heard of yet: its JoinedGroup (same transaction, other channel) is
    // still on its way. Sync reads the system stream first and learns joinSeq there.
    unknownGroups.add(e.groupId);
    return wantSync(`unknown group ${e.groupId}`);
  }
  if (e.seq <= last) return debug(`dup ${e.groupId} #${e.seq}`);
  // Sync may skip seqs legitimately (the time between two memberships); live pushes may not.
  if (e.seq > last + 1 && source === "live") return wantSync(`gap in ${e.groupId}: have ${last}, got ${e.seq}`);
  cursors.groups.set(e.groupId, e.seq);
  print(`[${e.groupId} #${e.seq}${source === "sync" ? " sync" : ""}] ${describeEvent(e)}`);
  if (e.type === "GroupDissolved") {
    dropCursor(e.groupId);
    info(`${e.groupId} was dissolved`);
  }
  saveState();
}

/** Calls Sync until every stream is caught up (pages of up to 200). */
async function sync(reason) {
  syncWanted = false;
  debug(`sync (${reason}) from system ${cursors.systemSeq}, ${cursors.groups.size} groups`);
  let rounds = 0;
  for (;;) {
    const asked = Object.fromEntries([...cursors.groups.keys()].map((id) => [id, syncCursor(id)]));
    const result = await connection.invoke("Sync", { systemSince: cursors.systemSeq, groups: asked, limit: 200 });
    rounds++;
    if (result.system.tooOld) info("some system messages were already trimmed by retention");
    for (const m of result.system.items) applySystem(m, "sync");
    let more = result.system.hasMore;
    for (const [groupId, g] of Object.entries(result.groups)) {
      const askedEpoch = asked[groupId]?.epoch;
      if (g.tooOld && askedEpoch && g.epoch && g.epoch !== askedEpoch) {
        // Our cursor belongs to an earlier group of this id (dissolved, then created again):
        // reload the new group's state and read its log from where our part of it starts.
        const { groups } = await connection.invoke("GetGroups", [groupId]);
        info(`${groupId} is a new group (epoch ${g.epoch}): reload its state${groups[0] ? ` (${groups[0].name})` : ""}; reading it from #${g.next}`);
        if (cursors.epochs.get(groupId) === askedEpoch) setCursor(groupId, g.next, g.epoch);
        more = true;
        continue;
      }
      if (g.tooOld) {
        // The log no longer reaches back to our cursor: reload the group's state instead.
        const { groups } = await connection.invoke("GetGroups", [groupId]);
        const since = asked[groupId]?.since ?? asked[groupId];
        info(`${groupId}: events after #${since} were trimmed; jumping to #${groups[0]?.lastSeq ?? "?"} (reload its state)`);
        // Not a member of the group now under this id (GetGroups fails it): nothing more to read.
        if (groups[0]) setCursor(groupId, groups[0].lastSeq, g.epoch);
        else dropCursor(groupId);
        more = true;
        continue;
      }
      if (g.epoch && cursors.groups.has(groupId) && !cursors.epochs.has(groupId)) cursors.epochs.set(groupId, g.epoch);
      for (const e of g.items) applyEvent({ ...e, groupId }, "sync");
      if (g.removed && !g.hasMore && cursors.groups.has(groupId)) {
        dropCursor(groupId);
        info(`no longer a member of ${groupId}`);
      }
      more ||= g.hasMore;
    }
    if (!result.system.hasMore) {
      // The system stream is caught up and still says nothing of these groups (e.g. the
      // cursors were lost): since = 0 answers exactly what this user may see of them.
      for (const id of unknownGroups) if (!cursors.groups.has(id)) cursors.groups.set(id, 0);
      unknownGroups.clear();
    }
    // Groups discovered on the way (JoinedGroup) are in the cursors now but were not asked.
    more ||= [...cursors.groups.keys()].some((id) => !(id in asked));
    saveState();
    if (!more) break;
  }
  syncWanted = false;
  debug(`synced in ${rounds} round(s): system #${cursors.systemSeq}`);
}

/** First connect without saved cursors: start from now (or from the start with --replay). */
async function baseline() {
  if (!cursors.fresh || opts.replay) return;
  let skipped = 0;
  for (;;) {
    const r = await connection.invoke("Sync", { systemSince: cursors.systemSeq, groups: {}, limit: 1000 });
    skipped += r.system.items.length;
    cursors.systemSeq = r.system.next;
    if (!r.system.hasMore) break;
  }
  for (const g of await joinedGroups()) setCursor(g.groupId, g.lastSeq, g.epoch);
  cursors.fresh = false;
  saveState();
  info(`starting from now: ${skipped} earlier system message(s) skipped, ${cursors.groups.size} group(s)`);
}

async function joinedGroups() {
  const all = [];
  for (let offset = 0; ; ) {
    const page = await connection.invoke("GetJoinedGroups", { offset, limit: 1000 });
    all.push(...page.groups);
    offset += page.groups.length;
    if (page.groups.length === 0 || offset >= page.total) return all;
  }
}

connection.on("SystemMessage", (m) => serial(() => applySystem(m, "live")));
connection.on("GroupEvent", (e) => serial(() => applyEvent(e, "live")));
connection.onreconnecting((error) => info(`connection lost (${error?.message ?? "closed"}); reconnecting...`));
connection.onreconnected(() => {
  info("reconnected; syncing");
  serial(() => sync("reconnected"));
});
connection.onclose((error) => {
  if (stopping) return;
  // Automatic reconnect gave up or the server refused us (e.g. an expired token): start over.
  info(`connection closed (${error?.message ?? "no error"}); starting again in 5 s`);
  setTimeout(startLoop, 5000);
});

let stopping = false;
async function startLoop() {
  for (let attempt = 1; !stopping; attempt++) {
    try {
      await connection.start();
      const me = await connection.invoke("WhoAmI").catch(() => undefined);
      info(`connected to ${opts.url} as ${me ? `${me.userId}@${me.appId}` : "?"} on device ${opts.device}`);
      await serial(async () => {
        await baseline();
        await sync("connected");
      });
      return;
    } catch (error) {
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      info(`connect failed (${error.message}); retrying in ${delay / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

// ----------------------------------------------------------------------------- commands

const HELP = `commands:
  create <name> [member...]   create a Public group (you are the owner)
  send <groupId> <text>       send a text message
  join <groupId>              apply to join (joins at once when the group is FreeAccess)
  quit <groupId>              leave a group
  invite <groupId> <user...>  invite users
  pending                     join requests and invitations to you and from you
  approve|reject <pendingId>  handle a join request (owner/admin) or an invitation (invitee)
  groups                      list the groups you are in (with unread counts)
  attrs <groupId>             the group's attributes (with versions)
  setattr <groupId> <key> <value> [expectedVersion]   set an attribute (0 = only if it does not exist)
  delattr <groupId> <key>     remove an attribute
  counters <groupId>          the group's counters
  incr <groupId> <key> [n]    add n (default 1) to a counter
  setcounter <groupId> <key> <n>   set a counter (owner/admins)
  read <groupId> [seq]        mark read up to seq (default: everything)
  readcount <groupId> <seq>   how many members have read message #seq
  readers <groupId> <seq> [unread]   who has (or has not) read message #seq
  online <groupId>            members online now
  sync                        call Sync now
  cursors                     show the last seq seen per stream
  help | exit`;

async function command(line) {
  const [name, ...args] = line.trim().split(/\s+/);
  const need = (n, usage) => {
    if (args.length < n) throw new Error(`usage: ${usage}`);
  };
  switch (name) {
    case "":
      return;
    case "create": {
      need(1, "create <name> [member...]");
      const g = await connection.invoke("CreateGroup", { type: "Public", name: args[0], members: args.slice(1), requestId: randomUUID() });
      return info(`created ${g.groupId} "${g.name}" (${g.memberCount} member(s))`);
    }
    case "send": {
      need(2, "send <groupId> <text>");
      const text = line.trim().replace(/^send\s+\S+\s+/, "");
      const r = await connection.invoke("SendMessage", { groupId: args[0], text, clientMsgId: randomUUID() });
      return debug(`sent as #${r.seq} (${r.messageId})`);
    }
    case "join": {
      need(1, "join <groupId>");
      const r = await connection.invoke("ApplyToJoin", { groupId: args[0], requestId: randomUUID() });
      return info(r.result === "Pending" ? `join request ${r.pendingId} is waiting for approval` : `joined ${args[0]}`);
    }
    case "quit":
      need(1, "quit <groupId>");
      await connection.invoke("QuitGroup", args[0]);
      return info(`left ${args[0]}`);
    case "invite": {
      need(2, "invite <groupId> <user...>");
      const results = await connection.invoke("InviteMembers", { groupId: args[0], userIds: args.slice(1), requestId: randomUUID() });
      return info(results.map((r) => `${r.userId}: ${r.result}${r.code ? ` (${r.code})` : ""}`).join(", "));
    }
    case "approve":
    case "reject": {
      need(1, `${name} <pendingId>`);
      const item = await connection.invoke("HandlePendingItem", { pendingId: args[0], approve: name === "approve", requestId: randomUUID() });
      return info(`${item.type} ${item.pendingId}: ${item.status}`);
    }
    case "pending": {
      const items = await connection.invoke("GetPendingItems", {});
      if (items.length === 0) return info("no pending items");
      for (const p of items) print(`   ${p.pendingId}  ${p.type.padEnd(11)} ${p.groupId}  ${p.fromUser}${p.toUser ? ` -> ${p.toUser}` : ""}  ${p.status}`);
      return;
    }
    case "groups": {
      const groups = await joinedGroups();
      if (groups.length === 0) return info("no groups");
      for (const g of groups) print(`   ${g.groupId}  ${g.type.padEnd(10)} ${g.role.padEnd(6)} ${String(g.memberCount).padStart(5)} members  #${g.lastSeq}  ${String(g.unread ?? 0).padStart(4)} unread  ${g.name}`);
      return;
    }
    case "attrs": {
      need(1, "attrs <groupId>");
      const r = await connection.invoke("GetGroupAttributes", { groupId: args[0] });
      return info(`at #${r.seq}: ${Object.entries(r.attributes).map(([k, a]) => `${k}=${JSON.stringify(a.value)} (v${a.version})`).join(", ") || "no attributes"}`);
    }
    case "setattr": {
      need(3, "setattr <groupId> <key> <value> [expectedVersion]");
      const request = { groupId: args[0], set: { [args[1]]: args[2] }, requestId: randomUUID() };
      if (args[3] !== undefined) request.expectedVersions = { [args[1]]: Number(args[3]) };
      const r = await connection.invoke("SetGroupAttributes", request);
      return info(`${args[1]} is at version ${r.attributes[args[1]].version} (#${r.seq})`);
    }
    case "delattr": {
      need(2, "delattr <groupId> <key>");
      const r = await connection.invoke("SetGroupAttributes", { groupId: args[0], remove: [args[1]], requestId: randomUUID() });
      return info(`removed ${args[1]} (#${r.seq})`);
    }
    case "counters": {
      need(1, "counters <groupId>");
      const r = await connection.invoke("GetGroupCounters", { groupId: args[0] });
      return info(`at #${r.seq}: ${Object.entries(r.counters).map(([k, v]) => `${k}=${v}`).join(", ") || "no counters"}`);
    }
    case "incr":
    case "setcounter": {
      need(name === "incr" ? 2 : 3, name === "incr" ? "incr <groupId> <key> [n]" : "setcounter <groupId> <key> <n>");
      const change = { [args[1]]: Number(args[2] ?? 1) };
      const r = await connection.invoke("ChangeGroupCounters", { groupId: args[0], [name === "incr" ? "increment" : "set"]: change, requestId: randomUUID() });
      return info(`${args[1]} = ${r.counters[args[1]]} (#${r.seq})`);
    }
    case "read": {
      need(1, "read <groupId> [seq]");
      // MarkRead never goes past the group's last seq: "everything" is the largest seq there is.
      const r = await connection.invoke("MarkRead", { groupId: args[0], seq: args[1] === undefined ? Number.MAX_SAFE_INTEGER : Number(args[1]) });
      return info(`read up to #${r.lastReadSeq}, ${r.unread} unread`);
    }
    case "readcount": {
      need(2, "readcount <groupId> <seq>");
      const r = await connection.invoke("GetReadCount", { groupId: args[0], seq: Number(args[1]) });
      return info(`#${args[1]}: ${r.read} read, ${r.unread} not yet`);
    }
    case "readers": {
      need(2, "readers <groupId> <seq> [unread]");
      const read = args[2] !== "unread";
      const r = await connection.invoke("GetReadMembers", { groupId: args[0], seq: Number(args[1]), read });
      return info(`${r.total} ${read ? "have read" : "have not read"} #${args[1]}: ${r.userIds.join(", ")}`);
    }
    case "online": {
      need(1, "online <groupId>");
      const r = await connection.invoke("GetOnlineMembers", { groupId: args[0] });
      return info(`${r.online} online: ${r.userIds.join(", ")}`);
    }
    case "sync":
      return serial(() => sync("asked"));
    case "cursors":
      return info(`system #${cursors.systemSeq}; ${[...cursors.groups].map(([id, seq]) => `${id} #${seq}`).join(", ") || "no groups"}`);
    case "help":
      return print(HELP);
    case "exit":
      return shutdown();
    default:
      throw new Error(`unknown command '${name}' (try help)`);
  }
}

async function shutdown() {
  if (stopping) return;
  stopping = true;
  rl?.close();
  await Promise.race([connection.stop(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  saveState();
  process.exit(0);
}

process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

// Connect (and catch up) first; stdin is read only then, one command at a time.
await startLoop();
let commands = Promise.resolve();
rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "> ", terminal: interactive });
rl.on("line", (line) => {
  commands = commands.then(async () => {
    try {
      await command(line);
    } catch (error) {
      // Server errors arrive as "[Code] message", e.g. "[GroupNotFound] group ... does not exist".
      info(`error: ${error.message}`);
    }
    prompt();
  });
});
rl.on("SIGINT", shutdown); // Ctrl-C while readline owns the terminal
rl.on("close", () => {
  // Ctrl-D on a terminal exits; piped input that ends leaves the client printing pushes.
  if (process.stdin.isTTY) commands.then(shutdown);
});
prompt();
