// Realtime web sample: plain DOM over the shared client module. The module (../js, served at /js/)
// keeps the cursors, syncs on every (re)connect and fills gaps, so everything below only draws
// what it is told, once and in order. `signalR` is the global of the official client's browser build.
import { RealtimeClient, tokenClaims, webStorageStore } from "./js/realtime-client.mjs";

/* global signalR */
const $ = (id) => document.getElementById(id);
/** An element with properties and children. */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
const newId = () => crypto.randomUUID();
const show = (value) => (value === undefined ? "" : JSON.stringify(value));

/** Everything the page knows; the DOM is drawn from it. */
const state = {
  client: null,
  me: null,
  groups: new Map(), // groupId -> GetJoinedGroups item (its `unread` kept live)
  // groupId -> seqs of others' messages pushed while the group was not open: a GetJoinedGroups
  // answer counts those up to its lastSeq, these count the ones after (pushed while it was on its way).
  unseen: new Map(),
  groupsGeneration: 0, // the latest refreshGroups started, and its promise
  groupsLatest: null,
  selected: null, // groupId whose messages, profile and members are shown
  profile: null, // GroupInfo of the selected group
};

// ------------------------------------------------------------------------------ status and log

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function log(text, cls = "") {
  const box = $("log");
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.append(el("div", { className: `line ${cls}`, textContent: `${new Date().toLocaleTimeString()} ${text}` }));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function logPush(kind, item, source) {
  const tag = source === "sync" ? " (sync)" : "";
  if (kind === "SystemMessage") return log(`[system #${item.seq}${tag}] ${item.type} ${item.groupId ?? ""} by ${item.actor ?? "-"} ${show(item.data)}`, "system");
  if (item.type === "Message") return log(`[${item.groupId} #${item.seq}${tag}] ${item.data.sender}: ${item.data.text ?? show(item.data.payload)}`, "message");
  log(`[${item.groupId} #${item.seq}${tag}] ${item.type} by ${item.actor ?? "-"} ${show(item.data)}`, "event");
}

/** Runs a UI action; a server error reads "[Code] message" and is shown as it is. */
async function action(work) {
  try {
    await work();
  } catch (error) {
    status(error.message, true);
    log(error.message, "error");
  }
}

// ------------------------------------------------------------------------------ sign-in

const saved = (key, fallback) => localStorage.getItem(`realtime:${key}`) ?? fallback;
$("url").value = saved("url", location.protocol.startsWith("http") ? location.origin : "http://127.0.0.1:5080");
$("device").value = saved("device", `web-${Math.random().toString(36).slice(2, 8)}`);
// ?protocol=messagepack picks the binary hub protocol without opening the details.
$("protocol").value = new URLSearchParams(location.search).get("protocol") ?? saved("protocol", "json");
$("user").value = saved("user", "");

/** A token: the one pasted, or one the Development server issues for the user name. */
async function obtainToken(url, user) {
  const pasted = $("token").value.trim();
  if (pasted) return pasted;
  const response = await fetch(`${url}/dev/sign-in`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId: user }) });
  const body = await response.json().catch(() => ({}));
  if (response.status === 404) throw new Error("this server has no dev sign-in (it runs only in Development): paste a token instead");
  if (!response.ok) throw new Error(`[${body.error ?? response.status}] ${body.error_description ?? "sign-in failed"}`);
  return body.token;
}

$("signin-form").onsubmit = (event) => {
  event.preventDefault();
  action(async () => {
    const url = $("url").value.trim().replace(/\/+$/, "");
    const device = $("device").value.trim();
    const protocol = $("protocol").value;
    const token = await obtainToken(url, $("user").value.trim());
    const me = tokenClaims(token).sub;
    for (const [key, value] of Object.entries({ url, device, protocol, user: me })) localStorage.setItem(`realtime:${key}`, value);
    const client = new RealtimeClient({
      signalR,
      url,
      token,
      device,
      protocol,
      messagePack: signalR.protocols?.msgpack?.MessagePackHubProtocol,
      // Not keyed by URL: every node serves the same streams, so the cursors survive a move to another node.
      store: webStorageStore(localStorage, `realtime:cursors:${tokenClaims(token).iss}:${me}:${device}`),
    });
    wire(client);
    // Before connect: the catch-up Sync of connect() already draws through state.
    Object.assign(state, { client, me });
    $("sign-in").disabled = true;
    try {
      await client.connect();
    } catch (error) {
      $("sign-in").disabled = false;
      state.client = null;
      throw error;
    }
    $("whoami").textContent = me;
    $("signin").hidden = true;
    for (const id of ["app", "sign-out", "sync"]) $(id).hidden = false;
    await Promise.all([refreshGroups(), refreshPending()]);
    status(`signed in as ${me} (${protocol})`);
    document.body.dataset.signedIn = me;
    // Opened from an invite link (?join=<code>): join once connected, then drop the code from the address.
    const code = new URLSearchParams(location.search).get("join");
    if (code) {
      history.replaceState(null, "", location.pathname);
      await joinByLink(code);
    }
  });
};

