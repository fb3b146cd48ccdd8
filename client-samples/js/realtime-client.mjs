// Realtime's client logic, once, for every JS client: the web sample (client-samples/web) and the
// Node command-line client (client-samples/node) both import this plain ES module (no bundler).
//
// What every app otherwise gets wrong by hand (SPEC §4, §5):
// - a cursor per stream (the user's system stream and each joined group), kept in a store;
// - Sync on start and after every reconnect, reconnecting forever with jittered backoff;
// - a gap (a live push above cursor + 1) detected by seq and filled by Sync; duplicates dropped;
// - `tooOld` and `removed` surfaced as events; every push delivered in order, exactly once.
//
// The caller passes the signalR library object (the browser's UMD global, or the npm package in
// Node) and, for protocol "messagepack", the MessagePackHubProtocol class of
// @microsoft/signalr-protocol-msgpack. Nothing here touches the DOM or the file system.

/** System messages after which Sync answers the group's last events and `removed: true`. */
const REMOVALS = new Set(["Kicked", "QuitGroup", "GroupDissolved"]);

/**
 * Milliseconds before reconnect attempt `attempt` (0-based): 0, 1, 2, 5 s, then every 10 s, each
 * spread by ±50 % so that the terminals of a node that went down do not all return at once.
 */
export function retryDelay(attempt, random = Math.random) {
  const base = [0, 1000, 2000, 5000][attempt] ?? 10_000;
  return Math.round(base * (0.5 + random()));
}

/** A JWT's claims, unverified: only to name the cursor store and show who we are. */
export function tokenClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    throw new Error("the token is not a JWT");
  }
}

/**
 * The last seq seen per stream, and what a new item means against it. Pure state: no I/O.
 * groups: groupId -> last seq seen; epochs: groupId -> the epoch of the group those seqs belong
 * to (an id dissolved and created again is a new group, with its own seqs).
 */
export class StreamCursors {
  constructor({ fresh = true, systemSeq = 0, groups = {}, epochs = {} } = {}) {
    this.fresh = fresh;
    this.systemSeq = systemSeq;
    this.groups = new Map(Object.entries(groups));
    this.epochs = new Map(Object.entries(epochs));
  }

  /** What a store keeps (plain JSON); `new StreamCursors({ ...saved, fresh: false })` reads it back. */
  toJSON() {
    return { systemSeq: this.systemSeq, groups: Object.fromEntries(this.groups), epochs: Object.fromEntries(this.epochs) };
  }

  /** "apply" (the next one), "duplicate" (seen) or "gap" (something before it is missing). */
  checkSystem(seq) {
    if (seq <= this.systemSeq) return "duplicate";
    return seq === this.systemSeq + 1 ? "apply" : "gap";
  }

  /**
   * As checkSystem for a group event, plus "unknown": a group whose JoinedGroup (same
   * transaction, other stream) has not arrived yet. Sync may skip seqs legitimately (the time
   * between two memberships); a live push may not.
   */
  checkEvent(groupId, seq, source) {
    const last = this.groups.get(groupId);
    if (last === undefined) return "unknown";
    if (seq <= last) return "duplicate";
    return seq === last + 1 || source === "sync" ? "apply" : "gap";
  }

  /** Sets a group's cursor; with an epoch, the group (incarnation of the id) it belongs to. */
  set(groupId, seq, epoch) {
    this.groups.set(groupId, seq);
    if (epoch) this.epochs.set(groupId, epoch);
  }

  drop(groupId) {
    this.groups.delete(groupId);
    this.epochs.delete(groupId);
  }

  /**
   * A JoinedGroup or GroupCreated: the group's stream starts after joinSeq. Another epoch means
   * the id was dissolved and created again, a new group whose seqs start over.
   */
  startGroup(groupId, joinSeq, epoch) {
    const known = this.epochs.get(groupId);
    if ((epoch && known && known !== epoch) || !(this.groups.get(groupId) >= joinSeq)) this.set(groupId, joinSeq, epoch);
  }

  /** What Sync is sent for a group: { since, epoch } once the epoch is known, else the plain seq. */
  syncCursor(groupId) {
    const since = this.groups.get(groupId);
    const epoch = this.epochs.get(groupId);
    return epoch ? { since, epoch } : since;
  }

  /** The `groups` argument of Sync: every known group's cursor. */
  syncGroups() {
    return Object.fromEntries([...this.groups.keys()].map((id) => [id, this.syncCursor(id)]));
  }
}

