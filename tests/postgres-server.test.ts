/**
 * The server on PostgreSQL, as a user meets it: a SQLite chat moved over with
 * `--import`, then served from PostgreSQL; a database that goes away under a
 * running server and comes back. One embedded PostgreSQL for the file.
 */
import path from "node:path";
import t from "tap";
import type { Message, MessageFields } from "../protocol.js";
import { ImportRefusedError, importSqlite } from "../server/import-sqlite.js";
import { PostgresStore } from "../server/postgres-store.js";
import { SqliteStore } from "../server/sqlite-store.js";
import { chatId } from "../server/store.js";
import { Script, tempDir, testServer, within, type Teardown } from "./helpers/helpers.js";
import { Relay, startPostgres } from "./helpers/postgres.js";
import { Peer } from "./helpers/test-clients.js";

const postgres = await startPostgres(t);

async function ask(peer: Peer, fields: Partial<MessageFields> & { type: MessageFields["type"] }): Promise<Message> {
  peer.send(fields as MessageFields);
  return peer.next();
}

/** Joins under `name` with these fields; fails unless welcomed. */
async function joined(t: Teardown, port: number, name: string, fields: Partial<MessageFields> = {}): Promise<Peer> {
  const peer = await Peer.connect(t, port);
  const welcome = await ask(peer, { type: "join", client_name: name, ...fields });
  if (welcome.type !== "welcome") throw new Error(`${name} was not welcomed: ${JSON.stringify(welcome)}`);
  return peer;
}

/** A SQLite chat made as users make one: two accounts, a room with a topic and history, an offline message. */
async function sqliteChat(t: Teardown): Promise<string> {
  const file = path.join(tempDir(t), "chat.db");
  const server = await testServer(t, { db: file });
  const { port } = server.address;
  const bruno = await joined(t, port, "bruno");
  await ask(bruno, { type: "register", password: "bruno password" });
  bruno.send({ type: "quit" });
  await bruno.expectClosed();
  const ana = await joined(t, port, "ana");
  await ask(ana, { type: "register", password: "ana password" });
  await ask(ana, { type: "enter", room: "#provas" });
  ana.send({ type: "topic", room: "#provas", topic: "sexta" });
  for (let i = 1; i <= 5; i++) ana.send({ type: "chat", room: "#provas", message: `m${i}` });
  ana.send({ type: "chat", to: "bruno", message: "while you were away" });
  await ana.drain();
  await server.close();
  return file;
}

/** server.ts run to its end with these arguments. */
async function runServerScript(t: Teardown, args: string[]) {
  const script = new Script(t, "server.ts", args);
  const { code } = await within(script.exited, `server.ts ${args.join(" ")}`, 30_000);
  return { code, stdout: script.stdout, stderr: script.stderr };
}

t.test("--import copies a SQLite chat into an empty database, refuses a second time, and a server on it has the same chat", async (t) => {
  const file = await sqliteChat(t);
  const url = await postgres.freshDatabase(t);
  const password = decodeURIComponent(new URL(url).password);

  const imported = await runServerScript(t, ["--db", url, "--import", file]);
  t.equal(imported.code, 0, imported.stderr);
  for (const [what, n] of [["accounts", 2], ["rooms", 1], ["chats", 6], ["offline", 1], ["bans", 0], ["friendships", 0], ["notices", 0]] as const) {
    t.match(imported.stdout, new RegExp(`^\\s+${what}\\s+${n}$`, "m"), `${n} ${what}`);
  }
  if (password) t.notOk(imported.stdout.includes(password), "the password is masked");

  const again = await runServerScript(t, ["--db", url, "--import", file]);
  t.equal(again.code, 1);
  t.match(again.stderr, /already holds a chat .*--import copies only into an empty database/);

  const server = new Script(t, "server.ts", ["--port", "0", "--db", url]);
  const [, port] = await server.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m);
  await server.waitFor(/database: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
  const ana = await Peer.connect(t, Number(port));
  t.match(await ask(ana, { type: "join", client_name: "ana", password: "ana password", features: ["history", "echo"] }), {
    type: "welcome",
    account: true,
    rooms: ["#provas"],
  });
  const replay = (await ana.drain()).filter((m) => m.room === "#provas" && m.type === "chat");
  t.same(replay.map((m) => m.message), ["m1", "m2", "m3", "m4", "m5"], "the room's history replayed");
  ana.send({ type: "history", room: "#provas", before: replay[2]!.id, limit: 10, ref: "h" });
  t.match([await ana.next(), await ana.next(), await ana.next()], [{ message: "m1" }, { message: "m2" }, { type: "history", count: 2, more: false, ref: "h" }]);
  t.match(await ask(ana, { type: "rooms" }), { rooms: [{ room: "#general" }, { room: "#provas", topic: "sexta" }] }, "the topic is back");
  const echo = await ask(ana, { type: "chat", room: "#provas", message: "on PostgreSQL", ref: "c" });
  t.match(echo, { type: "chat", ref: "c" });
  t.ok(echo.id! > replay.at(-1)!.id!, "new chats are numbered after the imported ones");
  const bruno = await Peer.connect(t, Number(port));
  t.match(await ask(bruno, { type: "join", client_name: "bruno", password: "bruno password", features: ["history"] }), { type: "welcome", account: true });
  t.ok((await bruno.drain()).some((m) => m.message === "while you were away"), "the offline message is delivered");
  server.child.kill("SIGTERM");
  t.match(await server.exited, { code: 0 });
});

