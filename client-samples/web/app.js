// Realtime web sample: the browser build of @microsoft/signalr (global `signalR`), no framework.
//
// RealtimeWebClient is the part worth copying: it connects (WebSockets, no negotiation, token
// in the query string as browsers must), keeps the last seq seen per stream (the user's system
// stream and each joined group) in localStorage, and calls Sync after every (re)connect and on
// any gap, so the page shows every event exactly once, in order. The UI below it is plain DOM.
"use strict";
/* global signalR */

class RealtimeWebClient {
  /**
   * url: a node's base URL; token: a JWT for the app; device: this terminal's id.
   * onPush(kind, item, source): a SystemMessage or GroupEvent applied in order ("live" | "sync").
   * onInfo(text): status lines. onGroupsChanged(): joined groups may have changed.
   */
  constructor({ url, token, device, storage = globalThis.localStorage, onPush = () => {}, onInfo = () => {}, onGroupsChanged = () => {} }) {
    this.url = url.replace(/\/+$/, "");
    this.token = token;
    this.device = device;
    this.storage = storage;
    this.onPush = onPush;
    this.onInfo = onInfo;
    this.onGroupsChanged = onGroupsChanged;
    const claims = RealtimeWebClient.claims(token);
    // Not keyed by URL: every node of a deployment serves the same streams, so the cursors
    // survive a reconnect through another node (or another load-balancer address).
    this.storageKey = `realtime:cursors:${claims.iss}:${claims.sub}:${device}`;
    this.user = claims.sub;
    this.cursors = this.load();
    this.unknownGroups = new Set();
    this.chain = Promise.resolve();
    this.syncWanted = false;
    this.connection = null;
  }

