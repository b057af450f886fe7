/**
 * What the server keeps for an account that is away is bounded, and loses
 * nothing silently: private chats (the mailbox) and notices (invitations,
 * friend requests). Over real sockets.
 */
import t from "tap";
import type { Message } from "../protocol.js";
import { MAILBOX_MAX_CHATS, MAILBOX_MAX_FROM_ONE, MAILBOX_PAGE } from "../server/mailbox.js";
import { MAX_NOTICES_PER_ACCOUNT, MemoryStore } from "../server/store.js";
import { testServer } from "./helpers/helpers.js";
import { Peer, WsPeer } from "./helpers/test-clients.js";

type Tester = import("tap").Test;

/** No pacing: the tests send hundreds of frames. */
const UNPACED = { rateLimit: 0 };

/** Registers `name` and leaves, so that it is an account that is away. */
async function awayAccount(t: Tester, port: number, name: string): Promise<void> {
  const peer = await Peer.joined(t, port, name);
  peer.send({ type: "register", password: `${name} password`, ref: "r" });
  t.match(await peer.next(), { type: "registered" });
  peer.send({ type: "quit" });
  await peer.expectClosed();
}

/** Logs `name` in (its password from awayAccount) with these features; returns the peer after `welcome`. */
async function login(t: Tester, port: number, name: string, features: string[] = []): Promise<Peer> {
  const peer = await Peer.connect(t, port);
  peer.send({ type: "join", client_name: name, password: `${name} password`, features });
  t.match(await peer.next(), { type: "welcome", client_name: name });
  return peer;
}

/** A guest joined with the echo feature (from `localAddress`, another loopback address, if given): each chat it sends is answered (its echo, or an error). */
async function echoed(t: Tester, port: number, name: string, localAddress?: string): Promise<Peer> {
  const peer = await Peer.connect(t, port, { localAddress });
  peer.send({ type: "join", client_name: name, features: ["echo"] });
  t.match(await peer.next(), { type: "welcome", client_name: name });
  return peer;
}

/** Sends `count` private chats to `to` with a ref each, and resolves with the answers (echoes or errors), in order. */
async function sendPrivates(peer: Peer, to: string, count: number, prefix: string): Promise<Message[]> {
  for (let i = 0; i < count; i++) peer.send({ type: "chat", to, message: `${prefix} ${i}`, ref: `${prefix}${i}` });
  const answers: Message[] = [];
  while (answers.length < count) {
    const msg = await peer.next();
    if (msg.ref?.startsWith(prefix)) answers.push(msg); // not the lobby's notices meanwhile
  }
  return answers;
}

/** The frames a client gets until the mailbox's marker that says nothing more follows (history feature). */
async function mailboxPages(peer: Peer): Promise<{ chats: Message[]; markers: Message[] }> {
  const chats: Message[] = [];
  const markers: Message[] = [];
  for (;;) {
    const msg = await peer.next();
    if (msg.type === "chat" && msg.to !== undefined) chats.push(msg);
    if (msg.type === "history" && msg.room === undefined) {
      markers.push(msg);
      if (!msg.more) return { chats, markers };
    }
  }
}

t.test("one sender can leave an account that is away MAILBOX_MAX_FROM_ONE chats; the next is refused as mailbox_full, not dropped", async (t) => {
  const { port } = (await testServer(t, UNPACED)).address;
  await awayAccount(t, port, "bob");
  const eve = await echoed(t, port, "eve");
  const answers = await sendPrivates(eve, "bob", MAILBOX_MAX_FROM_ONE + 1, "e");
  t.equal(answers.slice(0, MAILBOX_MAX_FROM_ONE).filter((a) => a.type === "error").length, 0, "the first ones are kept");
  t.match(answers.at(-1), { type: "error", code: "mailbox_full", ref: `e${MAILBOX_MAX_FROM_ONE}` });
  t.match(answers.at(-1)!.message, /bob/, "the sentence names the recipient");

  const ana = await echoed(t, port, "ana", "127.0.0.2");
  t.match(await sendPrivates(ana, "bob", 1, "real"), [{ type: "chat", ref: "real0" }], "another sender still has room");
});