$("sign-out").onclick = () =>
  action(async () => {
    await state.client?.stop();
    location.reload();
  });

$("sync").onclick = () => action(() => state.client.serial(() => state.client.sync("asked")));

/** The client's events drive the page. */
function wire(client) {
  client.on("push", ({ kind, item, source }) => {
    logPush(kind, item, source);
    if (kind === "GroupEvent") onGroupEvent(item);
    else onSystemMessage(item);
  });
  client.on("state", (s) => {
    $("conn").textContent = s;
    $("conn").className = `conn ${s}`;
    if (s === "reconnecting") status("connection lost; reconnecting (what happens meanwhile comes through Sync)");
    if (s === "reconnected") {
      status("back online");
      action(() => Promise.all([refreshGroups(), refreshPending(), markRead()]));
    }
  });
  client.on("groups", refreshGroupsSoon);
  client.on("removed", ({ groupId }) => {
    log(`no longer a member of ${groupId}`, "info");
    if (state.selected === groupId) select(null);
  });
  client.on("tooOld", ({ groupId }) => {
    log(groupId ? `${groupId}: older events are gone; reloading the group` : "some system messages were trimmed", "info");
    if (groupId && groupId === state.selected) action(() => select(groupId));
  });
  client.on("synced", ({ reason }) => log(`synced (${reason})`, "info"));
  client.on("info", (text) => log(text, "info"));
  client.on("error", (error) => log(`error: ${error.message}`, "error"));
}

// ------------------------------------------------------------------------------ pushes

const MEMBER_EVENTS = new Set(["MembersJoined", "MemberQuit", "MembersKicked", "MemberChanged", "OwnerChanged"]);
const PENDING_MESSAGES = new Set(["InvitationReceived", "InvitationHandled", "JoinRequestReceived", "JoinRequestHandled", "JoinedGroup", "GroupDissolved"]);

function onGroupEvent(e) {
  const group = state.groups.get(e.groupId);
  if (group) group.lastSeq = e.seq;
  if (e.type === "Message") {
    if (e.groupId === state.selected) {
      insertMessage(e);
      markReadSoon();
    } else if (e.data.sender !== state.me) {
      if (!state.unseen.has(e.groupId)) state.unseen.set(e.groupId, new Set());
      state.unseen.get(e.groupId).add(e.seq);
      if (group) group.unread = (group.unread ?? 0) + 1;
      renderGroups();
    }
    return;
  }
  if (e.type === "ProfileChanged" && group && "name" in e.data.changes) {
    group.name = e.data.changes.name;
    renderGroups();
  }
  if (e.groupId !== state.selected) return;
  insertNotice(e);
  if (e.type === "ProfileChanged") action(loadProfile);
  if (MEMBER_EVENTS.has(e.type)) action(loadMembers);
}

function onSystemMessage(m) {
  if (PENDING_MESSAGES.has(m.type)) refreshPendingSoon();
  // Another terminal of mine read the group: its badge clears here too.
  if (m.type === "ReadCursorMoved") refreshGroupsSoon();
}

/** What a group event means, in a line. */
function describe(e) {
  const d = e.data ?? {};
  switch (e.type) {
    case "MembersJoined": return `${d.userIds.join(", ")} joined${d.inviter && d.inviter !== d.userIds[0] ? ` (invited by ${d.inviter})` : ""}`;
    case "MemberQuit": return `${d.userId} left`;
    case "MembersKicked": return `${d.userIds.join(", ")} removed${d.reason ? `: ${d.reason}` : ""}`;
    case "ProfileChanged": return `${e.actor ?? "the app"} changed ${Object.entries(d.changes).map(([k, v]) => `${k} to ${show(v)}`).join(", ")}`;
    case "MemberChanged": return `${d.userId}: ${show(d.changes)}`;
    case "OwnerChanged": return `${d.newOwner} is the owner now`;
    case "GroupDissolved": return "the group was dissolved";
    default: return `${e.type} ${show(d)}`;
  }
}