t.test("a database that goes away: clients stay, what needs it is unavailable, nothing unstored is echoed, and it recovers alone", async (t) => {
  const url = await postgres.freshDatabase(t);
  const relay = await Relay.start(t, url);
  let back: () => void = () => {};
  const reconnected = new Promise<void>((resolve) => (back = resolve));
  const store = await PostgresStore.open(relay.through(url), { onError: (e) => /reachable again/.test(e.message) && back() });
  const { port } = (await testServer(t, { store })).address;
  const ana = await joined(t, port, "ana", { features: ["echo"] });
  const bruno = await joined(t, port, "bruno");
  await ana.drain();
  t.match(await ask(ana, { type: "chat", message: "before", ref: "1" }), { type: "chat", ref: "1" });
  await bruno.drain();

  await relay.cut();
  t.match(await ask(ana, { type: "chat", message: "during", ref: "2" }), { type: "error", code: "unavailable", ref: "2" }, "not echoed: not stored");
  const carla = await Peer.connect(t, port);
  t.match(await ask(carla, { type: "join", client_name: "carla", ref: "j" }), { type: "error", code: "unavailable", ref: "j" }, "a join needs the store");
  t.same((await ana.drain()).filter((m) => m.type === "leave"), [], "no one was disconnected");

  await relay.restore();
  await within(reconnected, "the store to reconnect by itself", 10_000);
  t.match(await ask(ana, { type: "chat", message: "after", ref: "3" }), { type: "chat", message: "after", ref: "3" }, "echoed again, no restart");
  const reader = await joined(t, port, "reader", { features: ["history"] });
  const history = (await reader.drain()).filter((m) => m.type === "chat").map((m) => m.message);
  t.same(history, ["before", "after"], "the history holds what was echoed, and not what was refused");
});

t.test("rooms, bans and accounts survive a restart on PostgreSQL; two servers may open one database at once", async (t) => {
  const url = await postgres.freshDatabase(t);
  const first = await testServer(t, { db: url });
  const second = await testServer(t, { db: url }); // no lock file: PostgreSQL takes several writers
  const ana = await joined(t, first.address.port, "ana");
  await ask(ana, { type: "register", password: "ana password" });
  await ask(ana, { type: "enter", room: "#provas" });
  ana.send({ type: "topic", room: "#provas", topic: "sexta" });
  ana.send({ type: "chat", room: "#provas", message: "lembrem" });
  ana.send({ type: "ban", room: "#provas", target: "carla" });
  await ana.drain();
  await first.close();
  await second.close();

  const third = await testServer(t, { db: url });
  const back = await Peer.connect(t, third.address.port);
  t.match(await ask(back, { type: "join", client_name: "ana", password: "ana password", features: ["history"] }), { type: "welcome", rooms: ["#provas"] });
  t.ok((await back.drain()).some((m) => m.message === "lembrem" && m.history), "the room's history");
  const carla = await joined(t, third.address.port, "carla");
  t.match(await ask(carla, { type: "enter", room: "#provas" }), { type: "error", code: "banned" });
  t.match(await ask(carla, { type: "rooms" }), { rooms: [{ room: "#general" }, { room: "#provas", topic: "sexta" }] });
});