/** A store that keeps the cursors nowhere (each start is a first start). */
export const memoryStore = () => {
  let saved = null;
  return { load: () => saved, save: (value) => (saved = value), clear: () => (saved = null) };
};

/** A store over a Web Storage object (localStorage) under one key. */
export const webStorageStore = (storage, key) => ({
  load: () => JSON.parse(storage.getItem(key) ?? "null"),
  save: (value) => storage.setItem(key, JSON.stringify(value)),
  clear: () => storage.removeItem(key),
});

/**
 * One user's terminal. Events (subscribe with on(name, fn); it returns an unsubscribe function):
 * - "push" ({ kind: "SystemMessage" | "GroupEvent", item, source: "live" | "sync" }): in order, once;
 * - "groups" (): the joined groups may have changed (a join, a removal, a profile change);
 * - "tooOld" ({ groupId?, epoch?, newGroup }): events after a cursor were trimmed (system stream
 *   when groupId is absent) or the id is a new group: reload that state;
 * - "removed" ({ groupId }): no longer a member; the group's stream is closed;
 * - "state" ("connecting" | "connected" | "reconnecting" | "reconnected" | "disconnected");
 * - "synced" ({ reason }), "info" (text), "error" (Error from work run in order).
 */
export class RealtimeClient {
  /**
   * signalR: the @microsoft/signalr library object. url: a node or the load balancer.
   * token: a JWT or a function returning one (called on every connect: fetch a fresh one there).
   * device: this terminal's id. protocol: "json" (default) or "messagepack" (then pass
   * messagePack: the MessagePackHubProtocol class). store: where cursors live (default: memory).
   * startFrom: with no saved cursors, "now" (default) or "beginning".
   */
  constructor({ signalR, url, token, device, protocol = "json", messagePack, store = memoryStore(), startFrom = "now", logLevel }) {
    if (!signalR?.HubConnectionBuilder) throw new Error("pass the @microsoft/signalr library as signalR");
    if (protocol !== "json" && protocol !== "messagepack") throw new Error(`protocol must be "json" or "messagepack", not "${protocol}"`);
    if (protocol === "messagepack" && typeof messagePack !== "function")
      throw new Error("protocol messagepack needs messagePack: the MessagePackHubProtocol class of @microsoft/signalr-protocol-msgpack");
    this.signalR = signalR;
    this.url = url.replace(/\/+$/, "");
    this.tokenFactory = typeof token === "function" ? token : () => token;
    this.device = device;
    this.protocol = protocol;
    this.messagePack = messagePack;
    this.store = store;
    this.startFrom = startFrom;
    this.logLevel = logLevel ?? signalR.LogLevel.Warning;
    this.cursors = this.#load();
    this.unknownGroups = new Set();
    this.listeners = new Map();
    this.chain = Promise.resolve();
    this.syncWanted = false;
    this.stopping = false;
    this.connection = null;
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  emit(name, value) {
    for (const fn of this.listeners.get(name) ?? []) fn(value);
  }

  #load() {
    const saved = this.store.load();
    return saved ? new StreamCursors({ ...saved, fresh: false }) : new StreamCursors();
  }

