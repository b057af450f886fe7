/**
 * The hub's side of several servers, without Redis: hubs joined by a log in
 * memory that delivers every entry to every hub in one order, as the Redis
 * stream does. Pure enough to stage what a real crash makes rare: a server
 * that dies between appending a chat and storing it.
 */
import t from "tap";
import { LOBBY, Message, type MessageFields } from "../protocol.js";
import type { ClusterPort, LoggedEvent, SharedAttempts } from "../server/cluster/events.js";
import type { LogEntry } from "../server/cluster/shared-log.js";
import { Hub } from "../server/hub.js";
import { AddressPacing } from "../server/reader-pacing.js";
import { Session, type SessionLimits } from "../server/session.js";
import { RecordingTransport } from "./helpers/recording-transport.js";
import { MemoryStore, type Store, type StoredChat } from "../server/store.js";
import { RECENT_CHATS_MAX, RECENT_CHATS_MS, RecentChats } from "../server/cluster/recent-chats.js";

const NO_LIMITS: SessionLimits = { rateLimit: 0, backpressureBytes: 1 << 20, maxOutboundBytes: 1 << 24, slowReaderTimeoutMs: 60_000, addressPacing: new AddressPacing() };
const NO_ATTEMPTS: SharedAttempts = { blocked: async () => false, fail: async () => {}, succeed: async () => {} };

/** The shared log in memory: entries numbered in append order, handed to every hub in that order (a turn later, as a read would). */
class MemoryLog {
  readonly entries: Array<LogEntry<LoggedEvent>> = [];
  readonly hubs: Hub[] = [];
  private delivered = 0;

  port(server: string): ClusterPort {
    return {
      server,
      attempts: NO_ATTEMPTS,
      append: async (event) => {
        const seq = this.entries.length + 1;
        this.entries.push({ id: `${seq}-0`, seq, server, epoch: "e", event });
        setImmediate(() => this.deliver());
        return seq;
      },
    };
  }

  private deliver(): void {
    const batch = this.entries.slice(this.delivered);
    this.delivered = this.entries.length;
    for (const hub of this.hubs) hub.applyEntries(batch);
  }
}

/** A store whose chats never reach the disk: a server that dies before each commit. */
function droppingChats(store: Store): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "appendChat") return () => {};
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Waits until the log's entries so far have reached every hub. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

async function client(hub: Hub, name: string): Promise<{ session: Session; sent: Message[]; send(fields: MessageFields): Promise<void> }> {
  const transport = new RecordingTransport();
  const session = new Session(transport, hub, NO_LIMITS);
  const send = async (fields: MessageFields) => {
    await hub.handle(session, new Message(fields));
    await settled();
  };
  await send({ type: "join", client_name: name });
  if (transport.sent[0]?.type !== "welcome") throw new Error(`${name}: ${JSON.stringify(transport.sent[0])}`);
  return { session, sent: transport.sent, send };
}

t.test("two hubs on one log hold the same chat; a chat its dying server never stored is stored by the survivor", async (t) => {
  const log = new MemoryLog();
  const shared = new MemoryStore();
  const a = await Hub.create({ store: droppingChats(shared), cluster: log.port("a") });
  const b = await Hub.create({ store: shared, cluster: log.port("b") });
  log.hubs.push(a, b);
  a.caughtUp();
  b.caughtUp();
  const ana = await client(a, "ana");
  const bruno = await client(b, "bruno");
  t.same(a.users, ["ana", "bruno"]);
  t.same(b.users, ["ana", "bruno"], "both hubs see both clients");

  await ana.send({ type: "chat", message: "guardado?" });
  t.match(bruno.sent.at(-1), { type: "chat", client_name: "ana", message: "guardado?" }, "delivered on the other server");
  t.same((await shared.chatsBefore(LOBBY, 10)).chats, [], "its own server died before storing it");

  await log.port("b").append({ kind: "gone", server: "a", reason: "lost", token: "gone a" });
  await settled();
  t.match(bruno.sent.at(-1), { type: "leave", client_name: "ana", reason: "lost" });
  t.same(b.users, ["bruno"]);
  // The survivor checks the store, then writes: a few turns later, with no event of its own to wait on.
  for (let turn = 0; turn < 100 && (await shared.chatsBefore(LOBBY, 10)).chats.length === 0; turn++) await settled();
  t.match((await shared.chatsBefore(LOBBY, 10)).chats, [{ client_name: "ana", message: "guardado?" }], "the survivor that cleaned up stored it");
});

t.test("a server's recent chats are kept for RECENT_CHATS_MS, at most RECENT_CHATS_MAX, and taken once", async (t) => {
  let now = 0;
  const recent = new RecentChats(() => now);
  const chat = (n: number): StoredChat => ({ id: String(n), conversation: LOBBY, client_name: "ana", subject: "", message: `${n}`, date: "" });
  recent.add("a", chat(1));
  now = RECENT_CHATS_MS / 2;
  recent.add("a", chat(2), "bob");
  recent.add("b", chat(3));
  now = RECENT_CHATS_MS + 1;
  recent.add("a", chat(4));
  t.same(recent.take("a").map(({ chat, offlineFor }) => [chat.id, offlineFor]), [["2", "bob"], ["4", undefined]], "older than RECENT_CHATS_MS: gone");
  t.same(recent.take("a"), [], "taken once");
  recent.forget("b");
  t.same(recent.take("b"), []);
  for (let n = 0; n < RECENT_CHATS_MAX + 10; n++) recent.add("c", chat(n));
  const kept = recent.take("c");
  t.equal(kept.length, RECENT_CHATS_MAX);
  t.equal(kept[0]!.chat.id, "10", "the oldest go first");
});

