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
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { RealtimeClient, memoryStore } from "../js/realtime-client.mjs";

// ----------------------------------------------------------------------------- options

const { values: opts } = parseArgs({
  options: {
    url: { type: "string", default: process.env.REALTIME_URL ?? "http://127.0.0.1:5080" },
    token: { type: "string", default: process.env.REALTIME_TOKEN },
    device: { type: "string", default: process.env.REALTIME_DEVICE ?? `cli-${randomUUID().slice(0, 8)}` },
    state: { type: "string", default: process.env.REALTIME_STATE },
    protocol: { type: "string", default: process.env.REALTIME_PROTOCOL ?? "json" },
    replay: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help || !opts.token) {
  console.error(`usage: node client.mjs --token <jwt> [--url ${opts.url}] [--device <id>] [--state <file>] [--protocol json|messagepack] [--replay] [--verbose]
  --token   a token for the app (REALTIME_TOKEN); see README.md for the dev app "demo"
  --url     a server node (REALTIME_URL); any node serves any client
  --device  this terminal's id (REALTIME_DEVICE), 1-64 chars
  --state   a JSON file keeping the cursors across runs (REALTIME_STATE): the next run
            syncs what happened while it was not running
  --protocol  json (default) or messagepack (REALTIME_PROTOCOL)
  --replay  with no saved cursors, sync everything from the start instead of from now`);
  process.exit(opts.help ? 0 : 2);
}

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

// ----------------------------------------------------------------------------- client

/** Cursors in a JSON file (--state), written whole and renamed so a crash never leaves half a file. */
function fileStore(path) {
  return {
    load: () => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null),
    save: (value) => {
      writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2));
      renameSync(`${path}.tmp`, path);
    },
    clear: () => rmSync(path, { force: true }),
  };
}

// Cursors, Sync on (re)connect, gaps, duplicates and reconnects live in the shared module.
const client = new RealtimeClient({
  signalR,
  url: opts.url,
  // Read on every (re)connect: replace it with a call that fetches a fresh token.
  token: () => opts.token,
  device: opts.device,
  protocol: opts.protocol,
  messagePack: MessagePackHubProtocol,
  store: opts.state ? fileStore(opts.state) : memoryStore(),
  startFrom: opts.replay ? "beginning" : "now",
  logLevel: opts.verbose ? signalR.LogLevel.Information : signalR.LogLevel.None,
});

