/** Version 2 over real sockets: features, echo and ref, accounts, history, offline messages. */
import fs from "node:fs";
import path from "node:path";
import t from "tap";
import { encode, type Message, type MessageFields } from "../protocol.js";
import { MAX_FAILED_LOGINS } from "../server/passwords.js";
import { tempDir, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** Cheap hashes: the tests register many accounts. The cost itself is tested in tests/passwords.test.ts. */
const FAST = { passwordCostLog2: 10 };

type Tester = import("tap").Test;

/** Connects and sends a join with these fields; returns the peer and the answer. */
async function join(t: Tester, port: number, fields: Partial<MessageFields>): Promise<[Peer, Message]> {
  const peer = await Peer.connect(t, port);
  peer.send({ type: "join", ...fields } as MessageFields);
  return [peer, await peer.next()];
}

async function registered(t: Tester, port: number, name: string, password: string): Promise<Peer> {
  const peer = await Peer.joined(t, port, name);
  peer.send({ type: "register", password, ref: "r1" });
  t.match(await peer.next(), { type: "registered", client_name: name, ref: "r1" });
  return peer;
}

t.test("features: welcome lists the accepted ones and ignores the unknown", async (t) => {
  const { port } = (await testServer(t)).address;
  const [, welcome] = await join(t, port, { client_name: "ana", features: ["echo", "teleport", "ping"], ref: "j" });
  t.match(welcome, { type: "welcome", ref: "j", account: false });
  t.same([...welcome.features!].sort(), ["echo", "ping"]);
});

t.test("echo: the sender gets its accepted chat back with id, date and ref; others get it without ref", async (t) => {
  const { port } = (await testServer(t)).address;
  const [ana] = await join(t, port, { client_name: "ana", features: ["echo"] });
  const bruno = await Peer.joined(t, port, "bruno");
  await ana.drain();
  ana.send({ type: "chat", message: "hello", ref: "7" });
  const echo = await ana.next();
  const live = await bruno.next();
  t.match(echo, { type: "chat", client_name: "ana", message: "hello", ref: "7", room: "#general", id: /^\d{16}$/ });
  t.match(live, { type: "chat", client_name: "ana", message: "hello", id: echo.id, date: echo.date });
  t.notOk("ref" in live.toJSON(), "others never see the sender's ref");
  ana.send({ type: "chat", message: "x", to: "nobody", ref: "8" });
  t.match(await ana.next(), { type: "error", code: "unknown_recipient", ref: "8" });
  ana.send({ type: "chat", message: "psst", to: "BRUNO", ref: "9" });
  t.match(await ana.next(), { type: "chat", to: "bruno", ref: "9" });
  t.match(await bruno.next(), { type: "chat", to: "bruno", message: "psst" });
});

t.test("ids increase with every chat, lobby and private alike", async (t) => {
  const { port } = (await testServer(t)).address;
  const [ana] = await join(t, port, { client_name: "ana", features: ["echo"] });
  await join(t, port, { client_name: "bruno" });
  await ana.drain(); // bruno's join
  const ids: string[] = [];
  for (const to of [undefined, "bruno", undefined]) {
    ana.send({ type: "chat", message: "m", ...(to && { to }) });
    ids.push((await ana.next()).id!);
  }
  t.same([...ids].sort(), ids);
  t.equal(new Set(ids).size, 3);
});

t.test("register: the name is reserved, offline too; the right password logs in", async (t) => {
  const server = await testServer(t, FAST);
  const { port } = server.address;
  const ana = await registered(t, port, "ana", "correct horse");
  ana.send({ type: "register", password: "another one" });
  t.match(await ana.next(), { type: "error", code: "name_registered" });
  ana.send({ type: "quit" });
  await ana.expectClosed();

  const [stranger, refused] = await join(t, port, { client_name: "ANA" });
  t.match(refused, { type: "error", code: "password_required" });
  stranger.send({ type: "join", client_name: "ana", password: "wrong password" });
  t.match(await stranger.next(), { type: "error", code: "bad_password" });
  stranger.send({ type: "join", client_name: "ana", password: "correct horse" });
  t.match(await stranger.next(), { type: "welcome", client_name: "ana", account: true });
});

t.test("register: a password under 8 characters is weak; a password on an unregistered name is ignored", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const [peer, welcome] = await join(t, port, { client_name: "bia", password: "whatever1" });
  t.match(welcome, { type: "welcome", client_name: "bia", account: false });
  peer.send({ type: "register", password: "short" });
  t.match(await peer.next(), { type: "error", code: "weak_password" });
});

t.test("a seed client implicitly joining under a registered name gets a Usuario name; Usuario<N> skips registered names", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const first = await registered(t, port, "Usuario0", "password 0");
  first.send({ type: "quit" });
  await first.expectClosed();
  const [, anonymous] = await join(t, port, { client_name: "" });
  t.match(anonymous, { type: "welcome", client_name: "Usuario1" });
  await registered(t, port, "carla", "password c");
  const seed = await Peer.connect(t, port);
  seed.send({ client_name: "carla", subject: "", message: "oi", date: "" } as never);
  t.match(await seed.next(), { type: "welcome", client_name: "Usuario2", message: /registered/ });
  t.match(await seed.next(), { type: "chat", client_name: "Usuario2", message: "oi" });
});