  /** The token's claims (unverified: only to name the storage key and show who we are). */
  static claims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    } catch {
      throw new Error("the token is not a JWT");
    }
  }

  load() {
    const saved = this.storage?.getItem(this.storageKey);
    // groups: groupId -> last seq seen; epochs: groupId -> the epoch of the group those seqs
    // belong to (an id dissolved and created again is a new group, with its own seqs).
    if (!saved) return { fresh: true, systemSeq: 0, groups: new Map(), epochs: new Map() };
    const parsed = JSON.parse(saved);
    return {
      fresh: false,
      systemSeq: parsed.systemSeq ?? 0,
      groups: new Map(Object.entries(parsed.groups ?? {})),
      epochs: new Map(Object.entries(parsed.epochs ?? {})),
    };
  }

  save() {
    const { systemSeq, groups, epochs } = this.cursors;
    this.storage?.setItem(this.storageKey, JSON.stringify({ systemSeq, groups: Object.fromEntries(groups), epochs: Object.fromEntries(epochs) }));
  }

  /** Sets a group's cursor; with an epoch, the group (incarnation of the id) it belongs to. */
  setCursor(groupId, seq, epoch) {
    this.cursors.groups.set(groupId, seq);
    if (epoch) this.cursors.epochs.set(groupId, epoch);
  }

  dropCursor(groupId) {
    this.cursors.groups.delete(groupId);
    this.cursors.epochs.delete(groupId);
  }

  /** What Sync is sent for a group: { since, epoch } once the epoch is known, else the plain seq. */
  syncCursor(groupId) {
    const since = this.cursors.groups.get(groupId);
    const epoch = this.cursors.epochs.get(groupId);
    return epoch ? { since, epoch } : since;
  }

  /** Forgets the saved cursors of this user and device (the next connect starts from now). */
  reset() {
    this.storage?.removeItem(this.storageKey);
    this.cursors = this.load();
  }

  async connect() {
    this.connection = new signalR.HubConnectionBuilder()
      .withUrl(`${this.url}/hubs/groups?device=${encodeURIComponent(this.device)}`, {
        // Browsers cannot set headers on a WebSocket: the client sends ?access_token=.
        accessTokenFactory: () => this.token,
        skipNegotiation: true,
        transport: signalR.HttpTransportType.WebSockets,
      })
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ({ previousRetryCount }) => [0, 1000, 2000, 5000][previousRetryCount] ?? 10000 })
      .configureLogging(signalR.LogLevel.Warning)
      .build();
    const c = this.connection;
    c.on("SystemMessage", (m) => this.serial(() => this.applySystem(m, "live")));
    c.on("GroupEvent", (e) => this.serial(() => this.applyEvent(e, "live")));
    c.onreconnecting((error) => this.onInfo(`connection lost (${error?.message ?? "closed"}); reconnecting…`));
    c.onreconnected(() => {
      this.onInfo("reconnected; syncing");
      this.serial(() => this.sync("reconnected"));
    });
    c.onclose((error) => this.onInfo(`disconnected${error ? ` (${error.message})` : ""}`));
    await c.start();
    this.onInfo(`connected to ${this.url} as ${this.user} (device ${this.device})`);
    await this.serial(async () => {
      await this.baseline();
      await this.sync("connected");
    });
  }

  async disconnect() {
    await this.connection?.stop();
    this.save();
  }

  invoke(method, ...args) {
    if (!this.connection) throw new Error("not connected");
    return this.connection.invoke(method, ...args);
  }

  /** Pushes and syncs run one at a time, in arrival order; resolves when work is done. */
  serial(work) {
    const next = this.chain.then(work).catch((error) => this.onInfo(`error: ${error.message}`));
    this.chain = next;
    return next;
  }

  /** What RegisterPushSubscription takes, from a PushSubscription's toJSON() (its expirationTime is not sent). */
  static pushSubscriptionArgument(json) {
    return { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } };
  }

  /**
   * Web Push (SPEC §7): subscribes this browser through a service worker registration with the app's VAPID
   * key and registers the subscription, so that pushes arrive while no tab of the page is open.
   */
  async enableWebPush(registration) {
    const { publicKey } = await this.invoke("GetWebPushKey");
    if (!publicKey) throw new Error("web push is not configured on the server for this app");
    const subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey }));
    return this.invoke("RegisterPushSubscription", RealtimeWebClient.pushSubscriptionArgument(subscription.toJSON()));
  }

  /** Unregisters this browser's subscription from the server, then unsubscribes it; null when there is none. */
  async disableWebPush(registration) {
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) return null;
    const result = await this.invoke("UnregisterPushSubscription", { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
    return result;
  }

  wantSync() {
    if (this.syncWanted) return;
    this.syncWanted = true;
    this.serial(() => (this.syncWanted ? this.sync("gap") : undefined));
  }

  applySystem(m, source) {
    const c = this.cursors;
    if (m.seq <= c.systemSeq) return;
    if (m.seq > c.systemSeq + 1) return this.wantSync();
    c.systemSeq = m.seq;
    this.onPush("SystemMessage", m, source);
    if ((m.type === "JoinedGroup" || m.type === "GroupCreated") && m.groupId) {
      // The group's stream starts after joinSeq.
      const joinSeq = m.data?.joinSeq ?? 0;
      const epoch = m.data?.epoch;
      const known = c.epochs.get(m.groupId);
      // Another epoch: the id was dissolved and created again, a new group whose seqs start over.
      if ((epoch && known && known !== epoch) || !(c.groups.get(m.groupId) >= joinSeq)) this.setCursor(m.groupId, joinSeq, epoch);
      this.unknownGroups.delete(m.groupId);
      this.wantSync();
      this.onGroupsChanged();
    }
    if (["Kicked", "QuitGroup", "GroupDissolved"].includes(m.type) && c.groups.has(m.groupId)) {
      // Sync answers the group's events up to the removal, then removed: true.
      this.wantSync();
    }
    this.save();
  }

  applyEvent(e, source) {
    const last = this.cursors.groups.get(e.groupId);
    if (last === undefined) {
      // Its JoinedGroup (same transaction, other channel) has not arrived yet: Sync finds it.
      this.unknownGroups.add(e.groupId);
      return this.wantSync();
    }
    if (e.seq <= last) return;
    // Sync may skip seqs legitimately (between two memberships); live pushes may not.
    if (e.seq > last + 1 && source === "live") return this.wantSync();
    this.cursors.groups.set(e.groupId, e.seq);
    this.onPush("GroupEvent", e, source);
    if (e.type === "GroupDissolved") {
      this.dropCursor(e.groupId);
      this.onGroupsChanged();
    } else if (e.type !== "Message") {
      this.onGroupsChanged();
    }
    this.save();
  }

  /** Sync until every stream is caught up. */
  async sync(reason) {
    this.syncWanted = false;
    const c = this.cursors;
    for (;;) {
      const asked = Object.fromEntries([...c.groups.keys()].map((id) => [id, this.syncCursor(id)]));
      const r = await this.invoke("Sync", { systemSince: c.systemSeq, groups: asked, limit: 200 });
      if (r.system.tooOld) this.onInfo("some system messages were trimmed by retention");
      for (const m of r.system.items) this.applySystem(m, "sync");
      let more = r.system.hasMore;
      for (const [groupId, g] of Object.entries(r.groups)) {
        const askedEpoch = asked[groupId]?.epoch;
        if (g.tooOld && askedEpoch && g.epoch && g.epoch !== askedEpoch) {
          // Our cursor belongs to an earlier group of this id (dissolved, then created again):
          // reload the new group's state and read its log from where our part of it starts.
          this.onInfo(`${groupId} is a new group: reloading it from #${g.next}`);
          if (c.epochs.get(groupId) === askedEpoch) this.setCursor(groupId, g.next, g.epoch);
          this.onGroupsChanged();
          more = true;
          continue;
        }
        if (g.tooOld) {
          const { groups } = await this.invoke("GetGroups", [groupId]);
          this.onInfo(`${groupId}: events were trimmed; jumping to the group's current state`);
          // Not a member of the group now under this id (GetGroups fails it): nothing more to read.
          if (groups[0]) this.setCursor(groupId, groups[0].lastSeq, g.epoch);
          else this.dropCursor(groupId);
          more = true;
          continue;
        }
        if (g.epoch && c.groups.has(groupId) && !c.epochs.has(groupId)) c.epochs.set(groupId, g.epoch);
        for (const e of g.items) this.applyEvent({ ...e, groupId }, "sync");
        if (g.removed && !g.hasMore && c.groups.has(groupId)) {
          this.dropCursor(groupId);
          this.onInfo(`no longer a member of ${groupId}`);
          this.onGroupsChanged();
        }
        more ||= g.hasMore;
      }
      if (!r.system.hasMore) {
        for (const id of this.unknownGroups) if (!c.groups.has(id)) c.groups.set(id, 0);
        this.unknownGroups.clear();
      }
      more ||= [...c.groups.keys()].some((id) => !(id in asked));
      this.save();
      if (!more) break;
    }
    this.syncWanted = false;
    this.onInfo(`synced (${reason}): system #${c.systemSeq}, ${c.groups.size} group(s)`);
  }

  /** First connect of this user and device: start from now rather than from the beginning. */
  async baseline() {
    if (!this.cursors.fresh) return;
    for (;;) {
      const r = await this.invoke("Sync", { systemSince: this.cursors.systemSeq, groups: {}, limit: 1000 });
      this.cursors.systemSeq = r.system.next;
      if (!r.system.hasMore) break;
    }
    for (const g of await this.joinedGroups()) this.setCursor(g.groupId, g.lastSeq, g.epoch);
    this.cursors.fresh = false;
    this.save();
  }

  /**
   * One page of a group's message history (SPEC §9 GetMessages), newest first: `before` is the
   * oldest seq the page holds so far (absent: the newest). Resolves to { items, hasMore }.
   */
  history(groupId, before, limit = 50) {
    return this.invoke("GetMessages", before === undefined ? { groupId, limit } : { groupId, before, limit });
  }

  /** Scrolls back: the next older page of a group, kept in this.older[groupId] = { oldest, hasMore }. */
  async olderMessages(groupId, limit = 50) {
    const state = (this.older ??= new Map()).get(groupId);
    if (state && !state.hasMore) return [];
    const page = await this.history(groupId, state?.oldest, limit);
    this.older.set(groupId, { oldest: page.items.at(-1)?.seq ?? state?.oldest, hasMore: page.hasMore });
    return page.items;
  }

  /** An invite link to share: { code, … } from CreateInviteLink, and `url`, this page with ?join=<code>. */
  async createInviteLink(groupId, pageUrl, settings = {}) {
    const link = await this.invoke("CreateInviteLink", { groupId, ...settings });
    const url = new URL(pageUrl);
    url.search = "";
    url.searchParams.set("join", link.code);
    return { ...link, url: url.toString() };
  }

  /** Joins by an invite link's code: { result: "Joined" | "Pending", groupId, pendingId? }. */
  joinByLink(code) {
    return this.invoke("JoinByInviteLink", { code, requestId: `join-${code}` });
  }

  async joinedGroups() {
    const all = [];
    for (let offset = 0; ; ) {
      const page = await this.invoke("GetJoinedGroups", { offset, limit: 1000 });
      all.push(...page.groups);
      offset += page.groups.length;
      if (page.groups.length === 0 || offset >= page.total) return all;
    }
  }
}

