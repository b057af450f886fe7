/**
 * The hub's table of handlers: what each type needs of the session is
 * checked once, in `handle()`, and answered with the codes and sentences
 * clients have always read. Sessions here talk to the hub through a
 * recording transport: no sockets (server.test.ts has those).
 */
import t from "tap";
import { CLIENT_TYPES, Message, SERVER_TYPES, type MessageFields } from "../protocol.js";
import { Hub } from "../server/hub.js";
import { AddressPacing } from "../server/reader-pacing.js";
import { Session, type SessionLimits } from "../server/session.js";
import { RecordingTransport } from "./helpers/recording-transport.js";
import { MemoryStore } from "../server/store.js";

/** The cheapest scrypt cost the hub accepts: registering in a test should not take a second. */
const TEST_PASSWORD_COST_LOG2 = 4;
const PASSWORD = "a long enough password";
const NO_LIMITS: SessionLimits = { rateLimit: 0, backpressureBytes: 1 << 20, maxOutboundBytes: 1 << 24, slowReaderTimeoutMs: 60_000, addressPacing: new AddressPacing() };
const SERVER_ONLY_TYPES = SERVER_TYPES.filter((type) => !(CLIENT_TYPES as readonly string[]).includes(type));

interface Client {
  session: Session;
  transport: RecordingTransport;
  /** Hands the hub one frame and returns what it answered, once its handler has finished. */
  ask(fields: MessageFields, options?: { bare?: boolean }): Promise<Message[]>;
}

async function newHub(): Promise<Hub> {
  return Hub.create({ store: new MemoryStore(), passwordCostLog2: TEST_PASSWORD_COST_LOG2 });
}

function connect(hub: Hub): Client {
  const transport = new RecordingTransport();
  const session = new Session(transport, hub, NO_LIMITS);
  const ask = async (fields: MessageFields, options: { bare?: boolean } = {}) => {
    const msg = new Message(fields);
    msg.bare = options.bare === true;
    const before = transport.sent.length;
    await hub.handle(session, msg);
    return transport.sent.slice(before);
  };
  return { session, transport, ask };
}

async function joined(hub: Hub, name: string, password?: string): Promise<Client> {
  const client = connect(hub);
  const [welcome] = await client.ask({ type: "join", client_name: name, ...(password !== undefined && { password }) });
  if (welcome?.type !== "welcome") throw new Error(`${name} was not welcomed: ${JSON.stringify(welcome)}`);
  return client;
}

/** A registered account, logged in. */
async function account(hub: Hub, name: string): Promise<Client> {
  const guest = await joined(hub, name);
  const [registered] = await guest.ask({ type: "register", password: PASSWORD });
  if (registered?.type !== "registered") throw new Error(`${name} was not registered: ${JSON.stringify(registered)}`);
  return joined(hub, name, PASSWORD);
}

t.test("before joining, every type but join, ping, pong and quit is refused as not_joined, with its ref", async (t) => {
  const hub = await newHub();
  const allowed = new Set(["join", "ping", "pong", "quit"]);
  for (const type of new Set([...CLIENT_TYPES, ...SERVER_TYPES])) {
    if (allowed.has(type)) continue;
    const answers = await connect(hub).ask({ type, message: "hi", ref: "r1" });
    t.same(
      answers.map((a) => ({ type: a.type, code: a.code, message: a.message, ref: a.ref })),
      [{ type: "error", code: "not_joined", message: `Join first: send a "join" with your name before "${type}"`, ref: "r1" }],
      type,
    );
  }
});

t.test("before joining, join welcomes, ping is answered, pong is taken silently, quit closes", async (t) => {
  const hub = await newHub();
  t.match(await connect(hub).ask({ type: "join", client_name: "ana" }), [{ type: "welcome", client_name: "ana" }]);
  t.match(await connect(hub).ask({ type: "ping", ref: "p" }), [{ type: "pong", ref: "p" }]);
  t.same(await connect(hub).ask({ type: "pong" }), []);
  const quitter = connect(hub);
  t.same(await quitter.ask({ type: "quit" }), []);
  t.ok(quitter.transport.ended, "quit closes the connection");
});

t.test("a bare Message joins before joining and is a chat after", async (t) => {
  const hub = await newHub();
  const seed = connect(hub);
  t.match(await seed.ask({ type: "chat", message: "oi" }, { bare: true }), [
    { type: "welcome", client_name: "Usuario0" },
    { type: "chat", client_name: "Usuario0", message: "oi" },
  ]);
  t.match(await seed.ask({ type: "chat", message: "de novo" }, { bare: true }), [{ type: "chat", client_name: "Usuario0", message: "de novo" }]);
});

t.test("once joined, every type a client may send reaches a handler; join again and a server's type are refused", async (t) => {
  const hub = await newHub();
  for (const type of CLIENT_TYPES) {
    if (type === "join") continue;
    const ana = await account(hub, `ana_${type}`);
    const answers = await ana.ask({ type, message: "hi", ref: "r2" });
    t.notOk(
      answers.some((a) => a.code === "not_joined" || a.code === "unknown_type"),
      `${type} is handled: ${answers.map((a) => `${a.type} ${a.code ?? ""}`).join(", ") || "no answer"}`,
    );
  }
  const bia = await joined(hub, "bia");
  t.match(await bia.ask({ type: "join", client_name: "other", ref: "r3" }), [
    { type: "error", code: "bad_message", message: "Already joined as bia", ref: "r3" },
  ]);
  for (const type of SERVER_ONLY_TYPES) {
    t.match(await bia.ask({ type, ref: "r4" }), [{ type: "error", code: "unknown_type", message: `A client cannot send "${type}"`, ref: "r4" }], type);
  }
});

t.test("what needs an account refuses a guest, and register refuses an account, with the sentences clients know", async (t) => {
  const hub = await newHub();
  await account(hub, "carla");
  const guest = await joined(hub, "guest");
  for (const type of ["friend", "unfriend", "friends"] as const) {
    t.match(await guest.ask({ type, target: "carla", ref: "r5" }), [
      { type: "error", code: "not_registered", message: "Only registered accounts have friends: /register first", ref: "r5" },
    ], type);
  }
  const carla = await joined(hub, "carla", PASSWORD);
  t.match(await carla.ask({ type: "register", password: PASSWORD, ref: "r6" }), [
    { type: "error", code: "name_registered", message: 'The name "carla" is already registered', ref: "r6" },
  ]);
  t.match(await carla.ask({ type: "friends" }), [{ type: "friends", friends: [] }], "an account has friends to list");
});