t.test("after 5 wrong passwords from one address, that address gets too_many_attempts, even with the right one", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const owner = await registered(t, port, "dora", "dora's secret");
  owner.send({ type: "quit" });
  await owner.expectClosed();
  const guesser = await Peer.connect(t, port);
  for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
    guesser.send({ type: "join", client_name: "dora", password: `guess ${i}` });
    t.match(await guesser.next(), { type: "error", code: "bad_password" });
  }
  guesser.send({ type: "join", client_name: "dora", password: "dora's secret" });
  t.match(await guesser.next(), { type: "error", code: "too_many_attempts" });
});

t.test("the right password takes over a stale connection; the others see no leave and no join", async (t) => {
  const server = await testServer(t, FAST);
  const { port } = server.address;
  const witness = await Peer.joined(t, port, "witness");
  const stale = await registered(t, port, "eva", "eva password");
  t.match(await witness.next(), { type: "join", client_name: "eva" });
  const [fresh, welcome] = await join(t, port, { client_name: "eva", password: "eva password" });
  t.match(welcome, { type: "welcome", client_name: "eva", account: true });
  t.match(await stale.next(), { type: "error", code: "logged_in_elsewhere" });
  await stale.expectClosed();
  fresh.send({ type: "chat", message: "still me" });
  t.match(await witness.next(), { type: "chat", client_name: "eva", message: "still me" }, "no leave or join before it");
  t.same(server.users, ["eva", "witness"]);
});

t.test("history: replayed after welcome for the history feature only, then the marker; paging with before", async (t) => {
  const { port } = (await testServer(t, { history: 3 })).address;
  const ana = await Peer.joined(t, port, "ana");
  for (let i = 1; i <= 5; i++) ana.send({ type: "chat", message: `m${i}` });
  await ana.drain();
  const [plain, plainWelcome] = await join(t, port, { client_name: "v1" });
  t.match(plainWelcome, { type: "welcome" });
  t.same(await plain.drain(), [], "a version 1 client gets no replay");

  const [reader, welcome] = await join(t, port, { client_name: "reader", features: ["history"] });
  t.match(welcome, { type: "welcome" });
  const replay = [await reader.next(), await reader.next(), await reader.next()];
  t.match(replay, [
    { type: "chat", message: "m3", history: true, client_name: "ana", room: "#general" },
    { type: "chat", message: "m4", history: true },
    { type: "chat", message: "m5", history: true },
  ]);
  t.match(await reader.next(), { type: "history", room: "#general", count: 3, more: true });
  reader.send({ type: "history", room: "#general", before: replay[0]!.id, limit: 10, ref: "h" });
  t.match([await reader.next(), await reader.next()], [{ message: "m1" }, { message: "m2" }]);
  t.match(await reader.next(), { type: "history", count: 2, more: false, ref: "h" });
});

t.test("offline private messages: accepted for a registered name, delivered at its next login", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const fabio = await registered(t, port, "fabio", "fabio pass");
  fabio.send({ type: "quit" });
  await fabio.expectClosed();
  const [gil] = await join(t, port, { client_name: "gil", features: ["echo"] });
  gil.send({ type: "chat", to: "fabio", message: "while you were out", ref: "o" });
  t.match(await gil.next(), { type: "chat", to: "fabio", ref: "o", id: /\d+/ }, "accepted: the echo");
  gil.send({ type: "chat", to: "ghost", message: "?" });
  t.match(await gil.next(), { type: "error", code: "unknown_recipient" }, "an unregistered offline name is still unknown");

  const [back, welcome] = await join(t, port, { client_name: "fabio", password: "fabio pass", features: ["history"] });
  t.match(welcome, { type: "welcome", account: true });
  t.match(await back.next(), { type: "history", room: "#general" }, "the lobby's replay first");
  t.match(await back.next(), { type: "chat", client_name: "gil", to: "fabio", message: "while you were out", history: true });
  const marker = await back.next();
  t.match(marker, { type: "history", count: 1 });
  t.notOk("room" in marker.toJSON(), "the offline marker has no room");
  back.send({ type: "history", with: "gil", ref: "w" });
  t.match(await back.next(), { type: "chat", message: "while you were out", history: true });
  t.match(await back.next(), { type: "history", with: "gil", count: 1, ref: "w" });

  back.send({ type: "quit" });
  await back.expectClosed();
  const [again] = await join(t, port, { client_name: "fabio", password: "fabio pass" });
  t.same(await again.drain(), [], "delivered once only");
});

t.test("a version 1 client logging in gets its missed private messages as ordinary chats", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const hugo = await registered(t, port, "hugo", "hugo pass");
  hugo.send({ type: "quit" });
  await hugo.expectClosed();
  const ivo = await Peer.joined(t, port, "ivo");
  ivo.send({ type: "chat", to: "hugo", message: "later" });
  await ivo.drain();
  const [back] = await join(t, port, { client_name: "hugo", password: "hugo pass" });
  const missed = await back.next();
  t.match(missed, { type: "chat", client_name: "ivo", message: "later", to: "hugo" });
  t.notOk(missed.history, "not marked as history");
});