// ------------------------------------------------------------------------------ groups

/**
 * Runs a background refresh a moment later, once for a burst of pushes. Skipped while the
 * connection is down, and its failure is not shown when the connection dropped under it:
 * "reconnected" refreshes everything anyway.
 */
function debounced(work, ms = 150) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!state.client?.connected) return;
      try {
        await work();
      } catch (error) {
        if (state.client?.connected) action(() => Promise.reject(error));
      }
    }, ms);
  };
}

const refreshGroupsSoon = debounced(() => refreshGroups());

function refreshGroups() {
  // Refreshes may overlap and their answers come back in any order (the server runs a terminal's
  // calls side by side): only the latest one started may replace the list, or an older answer
  // would put back a count from before a message already counted. An overtaken call waits for it.
  const generation = ++state.groupsGeneration;
  state.groupsLatest = (async () => {
    const groups = await state.client.joinedGroups();
    if (generation !== state.groupsGeneration) return state.groupsLatest;
    for (const g of groups) {
      const later = [...(state.unseen.get(g.groupId) ?? [])].filter((seq) => seq > g.lastSeq);
      g.unread = (g.unread ?? 0) + later.length;
      state.unseen.set(g.groupId, new Set(later));
    }
    state.groups = new Map(groups.map((g) => [g.groupId, g]));
    // The open group is read as it arrives.
    if (state.groups.has(state.selected)) state.groups.get(state.selected).unread = 0;
    else if (state.selected) select(null);
    renderGroups();
  })();
  return state.groupsLatest;
}

function renderGroups() {
  $("groups").replaceChildren(
    ...[...state.groups.values()].map((g) => {
      const li = el("li", { title: `${g.groupId} · ${g.type} · ${g.role}`, className: g.groupId === state.selected ? "selected" : "" },
        el("span", { className: "name", textContent: g.name }),
        el("span", { className: "badge", textContent: g.unread ? String(g.unread) : "" }));
      li.dataset.groupId = g.groupId;
      li.onclick = () => action(() => select(g.groupId));
      return li;
    }),
  );
}

/** Opens a group: its latest messages, profile and members; the composer sends here. */
async function select(groupId) {
  state.selected = groupId;
  state.client.older?.delete(groupId);
  $("messages").replaceChildren($("load-earlier"));
  for (const id of ["text", "send"]) $(id).disabled = !groupId;
  $("group-panel").hidden = !groupId;
  const group = state.groups.get(groupId);
  $("group-title").textContent = group ? group.name : "Pick or create a group";
  if (group) group.unread = 0;
  state.unseen.delete(groupId);
  renderGroups();
  if (!groupId) return;
  await Promise.all([loadEarlier(), loadProfile(), loadMembers(), markRead()]);
  $("messages").scrollTop = $("messages").scrollHeight;
}

const markReadSoon = debounced(() => markRead(), 300);

function markRead() {
  // MarkRead never goes past the group's last seq: the largest seq there is means "all".
  if (state.selected) return state.client.invoke("MarkRead", { groupId: state.selected, seq: Number.MAX_SAFE_INTEGER });
}

// ------------------------------------------------------------------------------ messages

/** Message and notice lines sit in seq order, whether they came from history, a push or a Sync. */
function insertLine(seq, line) {
  const box = $("messages");
  if (box.querySelector(`[data-seq="${seq}"]`)) return;
  line.dataset.seq = seq;
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  const later = [...box.querySelectorAll("[data-seq]")].find((n) => Number(n.dataset.seq) > seq);
  box.insertBefore(line, later ?? null);
  if (atBottom && !later) box.scrollTop = box.scrollHeight;
}

function insertMessage(e) {
  const mine = e.data.sender === state.me;
  insertLine(e.seq, el("div", { className: `msg${mine ? " mine" : ""}`, title: `#${e.seq} ${new Date(e.at).toLocaleString()}` },
    el("span", { className: "sender", textContent: `${e.data.sender}:` }),
    el("span", { className: "text", textContent: e.data.text ?? show(e.data.payload) })));
}

function insertNotice(e) {
  insertLine(e.seq, el("div", { className: "notice", textContent: describe(e) }));
}

/** History (GetMessages), a page further back each time. */
async function loadEarlier() {
  const groupId = state.selected;
  const items = await state.client.olderMessages(groupId);
  if (groupId !== state.selected) return;
  for (const e of items) insertMessage({ ...e, groupId });
  $("load-earlier").disabled = state.client.older.get(groupId)?.hasMore === false;
}

$("load-earlier").onclick = () => action(loadEarlier);