t.test("a guest that comes back under another name keeps its share: the next chat from its address is refused, another address's is not", async (t) => {
  const { port } = (await testServer(t, UNPACED)).address;
  await awayAccount(t, port, "bob");
  const first = await echoed(t, port, "guest1", "127.0.3.1");
  t.equal((await sendPrivates(first, "bob", MAILBOX_MAX_FROM_ONE, "a")).filter((a) => a.type === "error").length, 0);
  first.send({ type: "quit" });
  await first.expectClosed();
  const again = await echoed(t, port, "guest2", "127.0.3.1");
  t.match(await sendPrivates(again, "bob", 1, "b"), [{ type: "error", code: "mailbox_full" }], "a new name from the same address");
  const elsewhere = await echoed(t, port, "guest3", "127.0.3.2");
  t.match(await sendPrivates(elsewhere, "bob", 1, "c"), [{ type: "chat" }], "another address still has its share");
  const bob = await login(t, port, "bob");
  await bob.drain();
  t.match(await sendPrivates(again, "bob", 1, "d"), [{ type: "chat" }], "bob is online now: delivered");
  bob.send({ type: "quit" });
  await bob.expectClosed();
  t.match(await sendPrivates(again, "bob", 1, "e"), [{ type: "chat" }], "once bob read his mailbox, the shares start again");
});

t.test("a full mailbox refuses every sender, and a login gets every kept chat, in pages, in order", async (t) => {
  const { port } = (await testServer(t, UNPACED)).address;
  await awayAccount(t, port, "bob");
  const senders = Math.ceil(MAILBOX_MAX_CHATS / MAILBOX_MAX_FROM_ONE);
  for (let s = 0; s < senders; s++) {
    const guest = await echoed(t, port, `guest${s}`, `127.0.1.${s + 1}`);
    const answers = await sendPrivates(guest, "bob", MAILBOX_MAX_FROM_ONE, `g${s}`);
    t.equal(answers.filter((a) => a.type === "error").length, 0, `guest${s}'s chats are kept`);
  }
  const late = await echoed(t, port, "late", "127.0.2.1");
  const [refusal] = await sendPrivates(late, "bob", 1, "late");
  t.match(refusal, { type: "error", code: "mailbox_full" }, "the mailbox is full for everyone now");

  const bob = await login(t, port, "bob", ["history"]);
  const { chats, markers } = await mailboxPages(bob);
  t.equal(chats.length, MAILBOX_MAX_CHATS, "every kept chat arrives");
  t.same(chats.map((c) => c.id), chats.map((c) => c.id).sort(), "oldest first");
  t.ok(markers.length >= MAILBOX_MAX_CHATS / MAILBOX_PAGE, "in pages, each with its marker");
  t.ok(markers.slice(0, -1).every((m) => m.more === true), "every page but the last says more follow");
  t.same(await bob.drain(), [], "nothing after the last page");
  bob.send({ type: "quit" });
  await bob.expectClosed();

  const again = await login(t, port, "bob", ["history"]);
  const second = await mailboxPages(again);
  t.same(second, { chats: [], markers: [second.markers[0]] }, "delivered chats left the mailbox");
  t.match(second.markers[0], { count: 0, more: false });
});

t.test("a client without the history feature gets every kept chat too, as ordinary chats", async (t) => {
  const { port } = (await testServer(t, UNPACED)).address;
  await awayAccount(t, port, "bob");
  const ana = await echoed(t, port, "ana");
  await sendPrivates(ana, "bob", MAILBOX_MAX_FROM_ONE, "a");
  const bob = await login(t, port, "bob");
  const got: Message[] = [];
  while (got.length < MAILBOX_MAX_FROM_ONE) {
    const msg = await bob.next();
    if (msg.type === "chat") got.push(msg);
  }
  t.same(got.map((c) => c.message), Array.from({ length: MAILBOX_MAX_FROM_ONE }, (_, i) => `a ${i}`), `${MAILBOX_MAX_FROM_ONE} chats, in order`);
  t.ok(MAILBOX_MAX_FROM_ONE > MAILBOX_PAGE, "more than a page's worth");
  t.notOk(got.some((c) => c.history), "not marked as history");
});