globalThis.RealtimeWebClient = RealtimeWebClient;

// ------------------------------------------------------------------------------------- UI

if (typeof document !== "undefined") {
  const $ = (id) => document.getElementById(id);
  const fields = { url: $("url"), token: $("token"), device: $("device") };
  let client = null;

  // Remember the form (not the token) between visits.
  fields.url.value = localStorage.getItem("realtime:url") ?? `${location.protocol === "https:" ? "https" : "http"}://127.0.0.1:5080`;
  fields.device.value = localStorage.getItem("realtime:device") ?? `web-${Math.random().toString(36).slice(2, 8)}`;

  function log(text, cls = "") {
    const line = document.createElement("div");
    line.className = `line ${cls}`;
    line.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    const box = $("log");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    box.append(line);
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  const show = (value) => (value === undefined ? "" : JSON.stringify(value));
  function describe(kind, item, source) {
    const tag = source === "sync" ? " (sync)" : "";
    if (kind === "SystemMessage") return [`[system #${item.seq}${tag}] ${item.type} ${item.groupId ?? ""} by ${item.actor ?? "-"} ${show(item.data)}`, "system"];
    if (item.type === "Message") return [`[${item.groupId} #${item.seq}${tag}] ${item.data.sender}: ${item.data.text ?? show(item.data.payload)}`, "message"];
    return [`[${item.groupId} #${item.seq}${tag}] ${item.type} by ${item.actor ?? "-"} ${show(item.data)}`, "event"];
  }

  let refreshTimer;
  function refreshGroupsSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshGroups, 200);
  }

  async function refreshGroups() {
    if (!client) return;
    const list = $("groups");
    const select = $("send-group");
    const chosen = select.value;
    try {
      const groups = await client.joinedGroups();
      list.replaceChildren(
        ...groups.map((g) => {
          const li = document.createElement("li");
          li.textContent = `${g.name} — ${g.groupId} (${g.type}, ${g.role}, ${g.memberCount} members, last #${g.lastSeq}, ${g.unread ?? 0} unread)`;
          li.onclick = () => (select.value = g.groupId);
          return li;
        }),
      );
      select.replaceChildren(
        ...groups.map((g) => {
          const option = document.createElement("option");
          option.value = g.groupId;
          option.textContent = `${g.name} (${g.groupId})`;
          return option;
        }),
      );
      if (groups.some((g) => g.groupId === chosen)) select.value = chosen;
    } catch (error) {
      log(`groups: ${error.message}`, "error");
    }
  }

  function setConnected(connected) {
    $("connect").disabled = connected;
    $("disconnect").disabled = !connected;
    for (const id of ["send", "create", "join", "refresh", "sync", "history-load", "history-more", "invite", "join-link", "push-on", "push-off"]) $(id).disabled = !connected;
  }

  /** Runs a UI action; server errors read "[Code] message". */
  async function action(work) {
    try {
      await work();
    } catch (error) {
      log(error.message, "error");
    }
  }

  $("connect").onclick = () =>
    action(async () => {
      localStorage.setItem("realtime:url", fields.url.value.trim());
      localStorage.setItem("realtime:device", fields.device.value.trim());
      client = new RealtimeWebClient({
        url: fields.url.value.trim(),
        token: fields.token.value.trim(),
        device: fields.device.value.trim(),
        onPush: (kind, item, source) => log(...describe(kind, item, source)),
        onInfo: (text) => log(text, "info"),
        onGroupsChanged: refreshGroupsSoon,
      });
      $("connect").disabled = true;
      try {
        await client.connect();
      } catch (error) {
        client = null;
        $("connect").disabled = false;
        throw error;
      }
      setConnected(true);
      await refreshGroups();
      // Opened from an invite link (?join=<code>): join once connected, then drop the code from the address.
      const code = new URLSearchParams(location.search).get("join");
      if (code) {
        history.replaceState(null, "", location.pathname);
        await joinByLink(code);
      }
    });

  $("disconnect").onclick = () =>
    action(async () => {
      await client?.disconnect();
      client = null;
      setConnected(false);
    });

  $("send-form").onsubmit = (event) => {
    event.preventDefault();
    const text = $("text").value;
    const groupId = $("send-group").value;
    if (!text || !groupId) return;
    action(async () => {
      await client.invoke("SendMessage", { groupId, text, clientMsgId: crypto.randomUUID() });
      $("text").value = "";
    });
  };

  $("create").onclick = () =>
    action(async () => {
      const name = $("group-name").value.trim();
      if (!name) throw new Error("a group needs a name");
      const members = $("members").value.split(/[\s,]+/).filter(Boolean);
      const g = await client.invoke("CreateGroup", { type: $("group-type").value, name, members, requestId: crypto.randomUUID() });
      log(`created ${g.groupId} "${g.name}"`, "info");
      await refreshGroups();
    });

  $("join").onclick = () =>
    action(async () => {
      const groupId = $("join-id").value.trim();
      const r = await client.invoke("ApplyToJoin", { groupId, requestId: crypto.randomUUID() });
      log(r.result === "Pending" ? `join request ${r.pendingId} waits for approval` : `joined ${groupId}`, "info");
    });

  // Group state (SPEC §9): each choice is one hub call on the group chosen under "Send a message".
  const stateCalls = {
    attrs: (groupId) => ["GetGroupAttributes", { groupId }],
    setattr: (groupId, key, value) => ["SetGroupAttributes", { groupId, set: { [key]: value }, requestId: crypto.randomUUID() }],
    delattr: (groupId, key) => ["SetGroupAttributes", { groupId, remove: [key], requestId: crypto.randomUUID() }],
    counters: (groupId) => ["GetGroupCounters", { groupId }],
    incr: (groupId, key, value) => ["ChangeGroupCounters", { groupId, increment: { [key]: Number(value || 1) }, requestId: crypto.randomUUID() }],
    setcounter: (groupId, key, value) => ["ChangeGroupCounters", { groupId, set: { [key]: Number(value) }, requestId: crypto.randomUUID() }],
    // MarkRead never goes past the group's last seq: "all" is the largest seq there is.
    read: (groupId, _key, value) => ["MarkRead", { groupId, seq: value ? Number(value) : Number.MAX_SAFE_INTEGER }],
    readcount: (groupId, _key, value) => ["GetReadCount", { groupId, seq: Number(value) }],
    readers: (groupId, _key, value) => ["GetReadMembers", { groupId, seq: Number(value), read: true }],
    online: (groupId) => ["GetOnlineMembers", { groupId }],
  };
  $("state-run").onclick = () =>
    action(async () => {
      const groupId = $("send-group").value;
      if (!groupId) throw new Error("choose a group first");
      const [method, request] = stateCalls[$("state-op").value](groupId, $("state-key").value.trim(), $("state-value").value.trim());
      const result = await client.invoke(method, request);
      log(`${method} ${groupId}: ${JSON.stringify(result)}`, "info");
      if (method === "MarkRead") await refreshGroups();
    });

  // History: the chosen group's messages, scrolled back a page at a time.
  let historyGroup = null;
  function showHistory(items, older) {
    const box = $("history");
    const lines = items.map((e) => {
      const line = document.createElement("div");
      line.className = "line message";
      line.dataset.seq = e.seq;
      line.textContent = `#${e.seq} ${e.data.sender}: ${e.data.text ?? show(e.data.payload)}`;
      return line;
    });
    // Newest first from the server; the box reads oldest at the top.
    lines.reverse();
    if (older) box.prepend(...lines);
    else box.replaceChildren(...lines);
  }

  async function loadHistory(older) {
    const groupId = $("send-group").value;
    if (!groupId) return;
    if (!older || historyGroup !== groupId) {
      historyGroup = groupId;
      client.older?.delete(groupId);
      showHistory(await client.olderMessages(groupId), false);
    } else {
      showHistory(await client.olderMessages(groupId), true);
    }
    $("history-more").disabled = client.older.get(groupId)?.hasMore === false;
  }

  $("history-load").onclick = () => action(() => loadHistory(false));
  $("history-more").onclick = () => action(() => loadHistory(true));

  $("invite").onclick = () =>
    action(async () => {
      const groupId = $("send-group").value;
      if (!groupId) throw new Error("pick a group first");
      const link = await client.createInviteLink(groupId, location.href);
      $("invite-url").value = link.url;
      log(`invite link for ${groupId}: ${link.url} (expires ${link.expiresAt})`, "info");
    });

  async function joinByLink(code) {
    const r = await client.joinByLink(code);
    log(r.result === "Pending" ? `join request ${r.pendingId} to ${r.groupId} waits for approval` : `joined ${r.groupId} by invite link`, "info");
    await refreshGroups();
  }

  $("join-link").onclick = () =>
    action(async () => {
      const code = $("link-code").value.trim();
      if (code) await joinByLink(code);
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
      const r = await client.enableWebPush(await pushRegistration());
      log(`web push on (${r.subscriptions} subscription${r.subscriptions === 1 ? "" : "s"} for this user): close the tab and get a message`, "info");
    });

  $("push-off").onclick = () =>
    action(async () => {
      const r = await client.disableWebPush(await pushRegistration());
      log(r ? "web push off for this browser" : "this browser had no web push subscription", "info");
    });

  $("refresh").onclick = () => action(refreshGroups);
  $("sync").onclick = () => action(() => client.serial(() => client.sync("asked")));
  setConnected(false);
}
