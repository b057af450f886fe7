/**
 * The page in a real browser (helpers/browser.ts: Debian's headless Chromium,
 * or the one from npm), against a real server and a framed TCP client. One
 * browser for the file, a new page (its own context) for each test.
 * Screenshots go to $CHAT_SCREENSHOTS when set.
 */
import fs from "node:fs";
import path from "node:path";
import t from "tap";
import type { Page } from "playwright-core";
import { startServer, type ChatServer } from "../server/chat-server.js";
import { launchBrowser } from "./helpers/browser.js";
import { type Teardown, tempDir } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** Generous: a loaded two-core machine starts a browser slowly. */
const UI_WAIT_MS = 30_000;

const HOSTILE = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold?</b>`;

const browser = await launchBrowser(t);

/** A page in a context of its own, closed when the test ends. */
async function newPage(t: Teardown, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage(viewport ? { viewport } : {});
  t.teardown(() => page.close());
  page.setDefaultTimeout(UI_WAIT_MS);
  return page;
}

/** The text of the conversation shown. */
function logText(page: Page): Promise<string> {
  return page.locator("#log").innerText();
}

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.CHAT_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

t.test("a browser joins, chats with a TCP client, goes private, shows hostile text inert, and reconnects after a restart", async (t) => {
  const db = path.join(tempDir(t), "chat.db");
  let server: ChatServer = await startServer({ port: 0, db });
  t.teardown(() => server.close());
  const { port } = server.address;
  const page = await newPage(t, { width: 1200, height: 760 });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(server.pageUrl);

  // The name screen shows the server's reason for a refusal.
  await page.fill("#name", "ana maria");
  await page.click("#join");
  await page.locator("#reason", { hasText: "A name cannot contain spaces" }).waitFor();
  await page.fill("#name", "ana");
  await page.click("#join");
  await page.locator("#log", { hasText: "Welcome, ana!" }).waitFor();
  t.match(await page.locator("#status").getAttribute("class"), /online/);

  // A TCP client joins; messages both ways.
  const bruno = await Peer.joined(t, port, "bruno");
  await page.locator("#member-list", { hasText: "bruno" }).waitFor();
  await page.fill("#subject", "Provas");
  await page.fill("#message", "hello from the browser");
  await page.click("#send");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", subject: "Provas", message: "hello from the browser" });
  await page.locator("#log", { hasText: "hello from the browser" }).waitFor(); // its echo: accepted by the server
  t.equal(await page.inputValue("#message"), "", "the message box is emptied once sent");
  await page.click("#clear");
  t.equal(await page.inputValue("#subject"), "", "Clear empties the subject too");

  // Hostile text is shown as text.
  bruno.send({ type: "chat", message: HOSTILE });
  await page.locator("#log li", { hasText: "onerror" }).waitFor();
  t.ok((await logText(page)).includes(HOSTILE), "the markup is shown as the characters it is");
  t.equal(await page.locator("#log img, #log script, #log b").count(), 0, "no element was made from it");
  t.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined, "nothing of it ran");

  // A private message: its own conversation, with an unread count until opened.
  bruno.send({ type: "chat", to: "ana", message: "just between us" });
  const privateButton = page.locator(".conv", { hasText: "@bruno" });
  await privateButton.locator(".badge", { hasText: "1" }).waitFor();
  await screenshot(page, "desktop");
  await privateButton.click();
  await page.locator("#log", { hasText: "just between us" }).waitFor();
  t.equal(await page.inputValue("#recipient"), "bruno", "the recipient is the other person");
  await page.fill("#message", "agreed");
  await page.press("#message", "Enter");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", to: "bruno", message: "agreed" });

  // A room: entered from the page, its members with the operator marked, unread counts while elsewhere.
  await page.fill("#room-name", "#provas");
  await page.click("#room-form button");
  await page.locator("#topic", { hasText: "#provas" }).waitFor();
  bruno.send({ type: "enter", room: "#provas" });
  await page.locator("#member-list .member", { hasText: "bruno" }).waitFor();
  t.equal(await page.locator("#member-list .member.op").innerText(), "ana", "the room's creator is marked as its operator");
  await page.fill("#message", "in the room");
  await page.click("#send");
  for (;;) {
    const msg = await bruno.next();
    if (msg.type === "chat") {
      t.match(msg, { client_name: "ana", room: "#provas", message: "in the room" });
      break;
    }
  }
  await page.locator(".conv", { hasText: "#general" }).click();
  bruno.send({ type: "chat", room: "#provas", message: "room news" });
  await page.locator(".conv", { hasText: "#provas" }).locator(".badge", { hasText: "1" }).waitFor();
  await screenshot(page, "desktop-room");

  // Phone width.
  await page.setViewportSize({ width: 390, height: 760 });
  await page.locator(".conv", { hasText: "#general" }).click();
  await screenshot(page, "phone");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `nothing wider than the phone's screen (overflow ${overflow}px)`);
  t.ok(await page.locator("#send").isVisible(), "Send is on screen at phone width");

  // The server restarts: the page shows it, reconnects by itself, and rejoins as ana.
  await server.close();
  await page.locator("#status.reconnecting").waitFor();
  t.match(await page.locator("#state").innerText(), /reconnect/i);
  await screenshot(page, "reconnecting");
  server = await startServer({ port, db });
  await page.locator("#log", { hasText: "Reconnected as ana" }).waitFor();
  await page.locator("#status.online").waitFor();
  const carla = await Peer.joined(t, port, "carla");
  t.same(carla.frames, []);
  carla.send({ type: "chat", message: "after the restart" });
  await page.locator("#log", { hasText: "after the restart" }).waitFor();
  carla.send({ type: "enter", room: "#provas" });
  t.match(await carla.next(), { type: "entered", room: "#provas", users: ["ana", "carla"] }, "the page went back into its room");
  const lines = (await logText(page)).split("\n").filter((line) => line.includes("hello from the browser"));
  t.equal(lines.length, 1, "the history replayed on reconnecting is not shown twice");
  t.same(pageErrors, [], "no script error in the page");
});