t.test("notices are kept for accounts only, one per room invited to, the latest MAX_NOTICES_PER_ACCOUNT, and all arrive with a waiting chat", async (t) => {
  const store = new MemoryStore();
  const { port } = (await testServer(t, { ...UNPACED, store })).address;
  await awayAccount(t, port, "bob");
  // Two inviters: one name owns at most MAX_ROOMS_OWNED rooms.
  const ana = await Peer.joined(t, port, "ana");
  const cris = await Peer.joined(t, port, "cris");
  const rooms = MAX_NOTICES_PER_ACCOUNT + 10;
  const replies: Message[] = [];
  for (let r = 0; r < rooms; r++) {
    const inviter = r % 2 ? cris : ana;
    inviter.send({ type: "enter", room: `#r${r}` });
    // Each invitation twice, with a long reason: the repeat replaces the first.
    for (const round of [1, 2]) inviter.send({ type: "invite", room: `#r${r}`, target: "bob", reason: `${round} ${"x".repeat(190)}` });
    inviter.send({ type: "invite", room: `#r${r}`, target: "ghost", reason: "no such account" });
    replies.push(...(await inviter.drain())); // one room at a time: the notices' order is the rooms' order
  }
  ana.send({ type: "invite", room: "#r0", target: "bob", reason: "y".repeat(201) });
  replies.push(...(await ana.drain()));
  t.equal(replies.filter((m) => m.type === "error").length, 1, "only the over-long reason is refused");
  t.match(replies.find((m) => m.type === "error"), { code: "bad_message" });
  t.same(await store.takeNotices("ghost"), [], "nothing is kept for a name that is no account");
  ana.send({ type: "chat", to: "bob", message: "the message that must arrive" });

  const bob = await login(t, port, "bob");
  const got = await bob.drain();
  const invites = got.filter((m) => m.type === "invite");
  t.equal(invites.length, MAX_NOTICES_PER_ACCOUNT, "the latest invitations, one per room");
  t.same(invites.map((m) => m.room), Array.from({ length: MAX_NOTICES_PER_ACCOUNT }, (_, i) => `#r${i + rooms - MAX_NOTICES_PER_ACCOUNT}`));
  t.ok(invites.every((m) => m.reason?.startsWith("2 ")), "each the latest of its room");
  t.ok(got.some((m) => m.type === "chat" && m.message === "the message that must arrive"), "the waiting private chat arrives");
});

t.test("over a WebSocket too, every page of kept chats follows the one before", async (t) => {
  const { port } = (await testServer(t, UNPACED)).address;
  await awayAccount(t, port, "bob");
  const ana = await echoed(t, port, "ana");
  const long = "x".repeat(3000); // 100 of these are two pages of 128 KiB and more than a socket's buffer
  for (let i = 0; i < MAILBOX_MAX_FROM_ONE; i++) ana.send({ type: "chat", to: "bob", message: `${i} ${long}`, ref: `w${i}` });
  for (let i = 0; i < MAILBOX_MAX_FROM_ONE; i++) t.match(await ana.next(), { type: "chat" }, `chat ${i} kept`);
  const bob = await WsPeer.connect(t, `ws://127.0.0.1:${port}/ws`);
  bob.send({ type: "join", client_name: "bob", password: "bob password" });
  t.match(await bob.next(), { type: "welcome", client_name: "bob" });
  const got: string[] = [];
  while (got.length < MAILBOX_MAX_FROM_ONE) {
    const msg = await bob.next();
    if (msg.type === "chat") got.push(msg.message.split(" ")[0]!);
  }
  t.same(got, Array.from({ length: MAILBOX_MAX_FROM_ONE }, (_, i) => String(i)), "all of them, in order");
});
