// Helpers for the end-to-end tests: dev-app tokens made with node:crypto, hub connections
// with the official client over WebSockets only, and a timeout for every await.
import { createHmac, randomUUID } from "node:crypto";
import {
  HubConnectionBuilder,
  HttpTransportType,
  LogLevel,
} from "@microsoft/signalr";

/** The app that a Development server knows (see the server's appsettings.Development.json). */
export const DEV_APP = "demo";
export const DEV_SECRET = "realtime-demo-development-secret-0001";

/** Default bound for one await, overridable with REALTIME_E2E_TIMEOUT_MS. */
export const TIMEOUT_MS = Number(process.env.REALTIME_E2E_TIMEOUT_MS ?? 10_000);

/** Base URL of node 1 (or node 2): REALTIME_E2E_URL / REALTIME_E2E_URL2. */
export function baseUrl(node = 1) {
  const name = node === 1 ? "REALTIME_E2E_URL" : `REALTIME_E2E_URL${node}`;
  const url = process.env[name] ?? `http://127.0.0.1:${5090 + node}`;
  return url.replace(/\/+$/, "");
}

/** A fresh id, so tests can run in any order against one database. */
export function uniqueId(prefix = "id") {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

const b64url = (value) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * An HS256 JWT: iss = app id, sub = user id, exp = now + ttlSeconds (negative for an
 * expired token). role: "admin" makes an admin token; claims adds or overrides claims.
 */
export function makeToken({
  user,
  app = DEV_APP,
  secret = DEV_SECRET,
  ttlSeconds = 3600,
  role,
  claims = {},
} = {}) {
  if (!user) throw new Error("makeToken: user is required");
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: app, sub: user, iat: Math.min(now, now + ttlSeconds), exp: now + ttlSeconds };
  if (role) payload.role = role;
  Object.assign(payload, claims);
  const unsigned = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(payload)}`;
  const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

/** Rejection raised by withTimeout, so a test can tell "refused" from "no answer". */
export class TimeoutError extends Error {
  constructor(label, ms) {
    super(`${label} did not settle within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** Resolves or rejects like promise, or rejects with TimeoutError after ms. */
export function withTimeout(promise, ms = TIMEOUT_MS, label = "operation") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(label, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A hub connection (not started) to /hubs/groups as device, over WebSockets without
 * negotiation, the way production clients connect through the load balancer.
 * token is a string or a function returning one.
 */
export function buildConnection({
  url = baseUrl(),
  token,
  device = uniqueId("device"),
  logLevel = LogLevel[process.env.REALTIME_E2E_LOG ?? "Warning"] ?? LogLevel.Warning,
} = {}) {
  const tokenFactory = typeof token === "function" ? token : () => token;
  return new HubConnectionBuilder()
    .withUrl(`${url}/hubs/groups?device=${encodeURIComponent(device)}`, {
      accessTokenFactory: tokenFactory,
      skipNegotiation: true,
      transport: HttpTransportType.WebSockets,
    })
    .configureLogging(logLevel)
    .build();
}

/** Builds and starts a connection; rejects when start fails or takes longer than ms. */
export async function connect(options = {}, ms = TIMEOUT_MS) {
  const connection = buildConnection(options);
  try {
    await withTimeout(connection.start(), ms, "connection.start()");
  } catch (error) {
    await stopQuietly(connection);
    throw error;
  }
  return connection;
}

/** Stops a connection, bounded, ignoring errors (for finally blocks and after hooks). */
export async function stopQuietly(connection, ms = TIMEOUT_MS) {
  if (!connection) return;
  try {
    await withTimeout(connection.stop(), ms, "connection.stop()");
  } catch {
    // Cleanup only: the test has already passed or failed on its own.
  }
}

/** Fails unless GET url/healthz answers 200, so a refusal test cannot pass on a dead server. */
export async function assertServerUp(url = baseUrl(), ms = TIMEOUT_MS) {
  let response;
  try {
    response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(ms) });
  } catch (error) {
    throw new Error(`server at ${url} is not reachable: ${error.message}`);
  }
  if (response.status !== 200) throw new Error(`${url}/healthz answered ${response.status}`);
}

/**
 * Records every SystemMessage and GroupEvent a connection receives, in arrival order, and
 * lets a test wait (bounded) for the first one matching a predicate. Attach it before start()
 * so nothing pushed right after the handshake is missed.
 */
export class Inbox {
  constructor(connection) {
    this.system = [];
    this.events = [];
    this.waiters = [];
    connection.on("SystemMessage", (msg) => this.#add("SystemMessage", this.system, msg));
    connection.on("GroupEvent", (evt) => this.#add("GroupEvent", this.events, evt));
  }

  #add(kind, list, item) {
    list.push(item);
    for (const waiter of [...this.waiters]) {
      if (waiter.kind === kind && waiter.predicate(item)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(item);
      }
    }
  }

  /** The first push of kind ("SystemMessage" | "GroupEvent") matching predicate, seen or to come. */
  waitFor(kind, predicate, ms = TIMEOUT_MS, label = `${kind} push`) {
    const seen = (kind === "SystemMessage" ? this.system : this.events).find(predicate);
    if (seen) return Promise.resolve(seen);
    let waiter;
    const promise = new Promise((resolve) => {
      waiter = { kind, predicate, resolve };
      this.waiters.push(waiter);
    });
    return withTimeout(promise, ms, label).finally(() => {
      const at = this.waiters.indexOf(waiter);
      if (at >= 0) this.waiters.splice(at, 1);
    });
  }

  /** A system message of type about groupId. */
  systemMessage(type, groupId, ms) {
    return this.waitFor("SystemMessage", (m) => m.type === type && m.groupId === groupId, ms, `SystemMessage ${type} for ${groupId}`);
  }

  /** A group event of groupId of type (any type when omitted) and, when given, seq. */
  event(groupId, { type, seq } = {}, ms) {
    return this.waitFor(
      "GroupEvent",
      (e) => e.groupId === groupId && (type === undefined || e.type === type) && (seq === undefined || e.seq === seq),
      ms,
      `GroupEvent ${type ?? "*"}${seq === undefined ? "" : ` seq ${seq}`} of ${groupId}`,
    );
  }

  /** Group events of groupId received so far, in arrival order. */
  eventsOf(groupId) {
    return this.events.filter((e) => e.groupId === groupId);
  }

  /** The highest system seq received so far (0 when none). */
  get lastSystemSeq() {
    return this.system.reduce((max, m) => Math.max(max, m.seq), 0);
  }
}

/**
 * Builds a connection, attaches an Inbox, starts it and waits until the server has finished
 * setting it up: { connection, inbox }.
 *
 * start() resolves at the SignalR handshake, but the server registers the connection under
 * its user (backplane subscription) and joins it to its groups only afterwards, in
 * OnConnectedAsync; a push sent in between is legitimately missed (Sync recovers it). Hub
 * invocations are dispatched only after OnConnectedAsync, so one round trip (WhoAmI) is the
 * barrier after which every push to this user reaches this connection.
 */
export async function connectWithInbox(options = {}, ms = TIMEOUT_MS) {
  const connection = buildConnection(options);
  const inbox = new Inbox(connection);
  try {
    await withTimeout(connection.start(), ms, "connection.start()");
    await withTimeout(connection.invoke("WhoAmI"), ms, "WhoAmI after start()");
  } catch (error) {
    await stopQuietly(connection);
    throw error;
  }
  return { connection, inbox };
}

/** connection.invoke bounded by ms. */
export function invoke(connection, method, ...args) {
  return withTimeout(connection.invoke(method, ...args), TIMEOUT_MS, `invoke ${method}`);
}
