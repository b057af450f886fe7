/**
 * The page as a new user met it (issue 18), in a real browser (as in
 * browser.test.ts) against a real server: the status bar tells the state
 * that is true, history comes first under its divider, /join says where one
 * is, the server's admins are marked. Screenshots go to $CHAT_SCREENSHOTS.
 */
import fs from "node:fs";
import path from "node:path";
import t from "tap";
import type { Page } from "playwright-core";
import { ChatClient } from "../client/connection.js";
import { launchBrowser } from "./helpers/browser.js";
import { testServer, type Teardown } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** Generous: a loaded two-core machine starts a browser slowly. */
const UI_WAIT_MS = 30_000;

const browser = await launchBrowser(t);

async function newPage(t: Teardown, viewport = { width: 1200, height: 760 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  t.teardown(() => page.close());
  page.setDefaultTimeout(UI_WAIT_MS);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.CHAT_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** Registers `name` with `password` and leaves: an account for the page to log in to. */
async function account(port: number, name: string, password: string): Promise<void> {
  const client = new ChatClient({ port, reconnect: false });
  await client.connect();
  await client.join(name);
  await client.register(password);
  await client.quit();
}

t.test("the status bar tells the truth before joining and beside a refused password (item 19, earlier trial)", async (t) => {
  const server = await testServer(t);
  await account(server.address.port, "bruno", "bruno password");
  const page = await newPage(t);
  await page.goto(server.pageUrl);
  const status = () => page.locator("#state").innerText();
  t.equal(await status(), "Choose a name to join", "not 'Not connected' before anything was tried");
  t.notMatch(await page.locator("#status").getAttribute("class"), /offline/);
  await page.fill("#name", "bruno");
  await page.fill("#password", "wrong password");
  await page.click("#join");
  await page.locator("#reason", { hasText: "Wrong password" }).waitFor();
  t.match(await status(), /^Connected to 127\.0\.0\.1:\d+, not joined yet$/, "the connection is up: only the password was refused");
  await screenshot(page, "new-user-wrong-password");
});

t.test("history first under an 'earlier messages' divider, then the welcome; /join says 'You are in'; admins marked (items 20, 12, earlier trial)", async (t) => {
  const server = await testServer(t, { admins: ["ana"] });
  const { port } = server.address;
  await account(port, "ana", "ana password");
  const ana = new ChatClient({ port, reconnect: false });
  t.teardown(() => ana.close());
  await ana.connect();
  await ana.join("ana", "ana password");
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "chat", message: "said before you came" });
  await bruno.drain();

  const page = await newPage(t);
  await page.goto(server.pageUrl);
  await page.fill("#name", "carla");
  await page.click("#join");
  await page.locator("#log", { hasText: "Welcome, carla!" }).waitFor();
  const rows = await page.locator("#log li").allInnerTexts();
  const divider = rows.findIndex((row) => row.includes("— earlier messages —"));
  const earlier = rows.findIndex((row) => row.includes("said before you came"));
  const welcome = rows.findIndex((row) => row.includes("Welcome, carla!"));
  t.ok(divider >= 0 && divider < earlier && earlier < welcome, `divider, history, then the welcome: ${JSON.stringify(rows)}`);
  t.match(await page.locator("#member-list .member.op").allInnerTexts(), ["ana"], "the admin marked as an operator");
  await screenshot(page, "new-user-lobby");

  await page.fill("#message", "/join #provas");
  await page.press("#message", "Enter");
  await page.locator("#topic", { hasText: "#provas" }).waitFor();
  await page.locator("#log", { hasText: "You are in #provas" }).waitFor();
  await screenshot(page, "new-user-history-join");
});

t.test("'+ friend' turns into 'request sent' once asked (item 5)", async (t) => {
  const server = await testServer(t);
  const { port } = server.address;
  await account(port, "carla", "carla password");
  await account(port, "bruno", "bruno password");
  const bruno = await Peer.connect(t, port);
  bruno.send({ type: "join", client_name: "bruno", password: "bruno password" });
  t.match(await bruno.next(), { type: "welcome", account: true });
  const page = await newPage(t);
  await page.goto(server.pageUrl);
  await page.fill("#name", "carla");
  await page.fill("#password", "carla password");
  await page.click("#join");
  const entry = page.locator("#member-list .entry", { hasText: "bruno" });
  await entry.locator(".befriend", { hasText: "+ friend" }).click();
  await entry.locator(".befriend", { hasText: "request sent" }).waitFor();
  t.ok(await entry.locator(".befriend").isDisabled(), "not offered again");
  let msg = await bruno.next();
  while (msg.type !== "friend") msg = await bruno.next();
  t.match(msg, { client_name: "carla", status: "requested" });
  await screenshot(page, "new-user-friend-sent");
});

t.test("registering from the page: the login form's box, with the same rules as /register (item 18)", async (t) => {
  const server = await testServer(t);
  const { port } = server.address;
  const page = await newPage(t);
  await page.goto(server.pageUrl);
  await page.fill("#name", "dora");
  await page.fill("#password", "short");
  await page.check("#register");
  await page.click("#join");
  await page.locator("#reason", { hasText: "Password too weak: use at least 8 characters." }).waitFor();
  await screenshot(page, "new-user-register-form");
  await page.fill("#password", "dora password");
  await page.click("#join");
  await page.locator("#log", { hasText: "The name dora is now registered: join with its password from now on." }).waitFor();
  await screenshot(page, "new-user-registered");
  const other = new ChatClient({ port, reconnect: false });
  t.teardown(() => other.close());
  await other.connect();
  await t.rejects(other.join("dora"), { code: "password_required" }, "the name is an account's now");
  await page.fill("#message", "/register x");
  await page.press("#message", "Enter");
  await page.locator("#log", { hasText: "Password too weak" }).waitFor();
});