t.test("importSqlite copies every table exactly (text with NULs, notice order), and chat numbers never go back", async (t) => {
  const file = path.join(tempDir(t), "chat.db");
  const sqlite = SqliteStore.open(file);
  await sqlite.createAccount({ key: "bob", name: "bob", passwordHash: "h", created: "c" }); // notices are kept for accounts only
  const odd = { id: chatId(7), conversation: "#dev", client_name: "ana", room: "#dev", subject: "a\u0000b", message: "\uffffstarts with the mark", date: "d" };
  sqlite.appendChat(odd);
  sqlite.appendChat({ ...odd, id: chatId(9), conversation: "@ana bob", room: undefined, to: "bob", message: "private" }, "bob");
  sqlite.saveBan({ kind: "address", value: "10.0.0.1", reason: "flood", actor: "ana", date: "d" });
  sqlite.saveFriendship({ from: "ana", to: "bob", status: "requested" });
  for (let n = 0; n < 3; n++) sqlite.addNotice("bob", `about ${n}`, { n, text: "x\u0000" });
  sqlite.addNotice("bob", "about 0", { n: 3, text: "replaces the first" });
  await sqlite.close();
  const url = await postgres.freshDatabase(t);
  // A server ran on the empty database once: it reserved numbers the import must not hand out again.
  const earlier = await PostgresStore.open(url);
  const reserved = await earlier.reserveChatNumbers(10_000);
  await earlier.close();

  t.same(await importSqlite(file, url), { accounts: 1, rooms: 0, chats: 2, offline: 1, bans: 1, friendships: 1, notices: 3 });
  const store = await PostgresStore.open(url);
  t.teardown(() => store.close());
  t.same((await store.chatsBefore("#dev", 5)).chats, [odd]);
  t.same((await store.offlineChats("bob", 10)).chats.map((c) => c.message), ["private"]);
  t.same(await store.takeNotices("bob"), [{ n: 1, text: "x\u0000" }, { n: 2, text: "x\u0000" }, { n: 3, text: "replaces the first" }]);
  store.addNotice("bob", "about 2", { n: 4 });
  store.addNotice("bob", "about 2", { n: 5 });
  store.addNotice("bob", "about 5", { n: 6 });
  t.same(await store.takeNotices("bob"), [{ n: 5 }, { n: 6 }], "an imported subject is replaced as a new one is");
  t.same((await store.loadBans()).map((b) => b.value), ["10.0.0.1"]);
  t.same(await store.friendships("bob"), [{ from: "ana", to: "bob", status: "requested" }]);
  t.ok((await store.reserveChatNumbers(1)) >= reserved + 10_000, "after the numbers reserved before the import");
  await t.rejects(importSqlite(file, url), ImportRefusedError, "not twice");
});

t.test("server.ts: --import needs a PostgreSQL --db; a database it cannot reach at start is one line and exit 1", async (t) => {
  const usage = await runServerScript(t, ["--import", "chat.db"]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--import needs --db postgres:\/\//);
  const relay = await Relay.start(t, postgres.url("postgres"));
  await relay.cut(); // a port nothing listens on
  const dead = relay.through("postgres://chat:secret@127.0.0.1:1/chat");
  const refused = await runServerScript(t, ["--port", "0", "--db", dead]);
  t.equal(refused.code, 1);
  t.match(refused.stderr.trim(), /^Cannot use the database postgres:\/\/chat:\*\*\*@127\.0\.0\.1:\d+\/chat: .*ECONNREFUSED/);
  t.notOk(refused.stderr.includes("secret"), "the password is masked");
  const missing = await runServerScript(t, ["--db", postgres.url("postgres"), "--import", "no-such.db"]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /There is no SQLite database at .*no-such\.db/);
});

// Last: it stops the file's PostgreSQL under every database on it.
t.test("PostgreSQL stopped and started under a running server: unavailable meanwhile, then everything works, nothing echoed lost", { skip: postgres.control ? false : "POSTGRES_URL names a server this test cannot restart" }, async (t) => {
  const control = postgres.control!;
  const url = await postgres.freshDatabase(t);
  let back: () => void = () => {};
  const reconnected = new Promise<void>((resolve) => (back = resolve));
  const store = await PostgresStore.open(url, { onError: (e) => /reachable again/.test(e.message) && back() });
  const { port } = (await testServer(t, { store })).address;
  const ana = await joined(t, port, "ana", { features: ["echo"] });
  t.match(await ask(ana, { type: "chat", message: "before", ref: "1" }), { type: "chat", ref: "1" });

  await control.stop();
  t.match(await ask(ana, { type: "chat", message: "during", ref: "2" }), { type: "error", code: "unavailable", ref: "2" });
  await control.start();
  await within(reconnected, "the store to reconnect by itself", 15_000);
  t.match(await ask(ana, { type: "chat", message: "after", ref: "3" }), { type: "chat", ref: "3" });
  const reader = await joined(t, port, "reader", { features: ["history"] });
  t.same((await reader.drain()).filter((m) => m.type === "chat").map((m) => m.message), ["before", "after"]);
});
