// The web sample in a real browser (Debian's chromium, driven by playwright-core): the page as a
// person uses it — connect with a token, open a group's history and scroll it back, and open the
// page from an invite link (?join=<code>), which joins once connected. Served by a tiny static
// server of this test: client-samples/web (index.html, app.js) and the official client's browser
// build from tests/e2e/node_modules (the same @microsoft/signalr version the sample pins).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import {
  TIMEOUT_MS,
  assertServerUp,
  baseUrl,
  connectWithInbox,
  invoke,
  makeToken,
  stopQuietly,
  uniqueId,
} from "./lib/realtime.mjs";

const TEST_TIMEOUT = { timeout: 90_000 };
const NODE1 = baseUrl(1);
const NODE2 = baseUrl(2);
const WEB = fileURLToPath(new URL("../../client-samples/web/", import.meta.url));
const SIGNALR = fileURLToPath(new URL("node_modules/@microsoft/signalr/dist/browser/signalr.min.js", import.meta.url));
const CHROMIUM = process.env.REALTIME_E2E_CHROMIUM ?? "/usr/bin/chromium";

let server;
let pageBase;
let browser;
const opened = new Set();

before(async () => {
  await assertServerUp(NODE1);
  await assertServerUp(NODE2);
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: scripts/test.sh installs Debian's chromium`);
  const files = {
    "/index.html": [`${WEB}index.html`, "text/html; charset=utf-8"],
    "/app.js": [`${WEB}app.js`, "text/javascript; charset=utf-8"],
    "/node_modules/@microsoft/signalr/dist/browser/signalr.min.js": [SIGNALR, "text/javascript; charset=utf-8"],
  };
  server = createServer((req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": file[1] }).end(readFileSync(file[0]));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  pageBase = `http://127.0.0.1:${server.address().port}/index.html`;
  // As root (CI) chromium needs --no-sandbox; nothing else of the machine is reached.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  await Promise.all([...opened].map((c) => stopQuietly(c)));
});

/** A new page (own localStorage) at `url`, connected as `user` to `node`. */
async function openPage(url, user, node) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.fill("#url", node);
  await page.fill("#token", makeToken({ user }));
  await page.click("#connect");
  await page.locator("#log").getByText(/synced \(connected\)/).first().waitFor();
  return { page, context, errors };
}

const historyLines = (page) => page.locator("#history .line").allTextContents();

test("webPage_OpenHistoryAndLoadEarlier_ShowsEveryMessageOnceOldestAtTheTop", TEST_TIMEOUT, async () => {
  const owner = uniqueId("bo");
  const member = uniqueId("bm");
  const { connection } = await connectWithInbox({ url: NODE1, token: makeToken({ user: owner }) });
  opened.add(connection);
  const writer = uniqueId("bw");
  const second = await connectWithInbox({ url: NODE2, token: makeToken({ user: writer }) });
  opened.add(second.connection);
  const { groupId } = await invoke(connection, "CreateGroup", { type: "Public", name: uniqueId("browser"), members: [member, writer] });
  // Two senders, 30 each: within each user's message burst (the e2e nodes keep the default rate limits).
  for (let i = 0; i < 60; i++) await invoke(i % 2 ? second.connection : connection, "SendMessage", { groupId, text: `msg ${i}` });

  const { page, context, errors } = await openPage(pageBase, member, NODE2);
  try {
    await page.locator(`#send-group option[value="${groupId}"]`).waitFor({ state: "attached" });
    await page.selectOption("#send-group", groupId);
    await page.click("#history-load");
    await page.locator("#history .line").nth(49).waitFor();
    let lines = await historyLines(page);
    assert.equal(lines.length, 50);
    assert.match(lines[0], /: msg 10$/);
    assert.match(lines[49], /: msg 59$/);

    await page.click("#history-more");
    await page.locator("#history .line").nth(59).waitFor();
    lines = await historyLines(page);
    assert.deepEqual(lines.map((l) => l.replace(/^#\d+ [^:]+: /, "")), Array.from({ length: 60 }, (_, i) => `msg ${i}`));
    assert.ok(await page.locator("#history-more").isDisabled(), "nothing older to load");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("webPage_OpenedFromAnInviteLink_JoinsOnceConnectedAndSeesHistoryFromItsJoin", TEST_TIMEOUT, async () => {
  const owner = uniqueId("bo");
  const joiner = uniqueId("bj");
  const { connection, inbox } = await connectWithInbox({ url: NODE1, token: makeToken({ user: owner }) });
  opened.add(connection);
  const { groupId } = await invoke(connection, "CreateGroup", { type: "Public", name: uniqueId("linked") });
  await invoke(connection, "SendMessage", { groupId, text: "before the join" });
  const { code } = await invoke(connection, "CreateInviteLink", { groupId, maxUses: 1 });

  const { page, context, errors } = await openPage(`${pageBase}?join=${code}`, joiner, NODE2);
  try {
    await page.locator("#log").getByText(`joined ${groupId} by invite link`).waitFor();
    assert.equal(new URL(page.url()).search, "", "the code is dropped from the address once used");
    const joined = await inbox.event(groupId, { type: "MembersJoined" });
    assert.deepEqual([joined.data.userIds, joined.data.inviter], [[joiner], owner]);

    await page.locator(`#send-group option[value="${groupId}"]`).waitFor({ state: "attached" });
    await page.selectOption("#send-group", groupId);
    const { seq } = await invoke(connection, "SendMessage", { groupId, text: "welcome" });
    await page.locator("#log").getByText(new RegExp(`#${seq}( \\(sync\\))?\\].*welcome`)).waitFor();
    await page.click("#history-load");
    await page.locator("#history .line").first().waitFor();
    assert.deepEqual(await historyLines(page), [`#${seq} ${owner}: welcome`]);

    // The owner's own page makes links as URLs of the page.
    const ownerPage = await openPage(pageBase, owner, NODE1);
    try {
      await ownerPage.page.locator(`#send-group option[value="${groupId}"]`).waitFor({ state: "attached" });
      await ownerPage.page.selectOption("#send-group", groupId);
      await ownerPage.page.click("#invite");
      await ownerPage.page.locator("#log").getByText(/invite link for/).waitFor();
      const made = new URL(await ownerPage.page.inputValue("#invite-url"));
      assert.equal(made.pathname, "/index.html");
      assert.match(made.searchParams.get("join"), /^[A-Za-z0-9_-]{24}$/);
      assert.deepEqual(ownerPage.errors, []);
    } finally {
      await ownerPage.context.close();
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