$("composer").onsubmit = (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  const groupId = state.selected;
  if (!text || !groupId) return;
  action(async () => {
    await state.client.invoke("SendMessage", { groupId, text, clientMsgId: newId() });
    $("text").value = "";
  });
};

// ------------------------------------------------------------------------------ profile and members

const PROFILE_FIELDS = {
  name: "profile-name",
  introduction: "profile-introduction",
  notification: "profile-notification",
  faceUrl: "profile-face-url",
  applyJoinOption: "profile-apply",
  inviteOption: "profile-invite-option",
};

async function loadProfile() {
  const groupId = state.selected;
  const { groups, failed } = await state.client.invoke("GetGroups", [groupId]);
  if (groupId !== state.selected) return;
  if (!groups[0]) throw new Error(`[${failed[0]?.code}] ${groupId}`);
  const g = (state.profile = groups[0]);
  for (const [field, id] of Object.entries(PROFILE_FIELDS)) $(id).value = g[field] ?? "";
  $("profile-mute-all").checked = g.muteAll;
  $("profile-invite-confirm").checked = g.inviteNeedsConfirm;
  $("profile-avatar").hidden = !g.faceUrl;
  if (g.faceUrl) $("profile-avatar").src = g.faceUrl;
  $("profile-meta").textContent = `${g.groupId} · ${g.type} · owner ${g.owner} · version ${g.version}`;
  $("group-title").textContent = g.name;
}

/** Sends only what changed, conditional on the version shown (VersionConflict when someone was faster). */
$("profile").onsubmit = (event) => {
  event.preventDefault();
  action(async () => {
    const g = state.profile;
    const request = { groupId: g.groupId, expectedVersion: g.version, requestId: newId() };
    for (const [field, id] of Object.entries(PROFILE_FIELDS)) if ($(id).value !== (g[field] ?? "")) request[field] = $(id).value;
    if ($("profile-mute-all").checked !== g.muteAll) request.muteAll = $("profile-mute-all").checked;
    if ($("profile-invite-confirm").checked !== g.inviteNeedsConfirm) request.inviteNeedsConfirm = $("profile-invite-confirm").checked;
    if (Object.keys(request).length === 3) return status("nothing changed");
    await state.client.invoke("UpdateGroupProfile", request);
    status("profile saved");
  });
};

async function loadMembers() {
  const groupId = state.selected;
  const { total, members } = await state.client.invoke("GetMembers", { groupId, limit: 200 });
  if (groupId !== state.selected) return;
  $("member-count").textContent = `(${total})`;
  $("members").replaceChildren(
    ...members.map((m) => {
      const li = el("li", {}, el("span", { textContent: m.nameCard ? `${m.nameCard} (${m.userId})` : m.userId }), " ", el("span", { className: "role", textContent: m.role }));
      li.dataset.userId = m.userId;
      return li;
    }),
  );
}

const userList = (text) => text.split(/[\s,]+/).filter(Boolean);

$("invite-form").onsubmit = (event) => {
  event.preventDefault();
  action(async () => {
    const userIds = userList($("invite-users").value);
    if (userIds.length === 0) return;
    const results = await state.client.invoke("InviteMembers", { groupId: state.selected, userIds, requestId: newId() });
    status(results.map((r) => `${r.userId}: ${r.result}${r.code ? ` (${r.code})` : ""}`).join(", "));
    $("invite-users").value = "";
    await refreshPending();
  });
};

$("leave").onclick = () =>
  action(async () => {
    await state.client.invoke("QuitGroup", state.selected);
    status(`left ${state.selected}`);
  });

$("invite-link").onclick = () =>
  action(async () => {
    const link = await state.client.createInviteLink(state.selected, location.href);
    $("invite-url").value = link.url;
    status(`invite link for ${state.selected}: ${link.url} (expires ${link.expiresAt})`);
  });

// ------------------------------------------------------------------------------ new groups, joining, pending items

$("create-form").onsubmit = (event) => {
  event.preventDefault();
  action(async () => {
    const name = $("new-group-name").value.trim();
    const members = userList($("new-group-members").value);
    const inviteNeedsConfirm = $("new-group-confirm").checked;
    const g = await state.client.invoke("CreateGroup", { type: $("new-group-type").value, name, members, inviteNeedsConfirm, requestId: newId() });
    $("new-group-name").value = $("new-group-members").value = "";
    status(`created "${g.name}" (${g.groupId})`);
    await refreshGroups();
    await select(g.groupId);
  });
};