t.test("a restart on the same database keeps accounts and history; passwords are nowhere in the file or the log", async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, "chat.db");
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const first = await testServer(t, { ...FAST, db, log });
  const ana = await registered(t, first.address.port, "ana", "s3cret-Pa55word");
  ana.send({ type: "chat", message: "remember me" });
  await ana.drain();
  await first.close();

  const second = await testServer(t, { ...FAST, db, log });
  const [back, welcome] = await join(t, second.address.port, { client_name: "ana", password: "s3cret-Pa55word", features: ["history"] });
  t.match(welcome, { type: "welcome", account: true });
  t.match(await back.next(), { type: "chat", message: "remember me", history: true });
  await second.close();

  for (const file of fs.readdirSync(dir)) {
    t.notOk(fs.readFileSync(path.join(dir, file)).includes("s3cret-Pa55word"), `not in ${file}`);
  }
  t.notOk(lines.join("\n").includes("s3cret"), "not in the log");
});

t.test("a chat and its frame: room with to is bad_message; a room one is not in is not_in_room", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  ana.send({ type: "chat", message: "x", room: "#general", to: "ana", ref: "a" });
  t.match(await ana.next(), { type: "error", code: "bad_message", ref: "a" });
  ana.send({ type: "chat", message: "x", room: "#elsewhere", ref: "b" });
  t.match(await ana.next(), { type: "error", code: "not_in_room", ref: "b" });
  ana.socket.write(encode({ type: "chat", message: "to the lobby", room: "#GENERAL" }));
  t.same(await ana.drain(), [], "the lobby by any case: delivered (to nobody else here), no error");
});

t.test("lists are sorted by name without regard to case, not by the comparison skeleton", async (t) => {
  const { port } = (await testServer(t)).address;
  for (const name of ["bob", "Usuario0", "Ana", "Usuario2"]) await Peer.joined(t, port, name);
  const [peer] = await join(t, port, { client_name: "carl" });
  peer.send({ type: "list" });
  t.match(await peer.next(), { type: "list", users: ["Ana", "bob", "carl", "Usuario0", "Usuario2"] });
});

t.test("a null field reads as absent (to: null is a chat to everyone); a subject over 200 characters is refused", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  const bruno = await Peer.joined(t, port, "bruno");
  await ana.drain();
  const body = JSON.stringify({ type: "chat", message: "to all", to: null, subject: null });
  ana.send(`Content-length: ${Buffer.byteLength(body)}\n${body}`);
  t.match(await bruno.next(), { type: "chat", message: "to all", subject: "" });
  ana.send({ type: "chat", message: "x", subject: "s".repeat(201) });
  t.match(await ana.next(), { type: "error", code: "bad_message", message: /at most 200 characters/ });
});

t.test("a lobby of long messages does not get a newcomer cut off: the replay fits a budget and says more are kept", async (t) => {
  const { port } = (await testServer(t, { rateLimit: 0 })).address;
  const talker = await Peer.joined(t, port, "talker");
  const long = "x".repeat(60_000);
  for (let i = 0; i < 20; i++) talker.send({ type: "chat", message: `${i} ${long}` });
  await talker.drain();
  const [reader, welcome] = await join(t, port, { client_name: "reader", features: ["history"] });
  t.match(welcome, { type: "welcome" });
  const replayed: Message[] = [];
  for (let msg = await reader.next(); msg.type === "chat"; msg = await reader.next()) replayed.push(msg);
  t.ok(replayed.length > 0 && replayed.length < 20, `some of the latest (${replayed.length})`);
  t.ok(replayed.at(-1)!.message.startsWith("19 "), "ending with the latest");
  reader.send({ type: "list", ref: "still here" });
  t.match(await reader.next(), { type: "list", ref: "still here" });
});

t.test("a guest cannot read back a private conversation that its name had with someone", async (t) => {
  const { port } = (await testServer(t)).address;
  const alice = await Peer.joined(t, port, "alice");
  const bob = await Peer.joined(t, port, "bob");
  alice.send({ type: "chat", to: "bob", message: "my PIN is 4711" });
  await bob.next();
  bob.send({ type: "quit" });
  await bob.expectClosed();
  const [eve] = await join(t, port, { client_name: "bob" });
  eve.send({ type: "history", with: "alice" });
  t.match(await eve.next(), { type: "error", code: "not_registered" });
});

t.test("parallel wrong passwords from one address are limited like sequential ones", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const owner = await registered(t, port, "zoe", "zoe's password");
  owner.send({ type: "quit" });
  await owner.expectClosed();
  const guessers = await Promise.all(Array.from({ length: 12 }, () => Peer.connect(t, port)));
  for (const [i, g] of guessers.entries()) g.send({ type: "join", client_name: "zoe", password: `guess ${i}` });
  const codes = await Promise.all(guessers.map(async (g) => (await g.next()).code));
  t.ok(codes.filter((c) => c === "bad_password").length <= 5, `at most 5 guesses checked (${codes.join(", ")})`);
});
