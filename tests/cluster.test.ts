/**
 * Several servers, one chat (PROTOCOL.md, last section), over real sockets:
 * two or three servers sharing a real redis-server and a real PostgreSQL.
 * Names, the lobby, private chats, rooms and moderation across servers; one
 * order for every receiver; a server killed; Redis lost and restarted empty.
 */
import fc from "fast-check";
import t from "tap";
import type { Message, MessageFields } from "../protocol.js";
import type { ChatServer } from "../server/chat-server.js";
import { HEARTBEAT_ENV } from "../server/cluster/cluster-link.js";
import { parseServerArgs } from "../server.js";
import { once } from "node:events";
import { ChatClient } from "../client/connection.js";
import { eventually, freePorts, Script, testServer, within, type Teardown } from "./helpers/helpers.js";
import { startPostgres } from "./helpers/postgres.js";
import { hasRedis, NO_REDIS, TestRedis } from "./helpers/redis.js";
import { LinePeer, Peer, WsPeer } from "./helpers/test-clients.js";
import { NEEDS_PYTHON, python } from "./helpers/python.js";

type Tester = import("tap").Test;

/** A server script loading TypeScript while other test files run: far longer than a frame's wait. */
const SCRIPT_START_MS = 60_000;

async function joinAs(t: Teardown, server: ChatServer, name: string, extra: Partial<MessageFields> = {}): Promise<Peer> {
  const peer = await Peer.connect(t, server.address.port);
  peer.send({ type: "join", client_name: name, ...extra } as MessageFields);
  const welcome = await peer.next();
  if (welcome.type !== "welcome") throw new Error(`${name}: ${JSON.stringify(welcome)}`);
  return peer;
}

/** The next frame of `type` (others before it skipped). */
async function nextOf(peer: Peer | WsPeer, type: string, also: (msg: Message) => boolean = () => true): Promise<Message> {
  for (;;) {
    const msg = await peer.next();
    if (msg.type === type && also(msg)) return msg;
  }
}

t.test("server.ts --redis: a Redis URL, and a PostgreSQL every server shares", async (t) => {
  const pg = "postgres://chat:secret@db:5432/chat";
  t.match(parseServerArgs(["--redis", "redis://127.0.0.1:6379", "--db", pg])?.options, { redis: "redis://127.0.0.1:6379", db: pg });
  t.throws(() => parseServerArgs(["--redis", "redis://127.0.0.1:6379"]), { name: "UsageError", message: /--redis needs a database every server shares/ }, "not the default SQLite file");
  t.throws(() => parseServerArgs(["--redis", "127.0.0.1:6379", "--db", pg]), { name: "UsageError", message: /redis:\/\/HOST:PORT/ });
});

