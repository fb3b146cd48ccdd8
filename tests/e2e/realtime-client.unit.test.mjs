// The shared JS client's pure logic (client-samples/js/realtime-client.mjs): what a new item means
// against a stream's cursor, where a joined group's stream starts, what Sync is sent, what is
// saved, and the jittered reconnect delays. No server needed; the e2e files run it against nodes.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";
import { RealtimeClient, StreamCursors, retryDelay, tokenClaims } from "../../client-samples/js/realtime-client.mjs";
import { makeToken } from "./lib/realtime.mjs";

test("streamCursors_SystemStream_NextIsAppliedSeenIsDuplicateSkippedIsGap", () => {
  const c = new StreamCursors({ systemSeq: 4 });
  assert.deepEqual([3, 4, 5, 6, 9].map((seq) => c.checkSystem(seq)), ["duplicate", "duplicate", "apply", "gap", "gap"]);
});

test("streamCursors_GroupEvents_LiveGapIsAGapSyncMaySkipUnknownGroupIsUnknown", () => {
  const c = new StreamCursors({ groups: { g: 10 } });
  assert.equal(c.checkEvent("g", 10, "live"), "duplicate");
  assert.equal(c.checkEvent("g", 11, "live"), "apply");
  assert.equal(c.checkEvent("g", 13, "live"), "gap");
  // Sync answers only what the user may see: seqs between two memberships are legitimately absent.
  assert.equal(c.checkEvent("g", 13, "sync"), "apply");
  assert.equal(c.checkEvent("other", 1, "live"), "unknown");
});

test("streamCursors_StartGroup_StartsAtJoinSeqNeverBackwardsAndOverAgainForANewEpoch", () => {
  const c = new StreamCursors();
  c.startGroup("g", 7, "e1");
  assert.deepEqual(c.syncGroups(), { g: { since: 7, epoch: "e1" } });
  c.set("g", 12);
  c.startGroup("g", 7, "e1"); // a late JoinedGroup of the same group: the cursor stays
  assert.equal(c.groups.get("g"), 12);
  c.startGroup("g", 0, "e2"); // the id dissolved and created again: a new stream from its join
  assert.deepEqual(c.syncGroups(), { g: { since: 0, epoch: "e2" } });
  c.startGroup("h", 3); // no epoch known yet: the plain seq
  assert.equal(c.syncCursor("h"), 3);
  c.drop("g");
  assert.deepEqual(c.syncGroups(), { h: 3 });
});

test("streamCursors_SavedAndReadBack_SameCursorsNotFresh", () => {
  const c = new StreamCursors({ systemSeq: 5 });
  c.set("g", 9, "e1");
  const saved = JSON.parse(JSON.stringify(c.toJSON()));
  assert.deepEqual(saved, { systemSeq: 5, groups: { g: 9 }, epochs: { g: "e1" } });
  const back = new StreamCursors({ ...saved, fresh: false });
  assert.deepEqual([back.fresh, back.systemSeq, back.syncCursor("g")], [false, 5, { since: 9, epoch: "e1" }]);
  assert.equal(new StreamCursors().fresh, true);
});

test("retryDelay_BackoffWithHalfToOneAndAHalfTimesJitterThenEveryTenSeconds", () => {
  const bases = [0, 1000, 2000, 5000, 10_000, 10_000];
  assert.deepEqual(bases.map((_, i) => retryDelay(i, () => 0)), bases.map((b) => b * 0.5));
  assert.deepEqual(bases.map((_, i) => retryDelay(i, () => 0.5)), bases);
  assert.deepEqual(bases.map((_, i) => retryDelay(i, () => 0.999)), bases.map((b) => Math.round(b * 1.499)));
  // Two terminals dropped together come back apart.
  assert.notEqual(retryDelay(3, () => 0.1), retryDelay(3, () => 0.9));
});

test("realtimeClient_Options_ProtocolMustBeKnownAndMessagePackNeedsItsClass", () => {
  const base = { signalR, url: "http://127.0.0.1:1", token: "t", device: "d" };
  assert.throws(() => new RealtimeClient({ ...base, protocol: "xml" }), /protocol must be "json" or "messagepack"/);
  assert.throws(() => new RealtimeClient({ ...base, protocol: "messagepack" }), /MessagePackHubProtocol/);
  assert.throws(() => new RealtimeClient({ ...base, signalR: undefined }), /@microsoft\/signalr/);
  assert.equal(new RealtimeClient(base).protocol, "json");
});

test("tokenClaims_ReadsIssuerAndSubjectOrSaysItIsNotAJwt", () => {
  const claims = tokenClaims(makeToken({ user: "alice" }));
  assert.deepEqual([claims.iss, claims.sub], ["demo", "alice"]);
  assert.throws(() => tokenClaims("nonsense"), /not a JWT/);
});