$("join").onclick = () =>
  action(async () => {
    const groupId = $("join-id").value.trim();
    const r = await state.client.invoke("ApplyToJoin", { groupId, requestId: newId() });
    status(r.result === "Pending" ? `join request ${r.pendingId} waits for approval` : `joined ${groupId}`);
    await refreshPending();
  });

async function joinByLink(code) {
  const r = await state.client.joinByLink(code);
  status(r.result === "Pending" ? `join request ${r.pendingId} to ${r.groupId} waits for approval` : `joined ${r.groupId} by invite link`);
  await refreshGroups();
}

$("join-link").onclick = () =>
  action(async () => {
    const code = $("link-code").value.trim();
    if (code) await joinByLink(code);
  });

const refreshPendingSoon = debounced(() => refreshPending());

/** Open invitations and join requests, to me (with buttons) and from me. */
async function refreshPending() {
  const items = (await state.client.invoke("GetPendingItems", {})).filter((p) => p.status === "Pending");
  const groupName = (id) => state.groups.get(id)?.name ?? id;
  $("pending").replaceChildren(
    ...items.map((p) => {
      const toMe = p.type === "Invitation" ? p.toUser === state.me : p.fromUser !== state.me;
      const text =
        p.type === "Invitation"
          ? toMe ? `${p.fromUser} invites you to ${groupName(p.groupId)}` : `you invited ${p.toUser} to ${groupName(p.groupId)}`
          : toMe ? `${p.fromUser} asks to join ${groupName(p.groupId)}` : `you asked to join ${groupName(p.groupId)}`;
      const li = el("li", {}, el("div", { textContent: text + (p.message ? `: “${p.message}”` : "") }));
      li.dataset.pendingId = p.pendingId;
      if (toMe) {
        for (const [label, approve] of [[p.type === "Invitation" ? "Accept" : "Approve", true], [p.type === "Invitation" ? "Decline" : "Reject", false]]) {
          const button = el("button", { className: approve ? "approve" : "reject", textContent: label });
          button.onclick = () => action(() => handlePending(p.pendingId, approve));
          li.append(button);
        }
      }
      return li;
    }),
  );
}

async function handlePending(pendingId, approve) {
  const item = await state.client.invoke("HandlePendingItem", { pendingId, approve });
  status(`${item.type} ${item.status.toLowerCase()}`);
  await Promise.all([refreshPending(), refreshGroups()]);
}

// ------------------------------------------------------------------------------ group state, web push

const stateCalls = {
  attrs: (groupId) => ["GetGroupAttributes", { groupId }],
  setattr: (groupId, key, value) => ["SetGroupAttributes", { groupId, set: { [key]: value }, requestId: newId() }],
  delattr: (groupId, key) => ["SetGroupAttributes", { groupId, remove: [key], requestId: newId() }],
  counters: (groupId) => ["GetGroupCounters", { groupId }],
  incr: (groupId, key, value) => ["ChangeGroupCounters", { groupId, increment: { [key]: Number(value || 1) }, requestId: newId() }],
  setcounter: (groupId, key, value) => ["ChangeGroupCounters", { groupId, set: { [key]: Number(value) }, requestId: newId() }],
  readcount: (groupId, _key, value) => ["GetReadCount", { groupId, seq: Number(value) }],
  readers: (groupId, _key, value) => ["GetReadMembers", { groupId, seq: Number(value), read: true }],
  online: (groupId) => ["GetOnlineMembers", { groupId }],
};

$("state-run").onclick = () =>
  action(async () => {
    const [method, request] = stateCalls[$("state-op").value](state.selected, $("state-key").value.trim(), $("state-value").value.trim());
    const result = await state.client.invoke(method, request);
    status(`${method}: ${JSON.stringify(result)}`);
  });

/** The service worker (sw.js) shows the notifications; http://127.0.0.1 and https pages may register one. */
async function pushRegistration() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
  await navigator.serviceWorker.register("sw.js");
  return navigator.serviceWorker.ready;
}

$("push-on").onclick = () =>
  action(async () => {
    if ((await Notification.requestPermission()) !== "granted") throw new Error("notifications are not allowed for this page");
    const r = await state.client.enableWebPush(await pushRegistration());
    status(`web push on (${r.subscriptions} subscription${r.subscriptions === 1 ? "" : "s"} for this user): close the tab and get a message`);
  });

$("push-off").onclick = () =>
  action(async () => {
    const r = await state.client.disableWebPush(await pushRegistration());
    status(r ? "web push off for this browser" : "this browser had no web push subscription");
  });