t.test("several servers, one chat", { skip: hasRedis ? false : NO_REDIS }, async (t) => {
  const redis = await TestRedis.start(t);
  const postgres = await startPostgres(t);
  const db = await postgres.freshDatabase(t);
  const cluster = async (t: Teardown) => [await testServer(t, { redis: redis.url, db }), await testServer(t, { redis: redis.url, db })] as const;

  t.test("the lobby, private chats and leaves cross servers; one name is one connection", async (t) => {
    const [one, two] = await cluster(t);
    const ana = await joinAs(t, one, "ana");
    const bruno = await joinAs(t, two, "bruno", { features: ["echo"] });
    t.match(await nextOf(ana, "join"), { client_name: "bruno" }, "ana, on the first server, sees bruno join the second");
    ana.send({ type: "list" });
    t.same((await nextOf(ana, "list")).users, ["ana", "bruno"], "one list of who is online");

    ana.send({ type: "chat", message: "oi do servidor um" });
    const heard = await nextOf(bruno, "chat");
    t.match(heard, { client_name: "ana", message: "oi do servidor um" });
    t.match(heard.id, /\d/, "the chat has its id on the other server too");

    bruno.send({ type: "chat", to: "ana", message: "psiu", ref: "p1" });
    t.match(await nextOf(ana, "chat"), { client_name: "bruno", to: "ana", message: "psiu" }, "a private chat reaches the other server");
    t.match(await nextOf(bruno, "chat"), { ref: "p1", to: "ana" }, "and its echo comes back once stored");

    const copy = await Peer.connect(t, one.address.port);
    copy.send({ type: "join", client_name: "Bruno" });
    t.match(await copy.next(), { type: "error", code: "name_taken" }, "a name held on one server is taken on the other");

    bruno.socket.destroy();
    t.match(await nextOf(ana, "leave"), { client_name: "bruno", reason: "lost" }, "a connection lost on one server leaves everywhere");
    const lines: string[] = [];
    const third = await testServer(t, { redis: redis.url, db, log: (line) => lines.push(line) });
    const carla = await joinAs(t, third, "carla");
    carla.send({ type: "list" });
    t.same((await nextOf(carla, "list")).users, ["ana", "carla"], "a server that joins later knows who is online");
    t.notOk(lines.some((line) => line.includes("oi do servidor um")), "without going through the old chats again");
    t.ok(await joinAs(t, two, "bruno"), "its name is free again on its own server");
    ana.send({ type: "list" });
    t.same((await nextOf(ana, "list")).users, ["ana", "bruno", "carla"], "and the list has it once");
  });

  t.test("a server whose Redis is not there at start says so at once and does not start", async (t) => {
    const nowhere = `redis://127.0.0.1:${await freePorts(1)}`;
    await t.rejects(testServer(t, { redis: nowhere, db }), { name: "RedisUnreachableError", message: new RegExp(`^Cannot reach Redis at ${nowhere}: `) });
    const script = new Script(t, "server.ts", ["--port", "0", "--redis", nowhere, "--db", db, "--quiet"]);
    t.match(await within(script.exited, "the server to give up", SCRIPT_START_MS), { code: 1 });
    t.match(script.stderr.trim(), new RegExp(`^Cannot reach Redis at ${nowhere}: `), "one line");
  });

  t.test("every way in is the same chat: a text client (nc) on one server, a WebSocket client on the other", async (t) => {
    const one = await testServer(t, { redis: redis.url, db, textPort: 0 });
    const two = await testServer(t, { redis: redis.url, db });
    const nc = await LinePeer.joined(t, one.textAddress!.port, "tex");
    const web = await WsPeer.joined(t, `ws://127.0.0.1:${two.address.port}/ws`, "web");
    await nc.waitFor(/web joined/);
    web.send({ type: "chat", message: "oi do navegador" });
    await nc.waitFor(/web.*oi do navegador/);
    nc.line("oi do nc");
    t.match(await nextOf(web, "chat"), { client_name: "tex", message: "oi do nc" }, "a line typed in nc reaches the page's socket on the other server");
  });

  t.test("a name raced on two servers is granted once", async (t) => {
    const [one, two] = await cluster(t);
    let round = 0;
    // Any name (as a client may spell it: case and width folded to one key), raced from both servers: one welcome.
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,10}$/), fc.boolean(), async (base, upper) => {
        const name = `${base}${round++}`;
        const peers = await Promise.all([one, two].map((server) => Peer.connect(t, server.address.port)));
        peers[0]!.send({ type: "join", client_name: name });
        peers[1]!.send({ type: "join", client_name: upper ? name.toUpperCase() : name });
        const answers = await Promise.all(peers.map((peer) => peer.next()));
        for (const peer of peers) peer.socket.destroy();
        const types = answers.map((a) => a.type).sort();
        const refusal = answers.find((a) => a.type === "error");
        return types[0] === "error" && types[1] === "welcome" && refusal?.code === "name_taken";
      }),
      { numRuns: 30 },
    );
    t.pass("one welcome and one name_taken, every time");
    const guests = await Promise.all([one, two, one, two].map(async (server) => {
      const peer = await Peer.connect(t, server.address.port);
      peer.send({ type: "join", client_name: "" });
      return (await peer.next()).client_name;
    }));
    t.equal(new Set(guests).size, 4, `four nameless joins on two servers get four names (${guests.join(", ")})`);
  });

  t.test("accounts: a login on either server; wrong passwords on both count together; a login on the other takes over", async (t) => {
    const [one, two] = await cluster(t);
    const guest = await joinAs(t, one, "eva");
    guest.send({ type: "register", password: "senha da eva" });
    t.match(await nextOf(guest, "registered"), { client_name: "eva" });
    const guesses = [one, two, one, two, one].map((server) => server.address.port);
    for (const port of guesses) {
      const peer = await Peer.connect(t, port);
      peer.send({ type: "join", client_name: "eva", password: "errada" });
      t.match(await peer.next(), { type: "error", code: "bad_password" });
    }
    const sixth = await Peer.connect(t, two.address.port);
    sixth.send({ type: "join", client_name: "eva", password: "senha da eva" });
    t.match(await sixth.next(), { type: "error", code: "too_many_attempts" }, "five wrong on two servers block the sixth, right or not");
    const elsewhere = await Peer.connect(t, two.address.port, { localAddress: "127.0.0.2" });
    elsewhere.send({ type: "join", client_name: "eva", password: "senha da eva" });
    t.match(await elsewhere.next(), { type: "welcome", account: true }, "from another address the account logs in on the other server");
    t.match(await nextOf(guest, "error"), { code: "logged_in_elsewhere" }, "taking over the session on the first");
  });

  t.test("rooms and moderation: an operator on one server mutes and kicks a member on the other", async (t) => {
    const [one, two] = await cluster(t);
    const ana = await joinAs(t, one, "ana");
    const bruno = await joinAs(t, two, "bruno");
    ana.send({ type: "enter", room: "#provas" });
    t.match(await nextOf(ana, "entered"), { room: "#provas", owner: "ana" });
    bruno.send({ type: "enter", room: "#provas" });
    t.same((await nextOf(bruno, "entered")).users, ["ana", "bruno"], "the room made on one server is entered from the other");
    t.match(await nextOf(ana, "join", (m) => m.room === "#provas"), { client_name: "bruno" });

    ana.send({ type: "topic", room: "#provas", topic: "redes" });
    t.match(await nextOf(bruno, "topic"), { topic: "redes", client_name: "ana" });
    ana.send({ type: "mute", room: "#provas", target: "bruno" });
    t.match(await nextOf(bruno, "mute"), { target: "bruno" });
    bruno.send({ type: "chat", room: "#provas", message: "posso?" });
    t.match(await nextOf(bruno, "error"), { code: "muted", room: "#provas" }, "the mute made on the first server holds on the second");
    ana.send({ type: "kick", room: "#provas", target: "bruno" });
    t.match(await nextOf(bruno, "kick"), { target: "bruno", room: "#provas" });
    bruno.send({ type: "list", room: "#provas" });
    t.same((await nextOf(bruno, "list")).users, ["ana"], "and the kick too");
  });

  t.test("four senders on two servers into one room: every receiver sees one order, ids increasing", async (t) => {
    const [one, two] = await cluster(t);
    const servers = [one, two, one, two];
    const peers = await Promise.all(servers.map((server, i) => joinAs(t, server, `s${i}`)));
    for (const peer of peers) {
      peer.send({ type: "enter", room: "#ordem" });
      await nextOf(peer, "entered");
    }
    const PER_SENDER = 50;
    for (let n = 0; n < PER_SENDER; n++) for (const [i, peer] of peers.entries()) peer.send({ type: "chat", room: "#ordem", message: `${i}:${n}` });
    const seen = await Promise.all(
      peers.map(async (peer, i) => {
        const got: Message[] = [];
        // Each receiver gets the others' chats (its own are not sent back without echo).
        while (got.length < PER_SENDER * 3) {
          const msg = await peer.next();
          if (msg.type === "chat" && msg.room === "#ordem") got.push(msg);
        }
        return got.filter((msg) => !msg.message.startsWith(`${i}:`));
      }),
    );
    const ids = seen.map((got) => got.map((msg) => Number(msg.id)));
    for (const list of ids) t.ok(list.every((id, k) => k === 0 || id > list[k - 1]!), "ids increase in the order received");
    // Any two receivers agree on the order of the chats both received.
    const order = (got: Message[]) => got.map((msg) => msg.message);
    const common = (a: string[], b: string[]) => a.filter((m) => b.includes(m));
    t.same(common(order(seen[0]!), order(seen[1]!)), common(order(seen[1]!), order(seen[0]!)), "one order on both servers");
    t.same(common(order(seen[0]!), order(seen[3]!)), common(order(seen[3]!), order(seen[0]!)));
  });

  t.test("a client given both servers moves to the other when its own stops, and is back in the chat", async (t) => {
    const [one, two] = await cluster(t);
    const ana = await joinAs(t, two, "ana");
    const client = new ChatClient({ host: "127.0.0.1", port: one.address.port, alternates: [{ host: "127.0.0.1", port: two.address.port }], reconnectDelayMs: 50 });
    t.teardown(() => client.close());
    await client.connect();
    await client.join("dora");
    t.match(await nextOf(ana, "join"), { client_name: "dora" });
    const rejoined = once(client, "rejoined");
    await one.close();
    t.match(await nextOf(ana, "leave"), { client_name: "dora", reason: "shutdown" }, "the others see it leave at once when its server stops");
    await within(rejoined, "dora to rejoin on the other server");
    t.equal(client.address, `127.0.0.1:${two.address.port}`);
    t.match(await nextOf(ana, "join"), { client_name: "dora" }, "and come back");
  });

  t.test("the seed 000 client, unchanged, on one server talks with a client on the other", NEEDS_PYTHON, async (t) => {
    const [one, two] = await cluster(t);
    const ana = await joinAs(t, two, "ana");
    // It reads 3 frames: its welcome, its own message back, then ana's reply.
    const seed = python("seed_client.py", [one.address.port, "joao", "olá do outro servidor", 3]);
    t.match(await nextOf(ana, "join"), { client_name: "joao" });
    t.match(await nextOf(ana, "chat"), { client_name: "joao", message: "olá do outro servidor" });
    ana.send({ type: "chat", message: "oi joão" });
    const { code, stdout, stderr } = await within(seed.done, "the seed client to finish");
    t.equal(code, 0, stderr);
    t.match(stdout, /^joao: Welcome, joao! Online \(2\): ana, joao\njoao: olá do outro servidor\nana: oi joão\n$/);
  });

  t.test("Redis lost and restarted empty: unavailable meanwhile, then one chat again", async (t) => {
    const [one, two] = await cluster(t);
    const ana = await joinAs(t, one, "ana", { features: ["echo"] });
    const bruno = await joinAs(t, two, "bruno");
    await nextOf(ana, "join");
    await redis.stop();
    ana.send({ type: "chat", message: "alguém?", ref: "r1" });
    t.match(await nextOf(ana, "error"), { code: "unavailable", ref: "r1" }, "a change while Redis is away is refused, not queued");
    ana.send({ type: "list" });
    t.same((await nextOf(ana, "list")).users, ["ana", "bruno"], "list is still answered from what the server knows");
    await redis.restart();
    let echoed: Message | undefined;
    await eventually(() => {
      if (echoed?.type === "chat") return true;
      ana.send({ type: "chat", message: "voltou", ref: "r2" });
      void nextOf(ana, "chat", (m) => m.ref === "r2").then((m) => (echoed = m), () => {});
      return false;
    }, "a chat to be accepted again after Redis restarted", 15_000);
    t.match(await nextOf(bruno, "chat", (m) => m.message === "voltou"), { client_name: "ana" }, "and it reaches the other server");
    const third = await testServer(t, { redis: redis.url, db });
    const carla = await joinAs(t, third, "carla");
    carla.send({ type: "list" });
    t.same((await nextOf(carla, "list")).users, ["ana", "bruno", "carla"], "a server started after the log was lost learns who is online from the others' rosters");
    const copy = await Peer.connect(t, third.address.port);
    copy.send({ type: "join", client_name: "ana" });
    t.match(await copy.next(), { type: "error", code: "name_taken" }, "and no name is held twice");
  });

  t.test("a server killed: its clients leave the others' lists within 15 s, and their names are free", async (t: Tester) => {
    const [one] = await cluster(t);
    const ana = await joinAs(t, one, "ana");
    const doomed = new Script(t, "server.ts", ["--port", "0", "--redis", redis.url, "--db", db, "--quiet"], { [HEARTBEAT_ENV]: "1500" });
    const port = Number((await doomed.waitFor(/listening on [^:]+:(\d+)/, { ms: SCRIPT_START_MS }))[1]);
    const carla = await Peer.connect(t, port);
    carla.send({ type: "join", client_name: "carla" });
    t.match(await carla.next(), { type: "welcome" });
    t.match(await nextOf(ana, "join"), { client_name: "carla" });
    // dora's client was given both servers: it moves to the other, and gets its name back once the dead server's clients are gone.
    const dora = new ChatClient({ host: "127.0.0.1", port, alternates: [{ host: "127.0.0.1", port: one.address.port }], reconnectDelayMs: 200 });
    t.teardown(() => dora.close());
    await dora.connect();
    await dora.join("dora");
    t.match(await nextOf(ana, "join"), { client_name: "dora" });
    const rejoined = once(dora, "rejoined");
    const killedAt = Date.now();
    doomed.child.kill("SIGKILL");
    const left = [await nextOf(ana, "leave"), await nextOf(ana, "leave")].map((m) => `${m.client_name} ${m.reason}`).sort();
    t.same(left, ["carla lost", "dora lost"]);
    t.ok(Date.now() - killedAt < 15_000, `seen within 15 s (${Date.now() - killedAt} ms)`);
    t.ok(await joinAs(t, one, "carla"), "carla's name is free again");
    await within(rejoined, "dora to rejoin on the other server", 20_000);
    t.equal(dora.address, `127.0.0.1:${one.address.port}`, "dora is back, on the other server");
  });

  t.test("a server paused past its heartbeat: its clients leave; resumed, they are back, but a name taken meanwhile is not", async (t: Tester) => {
    const [one] = await cluster(t);
    const ana = await joinAs(t, one, "ana");
    const paused = new Script(t, "server.ts", ["--port", "0", "--redis", redis.url, "--db", db, "--quiet"], { [HEARTBEAT_ENV]: "1500" });
    const port = Number((await paused.waitFor(/listening on [^:]+:(\d+)/, { ms: SCRIPT_START_MS }))[1]);
    const joinThere = async (name: string) => {
      const peer = await Peer.connect(t, port);
      peer.send({ type: "join", client_name: name });
      t.match(await peer.next(), { type: "welcome" });
      t.match(await nextOf(ana, "join"), { client_name: name });
      return peer;
    };
    const dora = await joinThere("dora");
    const eli = await joinThere("eli");
    paused.child.kill("SIGSTOP");
    t.teardown(() => paused.child.kill("SIGCONT"));
    const left = [await nextOf(ana, "leave"), await nextOf(ana, "leave")].map((m) => m.client_name).sort();
    t.same(left, ["dora", "eli"], "the others see its clients leave (lost)");
    const newEli = await joinAs(t, one, "eli");
    t.match(await nextOf(ana, "join"), { client_name: "eli" }, "another eli joins meanwhile");
    paused.child.kill("SIGCONT");
    t.match(await nextOf(ana, "join"), { client_name: "dora" }, "resumed: dora is back");
    t.match(await nextOf(eli, "error"), { code: "name_taken" }, "eli's name is someone else's now: the old eli is told");
    await eli.expectClosed();
    dora.send({ type: "chat", message: "voltei" });
    t.match(await nextOf(ana, "chat"), { client_name: "dora", message: "voltei" }, "and dora talks again, on the same connection");
    newEli.send({ type: "list" });
    t.same((await nextOf(newEli, "list")).users, ["ana", "dora", "eli"], "one eli in the chat");
  });
});
