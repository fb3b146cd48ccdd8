// Smoke: the official client connects with a valid dev-app token and is refused otherwise.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { HubConnectionState, LogLevel } from "@microsoft/signalr";
import {
  TimeoutError,
  assertServerUp,
  buildConnection,
  makeToken,
  stopQuietly,
  uniqueId,
  withTimeout,
} from "./lib/realtime.mjs";

const TEST_TIMEOUT = { timeout: 30_000 };

before(async () => {
  await assertServerUp();
});

test("start_ValidToken_ReachesConnected", TEST_TIMEOUT, async () => {
  const connection = buildConnection({ token: makeToken({ user: uniqueId("alice") }) });
  try {
    await withTimeout(connection.start(), undefined, "connection.start()");
    assert.equal(connection.state, HubConnectionState.Connected);
  } finally {
    await stopQuietly(connection);
  }
  assert.equal(connection.state, HubConnectionState.Disconnected);
});

/** Asserts that start() is refused: it rejects, and not merely by timing out. */
async function assertRefused(token, t) {
  const connection = buildConnection({ token, logLevel: LogLevel.None });
  try {
    await assert.rejects(withTimeout(connection.start(), undefined, "connection.start()"), (error) => {
      assert.ok(!(error instanceof TimeoutError), `expected a refusal, got: ${error.message}`);
      t.diagnostic(`refused: ${error.message}`);
      return true;
    });
    assert.notEqual(connection.state, HubConnectionState.Connected);
  } finally {
    await stopQuietly(connection);
  }
}

test("start_TokenSignedWithWrongSecret_IsRefused", TEST_TIMEOUT, async (t) => {
  const token = makeToken({ user: uniqueId("mallory"), secret: "not-the-demo-secret-at-all-0000000000" });
  await assertRefused(token, t);
});

test("start_ExpiredToken_IsRefused", TEST_TIMEOUT, async (t) => {
  // An hour ago: well past any clock skew the server allows.
  const token = makeToken({ user: uniqueId("bob"), ttlSeconds: -3600 });
  await assertRefused(token, t);
});
