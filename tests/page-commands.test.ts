/**
 * The page reads typed lines with the shared grammar: `/join #x` enters the
 * room and `@carla oi` reaches carla alone, in a real browser (Debian's or the packaged
 * Chromium, as in browser.test.ts) against a real server and framed clients.
 */
import t from "tap";
import type { Page } from "playwright-core";
import { COMMAND_WORDS } from "../common/commands.js";
import { buildPage } from "../server/gateway-web.js";
import { PAGE_HELP } from "../web/page-help.js";
import type { Message } from "../protocol.js";
import { testServer } from "./helpers/helpers.js";
import { launchBrowser } from "./helpers/browser.js";
import { Peer } from "./helpers/test-clients.js";

/** Generous: a loaded two-core machine starts a browser slowly. */
const UI_WAIT_MS = 30_000;
/** The page's script, grammar included, stays small: no Node module, no table of look-alike names. */
const MAX_SCRIPT_BYTES = 40_000;

/** The next frame of `type` (and in `room`, when given) a framed peer receives, past others. */
async function nextOf(peer: Peer, type: string, room?: string): Promise<Message> {
  for (;;) {
    const msg = await peer.next();
    if (msg.type === type && (room === undefined || msg.room === room)) return msg;
  }
}

async function type(page: Page, line: string): Promise<void> {
  await page.fill("#message", line);
  await page.press("#message", "Enter");
}

t.test("the page's help lists each command once: the grammar's, but /quit", async (t) => {
  const entries = [...PAGE_HELP.matchAll(/(?:^ {2}|\S {2,}|, )\/([^\s/,()]+)/gm)].map((m) => m[1]!.toLowerCase());
  t.same(entries.filter((word, i) => entries.indexOf(word) !== i), [], "no command listed twice");
  const unlisted = Object.entries(COMMAND_WORDS).filter(([, words]) => !words.some((word) => entries.includes(word)));
  t.same(unlisted.map(([kind]) => kind), ["quit"], "every command but /quit (a page is closed)");
  const known = new Set<string>(Object.values(COMMAND_WORDS).flat());
  t.same([...PAGE_HELP.matchAll(/\/([a-z]+)/g)].map((m) => m[1]!).filter((word) => !known.has(word) && word !== "name" && word !== "text"), [], "no word the grammar refuses");
});

t.test("the page's script holds the grammar and stays small", async (t) => {
  const { script } = await buildPage();
  t.ok(script.length < MAX_SCRIPT_BYTES, `${script.length} bytes`);
  t.notMatch(script, /\bBuffer\b|\bprocess\.env\b/, "nothing of Node's");
});

t.test("typed commands in the page: /join #x, @name text, /who, /leave, /help", async (t) => {
  const server = await testServer(t);
  const carla = await Peer.joined(t, server.address.port, "carla");
  const bruno = await Peer.joined(t, server.address.port, "bruno");
  carla.send({ type: "enter", room: "#x" });
  await nextOf(carla, "entered");
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  page.setDefaultTimeout(UI_WAIT_MS);
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(server.pageUrl);
  await page.fill("#name", "ana");
  await page.click("#join");
  await page.locator("#log", { hasText: "Welcome, ana!" }).waitFor();

  await type(page, "/join #x");
  t.match(await nextOf(carla, "join", "#x"), { client_name: "ana" }, "/join #x entered the room");
  await page.locator("#topic", { hasText: "#x" }).waitFor();
  t.equal(await page.inputValue("#message"), "", "the line was taken");

  await type(page, "@carla oi");
  t.match(await nextOf(carla, "chat"), { client_name: "ana", to: "carla", message: "oi" }, "private to carla");
  await type(page, "in the room");
  t.match(await nextOf(carla, "chat"), { client_name: "ana", room: "#x", message: "in the room" }, "a plain line goes to the room shown");
  await type(page, "/room #general");
  await type(page, "to everyone");
  const lobbyChat = await nextOf(bruno, "chat");
  t.match(lobbyChat, { client_name: "ana", message: "to everyone" }, "bruno, in the lobby, got only the lobby's chat");
  t.equal(lobbyChat.to, undefined);

  await type(page, "/who #x");
  await page.locator("#log", { hasText: "carla" }).waitFor();
  await type(page, "/leave #x");
  t.match(await nextOf(carla, "leave"), { client_name: "ana", room: "#x", reason: "part" }, "/leave #x left it");
  await type(page, "/help");
  await page.locator("#log", { hasText: "/join #room [private]" }).waitFor();
  await type(page, "/xyz");
  await page.locator("#log", { hasText: "Unknown command /xyz. Type /help." }).waitFor();
  t.same(pageErrors, [], "no error in the page");
});