client.on("push", ({ kind, item, source }) => {
  const tag = source === "sync" ? " sync" : "";
  if (kind === "SystemMessage") print(`[system #${item.seq}${tag}] ${item.type} ${item.groupId ?? ""} by ${item.actor ?? "-"} ${compact(item.data)}`);
  else print(`[${item.groupId} #${item.seq}${tag}] ${describeEvent(item)}`);
});
client.on("removed", ({ groupId }) => info(`no longer a member of ${groupId}`));
client.on("tooOld", ({ groupId, newGroup }) =>
  info(!groupId ? "some system messages were already trimmed by retention"
    : newGroup ? `${groupId} is a new group: reload its state; reading it from its start`
    : `${groupId}: events were trimmed; jumped to the group's current state (reload it)`),
);
client.on("info", info);
client.on("error", (error) => info(`error: ${error.message}`));
client.on("synced", ({ reason, systemSeq, groups }) => debug(`synced (${reason}): system #${systemSeq}, ${groups} group(s)`));
client.on("state", async (state) => {
  if (state === "reconnected") info("reconnected; syncing");
  if (state !== "connected") return;
  const me = await client.invoke("WhoAmI").catch(() => undefined);
  info(`connected to ${opts.url} as ${me ? `${me.userId}@${me.appId}` : "?"} on device ${opts.device}`);
});

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
      const g = await client.invoke("CreateGroup", { type: "Public", name: args[0], members: args.slice(1), requestId: randomUUID() });
      return info(`created ${g.groupId} "${g.name}" (${g.memberCount} member(s))`);
    }
    case "send": {
      need(2, "send <groupId> <text>");
      const text = line.trim().replace(/^send\s+\S+\s+/, "");
      const r = await client.invoke("SendMessage", { groupId: args[0], text, clientMsgId: randomUUID() });
      return debug(`sent as #${r.seq} (${r.messageId})`);
    }
    case "join": {
      need(1, "join <groupId>");
      const r = await client.invoke("ApplyToJoin", { groupId: args[0], requestId: randomUUID() });
      return info(r.result === "Pending" ? `join request ${r.pendingId} is waiting for approval` : `joined ${args[0]}`);
    }
    case "quit":
      need(1, "quit <groupId>");
      await client.invoke("QuitGroup", args[0]);
      return info(`left ${args[0]}`);
    case "invite": {
      need(2, "invite <groupId> <user...>");
      const results = await client.invoke("InviteMembers", { groupId: args[0], userIds: args.slice(1), requestId: randomUUID() });
      return info(results.map((r) => `${r.userId}: ${r.result}${r.code ? ` (${r.code})` : ""}`).join(", "));
    }
    case "approve":
    case "reject": {
      need(1, `${name} <pendingId>`);
      const item = await client.invoke("HandlePendingItem", { pendingId: args[0], approve: name === "approve", requestId: randomUUID() });
      return info(`${item.type} ${item.pendingId}: ${item.status}`);
    }
    case "pending": {
      const items = await client.invoke("GetPendingItems", {});
      if (items.length === 0) return info("no pending items");
      for (const p of items) print(`   ${p.pendingId}  ${p.type.padEnd(11)} ${p.groupId}  ${p.fromUser}${p.toUser ? ` -> ${p.toUser}` : ""}  ${p.status}`);
      return;
    }
    case "groups": {
      const groups = await client.joinedGroups();
      if (groups.length === 0) return info("no groups");
      for (const g of groups) print(`   ${g.groupId}  ${g.type.padEnd(10)} ${g.role.padEnd(6)} ${String(g.memberCount).padStart(5)} members  #${g.lastSeq}  ${String(g.unread ?? 0).padStart(4)} unread  ${g.name}`);
      return;
    }
    case "attrs": {
      need(1, "attrs <groupId>");
      const r = await client.invoke("GetGroupAttributes", { groupId: args[0] });
      return info(`at #${r.seq}: ${Object.entries(r.attributes).map(([k, a]) => `${k}=${JSON.stringify(a.value)} (v${a.version})`).join(", ") || "no attributes"}`);
    }
    case "setattr": {
      need(3, "setattr <groupId> <key> <value> [expectedVersion]");
      const request = { groupId: args[0], set: { [args[1]]: args[2] }, requestId: randomUUID() };
      if (args[3] !== undefined) request.expectedVersions = { [args[1]]: Number(args[3]) };
      const r = await client.invoke("SetGroupAttributes", request);
      return info(`${args[1]} is at version ${r.attributes[args[1]].version} (#${r.seq})`);
    }
    case "delattr": {
      need(2, "delattr <groupId> <key>");
      const r = await client.invoke("SetGroupAttributes", { groupId: args[0], remove: [args[1]], requestId: randomUUID() });
      return info(`removed ${args[1]} (#${r.seq})`);
    }
    case "counters": {
      need(1, "counters <groupId>");
      const r = await client.invoke("GetGroupCounters", { groupId: args[0] });
      return info(`at #${r.seq}: ${Object.entries(r.counters).map(([k, v]) => `${k}=${v}`).join(", ") || "no counters"}`);
    }
    case "incr":
    case "setcounter": {
      need(name === "incr" ? 2 : 3, name === "incr" ? "incr <groupId> <key> [n]" : "setcounter <groupId> <key> <n>");
      const change = { [args[1]]: Number(args[2] ?? 1) };
      const r = await client.invoke("ChangeGroupCounters", { groupId: args[0], [name === "incr" ? "increment" : "set"]: change, requestId: randomUUID() });
      return info(`${args[1]} = ${r.counters[args[1]]} (#${r.seq})`);
    }
    case "read": {
      need(1, "read <groupId> [seq]");
      // MarkRead never goes past the group's last seq: "everything" is the largest seq there is.
      const r = await client.invoke("MarkRead", { groupId: args[0], seq: args[1] === undefined ? Number.MAX_SAFE_INTEGER : Number(args[1]) });
      return info(`read up to #${r.lastReadSeq}, ${r.unread} unread`);
    }
    case "readcount": {
      need(2, "readcount <groupId> <seq>");
      const r = await client.invoke("GetReadCount", { groupId: args[0], seq: Number(args[1]) });
      return info(`#${args[1]}: ${r.read} read, ${r.unread} not yet`);
    }
    case "readers": {
      need(2, "readers <groupId> <seq> [unread]");
      const read = args[2] !== "unread";
      const r = await client.invoke("GetReadMembers", { groupId: args[0], seq: Number(args[1]), read });
      return info(`${r.total} ${read ? "have read" : "have not read"} #${args[1]}: ${r.userIds.join(", ")}`);
    }
    case "online": {
      need(1, "online <groupId>");
      const r = await client.invoke("GetOnlineMembers", { groupId: args[0] });
      return info(`${r.online} online: ${r.userIds.join(", ")}`);
    }
    case "sync":
      return client.serial(() => client.sync("asked"));
    case "cursors":
      return info(`system #${client.cursors.systemSeq}; ${[...client.cursors.groups].map(([id, seq]) => `${id} #${seq}`).join(", ") || "no groups"}`);
    case "help":
      return print(HELP);
    case "exit":
      return shutdown();
    default:
      throw new Error(`unknown command '${name}' (try help)`);
  }
}

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  rl?.close();
  // stop() saves the cursors; bounded, so a dead network cannot hold the exit.
  await Promise.race([client.stop(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  process.exit(0);
}

process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

// Connect (and catch up) first; stdin is read only then, one command at a time.
await client.connect({ retry: true });
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