  #save() {
    this.store.save(this.cursors.toJSON());
  }

  /** Forgets the saved cursors (the next start begins from startFrom). */
  reset() {
    this.store.clear();
    this.cursors = this.#load();
  }

  #build() {
    const { signalR } = this;
    const builder = new signalR.HubConnectionBuilder()
      .withUrl(`${this.url}/hubs/groups?device=${encodeURIComponent(this.device)}`, {
        // Browsers cannot set headers on a WebSocket: the client sends ?access_token= there.
        accessTokenFactory: this.tokenFactory,
        // Any node serves any client: no negotiate round trip, no sticky sessions.
        skipNegotiation: true,
        transport: signalR.HttpTransportType.WebSockets,
      })
      // Forever: a retry policy that never answers null.
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ({ previousRetryCount }) => retryDelay(previousRetryCount) })
      .configureLogging(this.logLevel);
    if (this.protocol === "messagepack") builder.withHubProtocol(new this.messagePack());
    const c = builder.build();
    c.on("SystemMessage", (m) => this.serial(() => this.#applySystem(m, "live")));
    c.on("GroupEvent", (e) => this.serial(() => this.#applyEvent(e, "live")));
    c.onreconnecting((error) => {
      this.emit("state", "reconnecting");
      this.emit("info", `connection lost (${error?.message ?? "closed"}); reconnecting`);
    });
    c.onreconnected(() => {
      this.emit("state", "reconnected");
      this.serial(() => this.sync("reconnected"));
    });
    c.onclose((error) => {
      this.emit("state", "disconnected");
      if (this.stopping) return;
      // Automatic reconnect only covers a lost connection; a refusal (an expired token, a node
      // shutting down mid-handshake) closes it: start again, the token factory may have a new one.
      this.emit("info", `connection closed (${error?.message ?? "no error"}); starting again`);
      this.#startLoop(1);
    });
    return c;
  }

  /**
   * Connects and catches up (baseline, then Sync). With retry, failed attempts are repeated with
   * jittered backoff until one succeeds or stop() is called; without, the first failure throws.
   */
  async connect({ retry = false } = {}) {
    this.stopping = false;
    this.connection ??= this.#build();
    if (retry) return this.#startLoop(0);
    await this.#startOnce();
  }

  async #startOnce() {
    this.emit("state", "connecting");
    await this.connection.start();
    this.emit("state", "connected");
    await this.serial(async () => {
      await this.#baseline();
      await this.sync("connected");
    });
  }

  async #startLoop(attempt) {
    for (; !this.stopping; attempt++) {
      try {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryDelay(Math.min(attempt, 4))));
        if (this.stopping) return;
        return await this.#startOnce();
      } catch (error) {
        this.emit("info", `connect failed (${error.message}); retrying`);
      }
    }
  }

  async stop() {
    this.stopping = true;
    await this.connection?.stop();
    await this.chain;
    this.#save();
  }

  get connected() {
    return this.connection?.state === this.signalR.HubConnectionState.Connected;
  }

  invoke(method, ...args) {
    if (!this.connection) return Promise.reject(new Error("not connected"));
    return this.connection.invoke(method, ...args);
  }

  /** Pushes and Syncs run one at a time, in arrival order, so the cursors change in order. */
  serial(work) {
    const next = this.chain.then(work).catch((error) => {
      // Cut off by a lost connection: the Sync after the reconnect catches up, nothing is lost.
      if (this.connected) this.emit("error", error);
      else this.emit("info", `interrupted: ${error.message}`);
    });
    this.chain = next;
    return next;
  }

  #wantSync(reason) {
    if (this.syncWanted) return;
    this.syncWanted = true;
    this.serial(() => (this.syncWanted ? this.sync(reason) : undefined));
  }

  #applySystem(m, source) {
    const verdict = this.cursors.checkSystem(m.seq);
    if (verdict === "duplicate") return;
    if (verdict === "gap") return this.#wantSync(`system gap at #${m.seq}`);
    this.cursors.systemSeq = m.seq;
    this.emit("push", { kind: "SystemMessage", item: m, source });
    if ((m.type === "JoinedGroup" || m.type === "GroupCreated") && m.groupId) {
      this.cursors.startGroup(m.groupId, m.data?.joinSeq ?? 0, m.data?.epoch);
      this.unknownGroups.delete(m.groupId);
      // Anything already past joinSeq comes from Sync.
      this.#wantSync(`joined ${m.groupId}`);
      this.emit("groups");
    }
    if (REMOVALS.has(m.type) && this.cursors.groups.has(m.groupId)) this.#wantSync(`left ${m.groupId}`);
    this.#save();
  }

  #applyEvent(e, source) {
    const verdict = this.cursors.checkEvent(e.groupId, e.seq, source);
    if (verdict === "duplicate") return;
    if (verdict === "unknown") {
      this.unknownGroups.add(e.groupId);
      return this.#wantSync(`unknown group ${e.groupId}`);
    }
    if (verdict === "gap") return this.#wantSync(`gap in ${e.groupId} at #${e.seq}`);
    this.cursors.groups.set(e.groupId, e.seq);
    this.emit("push", { kind: "GroupEvent", item: e, source });
    if (e.type === "GroupDissolved") {
      this.cursors.drop(e.groupId);
      this.emit("removed", { groupId: e.groupId });
    }
    if (e.type !== "Message") this.emit("groups");
    this.#save();
  }

  /** Syncs until every stream is caught up (pages of up to 200). Run it through serial(). */
  async sync(reason) {
    this.syncWanted = false;
    const c = this.cursors;
    for (;;) {
      const asked = c.syncGroups();
      const r = await this.invoke("Sync", { systemSince: c.systemSeq, groups: asked, limit: 200 });
      if (r.system.tooOld) this.emit("tooOld", { newGroup: false });
      for (const m of r.system.items) this.#applySystem(m, "sync");
      let more = r.system.hasMore;
      for (const [groupId, g] of Object.entries(r.groups)) {
        if (g.tooOld) {
          await this.#tooOld(groupId, g, asked[groupId]?.epoch);
          more = true;
          continue;
        }
        if (g.epoch && c.groups.has(groupId) && !c.epochs.has(groupId)) c.epochs.set(groupId, g.epoch);
        for (const e of g.items) this.#applyEvent({ ...e, groupId }, "sync");
        if (g.removed && !g.hasMore && c.groups.has(groupId)) {
          c.drop(groupId);
          this.emit("removed", { groupId });
          this.emit("groups");
        }
        more ||= g.hasMore;
      }
      if (!r.system.hasMore) {
        // The system stream is caught up and still says nothing of these groups (e.g. the cursors
        // were lost): since = 0 answers exactly what this user may see of them.
        for (const id of this.unknownGroups) if (!c.groups.has(id)) c.groups.set(id, 0);
        this.unknownGroups.clear();
      }
      // Groups discovered on the way (JoinedGroup) are in the cursors now but were not asked.
      more ||= [...c.groups.keys()].some((id) => !(id in asked));
      this.#save();
      if (!more) break;
    }
    this.syncWanted = false;
    this.emit("synced", { reason, systemSeq: c.systemSeq, groups: c.groups.size });
  }

  async #tooOld(groupId, g, askedEpoch) {
    const c = this.cursors;
    if (askedEpoch && g.epoch && g.epoch !== askedEpoch) {
      // Our cursor belongs to an earlier group of this id (dissolved, then created again): the
      // new group's log is read from where our part of it starts.
      if (c.epochs.get(groupId) === askedEpoch) c.set(groupId, g.next, g.epoch);
      this.emit("tooOld", { groupId, epoch: g.epoch, newGroup: true });
    } else {
      // The log no longer reaches back to our cursor: jump to the group's current state.
      const { groups } = await this.invoke("GetGroups", [groupId]);
      // Not a member of the group now under this id (GetGroups fails it): nothing more to read.
      if (groups[0]) c.set(groupId, groups[0].lastSeq, g.epoch);
      else c.drop(groupId);
      this.emit("tooOld", { groupId, epoch: g.epoch, newGroup: false });
    }
    this.emit("groups");
  }

  /** First connect without saved cursors: start from now (the groups' lastSeq), or from the beginning. */
  async #baseline() {
    if (!this.cursors.fresh) return;
    if (this.startFrom === "now") {
      for (;;) {
        const r = await this.invoke("Sync", { systemSince: this.cursors.systemSeq, groups: {}, limit: 1000 });
        this.cursors.systemSeq = r.system.next;
        if (!r.system.hasMore) break;
      }
      for (const g of await this.joinedGroups()) this.cursors.set(g.groupId, g.lastSeq, g.epoch);
      this.emit("info", `starting from now: system #${this.cursors.systemSeq}, ${this.cursors.groups.size} group(s)`);
    }
    this.cursors.fresh = false;
    this.#save();
  }

  /** Every joined group (GetJoinedGroups, all pages). */
  async joinedGroups() {
    const all = [];
    for (let offset = 0; ; ) {
      const page = await this.invoke("GetJoinedGroups", { offset, limit: 1000 });
      all.push(...page.groups);
      offset += page.groups.length;
      if (page.groups.length === 0 || offset >= page.total) return all;
    }
  }

  /** One page of a group's message history (SPEC §9), newest first; `before`: the oldest seq held so far. */
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

  /** An invite link to share: { code, … } from CreateInviteLink, and `url`, pageUrl with ?join=<code>. */
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

  /**
   * Web Push (SPEC §7): subscribes a browser through a service worker registration with the app's
   * VAPID key and registers the subscription, so pushes arrive while no tab is open.
   */
  async enableWebPush(registration) {
    const { publicKey } = await this.invoke("GetWebPushKey");
    if (!publicKey) throw new Error("web push is not configured on the server for this app");
    const subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey }));
    const { endpoint, keys } = subscription.toJSON();
    return this.invoke("RegisterPushSubscription", { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } });
  }

  /** Unregisters this browser's subscription from the server, then unsubscribes it; null when there is none. */
  async disableWebPush(registration) {
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) return null;
    const result = await this.invoke("UnregisterPushSubscription", { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
    return result;
  }
}