/** Two hubs, "a" and "b", on one log and one store, both caught up. */
async function twoServers(): Promise<{ log: MemoryLog; store: MemoryStore; a: Hub; b: Hub }> {
  const log = new MemoryLog();
  const store = new MemoryStore();
  const a = await Hub.create({ store, cluster: log.port("a") });
  const b = await Hub.create({ store, cluster: log.port("b") });
  log.hubs.push(a, b);
  a.caughtUp();
  b.caughtUp();
  return { log, store, a, b };
}

t.test("what a client sent just before it quit is applied on its own server too, and stored", async (t) => {
  const { store, a, b } = await twoServers();
  const ana = await client(a, "ana");
  const ann = await client(a, "ann");
  const bruno = await client(b, "bruno");
  void a.handle(ana.session, new Message({ type: "chat", message: "tchau" }));
  ana.session.disconnect("quit"); // its connection closes before its chat comes back from the log
  await settled();
  await settled();
  t.ok(ann.sent.some((m) => m.message === "tchau"), "delivered on its own server");
  t.ok(bruno.sent.some((m) => m.message === "tchau"), "and on the other");
  t.match((await store.chatsBefore(LOBBY, 10)).chats, [{ message: "tchau" }], "and stored by its own server");
  t.same(a.users, ["ann", "bruno"]);
  t.same(b.users, ["ann", "bruno"]);
});

t.test("a reader cut off as slow while a chat is delivered leaves every server", async (t) => {
  const { a, b } = await twoServers();
  const transport = new RecordingTransport();
  const ana = new Session(transport, a, { ...NO_LIMITS, maxOutboundBytes: 10 });
  await a.handle(ana, new Message({ type: "join", client_name: "ana" }));
  await settled();
  const bruno = await client(b, "bruno");
  Object.defineProperty(transport, "bufferedBytes", { value: 1_000 }); // ana stops reading
  await bruno.send({ type: "chat", message: "olá" });
  await settled();
  t.same(a.users, ["bruno"]);
  t.same(b.users, ["bruno"], "the other server hears it from the log");
});

t.test("no password goes into the log", async (t) => {
  const { log, a } = await twoServers();
  const ana = await client(a, "ana");
  await ana.send({ type: "register", password: "senha-secreta-1" });
  t.match(ana.sent.at(-1), { type: "registered" });
  t.equal(log.entries.filter((entry) => JSON.stringify(entry.event).includes("senha-secreta-1")).length, 0);
});

t.test("a join whose client closed before it came back is applied alike everywhere", async (t) => {
  const { a, b } = await twoServers();
  const first = new Session(new RecordingTransport(), a, NO_LIMITS);
  const second = new Session(new RecordingTransport(), a, NO_LIMITS);
  const joins = [a.handle(first, new Message({ type: "join", client_name: "bob" })), a.handle(second, new Message({ type: "join", client_name: "bob" }))];
  for (let i = 0; i < 50; i++) await Promise.resolve(); // both appended, neither read back
  first.transportClosed("quit");
  await Promise.all(joins);
  await settled();
  await settled();
  t.same(a.users, b.users, "both servers agree");
});

t.test("a roster is older than what changed after it: a part, a join", async (t) => {
  const { log, a, b } = await twoServers();
  const ana = await client(a, "ana");
  await ana.send({ type: "enter", room: "#r" });
  const bruno = await client(b, "bruno");
  await bruno.send({ type: "enter", room: "#r" });
  void log.port("c").append({ kind: "hello", server: "c", token: "hello c" }); // b's roster, with bruno in #r, follows
  void b.handle(bruno.session, new Message({ type: "part", room: "#r" })); // appended before that roster is applied
  await settled();
  await settled();
  await ana.send({ type: "list", room: "#r" });
  t.same(ana.sent.filter((m) => m.type === "list").at(-1)?.users, ["ana"], "bruno's part stands");

  void log.port("b").append({ kind: "gone", server: "a", reason: "lost", token: "gone a" }); // a is taken for dead: its roster follows
  const carl = await client(a, "carl"); // joins between a's gone and a's roster
  await settled();
  t.ok(carl.session.joined);
  t.same(a.users, ["ana", "bruno", "carl"]);
  t.same(b.users, ["ana", "bruno", "carl"], "the roster, made before carl joined, does not remove carl");
});

t.test("one server alone: a seed's bare message to an account that is away is kept for it, as before", async (t) => {
  const store = new MemoryStore();
  const hub = await Hub.create({ store });
  await store.createAccount({ key: "zed", name: "zed", passwordHash: "x", created: new Date().toISOString() });
  const transport = new RecordingTransport();
  const seed = new Message({ type: "chat", client_name: "joao", message: "oi zed", to: "zed" });
  seed.bare = true;
  await hub.handle(new Session(transport, hub, NO_LIMITS), seed);
  t.same(transport.sent.filter((m) => m.type === "error"), []);
  t.equal((await store.offlineChats("zed", 10)).chats.length, 1);
});

t.test("a chat applied between a join's replay and the join itself reaches the joining client, once", async (t) => {
  const { a, b } = await twoServers();
  const bruno = await client(b, "bruno");
  await bruno.send({ type: "chat", message: "antes" });
  const transport = new RecordingTransport();
  const ana = new Session(transport, a, NO_LIMITS);
  const joined = a.handle(ana, new Message({ type: "join", client_name: "ana", features: ["history"] }));
  void b.handle(bruno.session, new Message({ type: "chat", message: "durante" })); // appended before ana's join; applied after her replay was read
  await joined;
  await settled();
  await bruno.send({ type: "chat", message: "depois" });
  const chats = transport.sent.filter((m) => m.type === "chat").map((m) => `${m.message}${m.history ? " (history)" : ""}`);
  t.same(chats, ["antes (history)", "durante", "depois"], "replayed, caught up, then live: each once, in order");
});