t.test("a registered name: the page asks for the password and shows the server's reasons", async (t) => {
  const server = await startServer({ port: 0, passwordCostLog2: 10 });
  t.teardown(() => server.close());
  const owner = await Peer.joined(t, server.address.port, "rita");
  owner.send({ type: "register", password: "correct horse" });
  t.match(await owner.next(), { type: "registered" });
  owner.send({ type: "quit" });
  await owner.expectClosed();
  const page = await newPage(t);
  await page.goto(server.pageUrl);
  await page.fill("#name", "rita");
  await page.click("#join");
  await page.locator("#reason", { hasText: "its password is needed" }).waitFor();
  await page.fill("#password", "wrong password");
  await page.click("#join");
  await page.locator("#reason", { hasText: "Wrong password" }).waitFor();
  await page.fill("#password", "correct horse");
  await page.click("#join");
  await page.locator("#log", { hasText: "Welcome, rita!" }).waitFor();
});

t.test("friends: a request accepted from the member list, the friend then marked online", async (t) => {
  const server = await startServer({ port: 0, passwordCostLog2: 10 });
  t.teardown(() => server.close());
  const { port } = server.address;
  const login = async (name: string) => {
    const peer = await Peer.connect(t, port);
    peer.send({ type: "join", client_name: name, password: "correct horse" });
    t.match(await peer.next(), { type: "welcome", client_name: name });
    return peer;
  };
  for (const name of ["rita", "bob"]) {
    const peer = await Peer.joined(t, port, name);
    peer.send({ type: "register", password: "correct horse" });
    t.match(await peer.next(), { type: "registered" });
    peer.send({ type: "quit" });
    await peer.expectClosed();
  }
  const bob = await login("bob");
  bob.send({ type: "friend", target: "rita" });
  t.match(await bob.next(), { type: "friend", status: "requested" });
  bob.send({ type: "quit" });
  await bob.expectClosed();
  const page = await newPage(t);
  await page.goto(server.pageUrl);
  await page.fill("#name", "rita");
  await page.fill("#password", "correct horse");
  await page.click("#join");
  await page.locator("#log", { hasText: "Welcome, rita!" }).waitFor();
  const again = await login("bob");
  const entry = page.locator("#member-list .entry", { hasText: "bob" });
  await entry.locator(".befriend", { hasText: "accept friend" }).click();
  for (;;) {
    const msg = await again.next();
    if (msg.type === "friend") {
      t.match(msg, { client_name: "rita", target: "bob", status: "accepted" });
      break;
    }
  }
  await entry.locator(".friend", { hasText: "friend, online" }).waitFor();
  t.equal(await entry.locator(".befriend").count(), 0, "no friend button for a friend");
});

t.test("a newcomer sees the latest history and loads earlier messages on demand", async (t) => {
  const server = await startServer({ port: 0, history: 2 });
  t.teardown(() => server.close());
  const bruno = await Peer.joined(t, server.address.port, "bruno");
  for (const text of ["first", "second", "third", "fourth"]) bruno.send({ type: "chat", message: text });
  await bruno.drain();
  const page = await newPage(t);
  await page.goto(server.pageUrl);
  await page.fill("#name", "dora");
  await page.press("#name", "Enter");
  await page.locator("#log", { hasText: "fourth" }).waitFor();
  t.notMatch(await logText(page), /second/, "only the latest two are replayed");
  await page.click("#earlier");
  await page.locator("#log", { hasText: "first" }).waitFor();
  const order = (await logText(page)).split("\n").filter((line) => /first|second|third|fourth/.test(line));
  t.match(order, [/first/, /second/, /third/, /fourth/], "earlier messages go above, in order");
  await page.locator("#earlier").waitFor({ state: "hidden" });
});
