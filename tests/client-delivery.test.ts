/**
 * What the client shows of delivery: features, echoes with refs, lines not
 * delivered, replayed history, and what it does when the connection goes
 * wrong. A scripted server (helpers/fake-server.ts) pins the client's side
 * down exactly; client-accounts.test.ts has accounts, and
 * client-end-to-end.test.ts the same against the real server.
 */
import { once } from "node:events";
import t from "tap";
import { ChatClient, EXIT_UNDELIVERED, JoinError } from "../client/connection.js";
import { clock, when } from "../common/format.js";
import { FakeServer, welcome } from "./helpers/fake-server.js";
import { PARALLEL_SUBTESTS, Script, within } from "./helpers/helpers.js";

const TODAY = new Date().toISOString();
const LONG_AGO = "2020-03-04T05:06:07.000Z";
/** This machine can be busy: a child process may take many seconds to start. */
const SLOW = { ms: 60_000 };
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

t.test("ChatClient and a version 2 server", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("joins with the features ping, history and echo, and answers a ping with pong", async (t) => {
    const fake = await FakeServer.start(t);
    const client = new ChatClient({ port: fake.port });
    t.teardown(() => client.close());
    await client.connect();
    const joining = client.join("ana");
    const conn = await fake.connection(0);
    const join = await conn.next("join");
    t.same(join.features, ["ping", "history", "echo"]);
    t.equal(join.password, undefined, "no password unless given");
    conn.send(welcome("ana"));
    await joining;
    t.ok(client.echoes);
    conn.send({ type: "ping" });
    t.match(await conn.next("pong"), { type: "pong" });
  });

  t.test("a fatal decode error from the server: the connection is dropped and the client reconnects at once", async (t) => {
    const fake = await FakeServer.start(t);
    const client = new ChatClient({ port: fake.port, reconnectDelayMs: 60_000 });
    t.teardown(() => client.close());
    await client.connect();
    const joining = client.join("ana");
    const first = await fake.connection(0);
    await first.next("join");
    first.send(welcome("ana"));
    await joining;
    const reconnecting = once(client, "reconnecting");
    first.send("Content-length: twelve\n{}");
    const [delay] = await within(reconnecting, "a reconnection");
    t.equal(delay, 0, "at once, not after the usual wait");
    await within(first.closed, "the broken connection to close");
    const second = await fake.connection(1);
    t.match(await second.next("join"), { client_name: "ana" });
    second.send(welcome("ana"));
    await within(once(client, "rejoined"), "the rejoin");
  });

  t.test("a name refused on rejoining stops the reconnect loop; other join errors do not", async (t) => {
    const fake = await FakeServer.start(t);
    const client = new ChatClient({ port: fake.port, reconnectDelayMs: 1, maxReconnectDelayMs: 1 });
    t.teardown(() => client.close());
    await client.connect();
    const joining = client.join("ana");
    const first = await fake.connection(0);
    await first.next("join");
    first.send(welcome("ana"));
    await joining;

    first.socket.destroy();
    const full = await fake.connection(1);
    await full.next("join");
    full.send({ type: "error", code: "server_full", message: "full" });
    full.socket.end();
    const taken = await fake.connection(2);
    t.pass("a full server is not a name refusal: the loop went on");
    await taken.next("join");
    const refused = once(client, "rejoinRefused");
    taken.send({ type: "error", code: "name_taken", message: 'The name "ana" is already in use' });
    const [error] = await within(refused, "the refusal");
    t.match(error, new JoinError("name_taken", 'The name "ana" is already in use', "ana"));
    t.notOk(client.joined);
    t.equal(client.state, "disconnected");
    // The connection stays open for another name.
    const again = client.join("ana2");
    t.match(await taken.next("join"), { client_name: "ana2" });
    taken.send(welcome("ana2"));
    t.match(await again, { client_name: "ana2" });
    t.equal(fake.connections.length, 3, "no other attempt was made");
  });
});

t.test("a replay after rejoining shows only what was not shown before the connection dropped", async (t) => {
  const fake = await FakeServer.start(t);
  const client = new ChatClient({ port: fake.port, reconnectDelayMs: 1 });
  t.teardown(() => client.close());
  const batches: string[][] = [];
  client.on("history", (batch) => batches.push(batch.messages.map((m) => m.message)));
  await client.connect();
  const joining = client.join("ana");
  const first = await fake.connection(0);
  await first.next("join");
  first.send(welcome("ana"));
  await joining;
  const chat = (message: string, id: string, history = true) => ({ type: "chat" as const, client_name: "bruno", room: "#general", message, id, history });
  first.send(chat("one", "01"));
  first.send({ type: "history", room: "#general", count: 1, more: false });
  first.send(chat("two", "02", false));
  first.socket.destroy();
  const second = await fake.connection(1);
  await second.next("join");
  second.send(welcome("ana"));
  second.send(chat("one", "01"));
  second.send(chat("two", "02"));
  second.send(chat("three", "03"));
  second.send({ type: "history", room: "#general", count: 3, more: false });
  await within(once(client, "history"), "the second replay");
  t.same(batches, [["one"], ["three"]]);
  t.equal(client.oldestId, "01", "/history goes on from the oldest shown, across the rejoin");
});

t.test("pipe mode against a version 2 server", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("a line shows as sent when its echo comes, with the server's time; a refused one is marked; the exit code says so", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana", ["ana", "bruno"]));
    await ana.waitFor(/Welcome, ana!/, SLOW);

    ana.type("hello");
    const hello = await conn.next("chat");
    t.type(hello.ref, "string", "each chat carries a ref");
    t.notMatch(ana.stdout, /you \[No subject\]: hello/, "not shown before the server took it");
    const date = "2026-01-02T03:04:05.000Z";
    conn.send({ type: "chat", client_name: "ana", message: "hello", ref: hello.ref!, id: "00000001", date });
    await ana.waitFor(new RegExp(escape(`[${clock(date)}] you [No subject]: hello`)), SLOW);

    ana.type("@zed are you there");
    const secret = await conn.next("chat");
    t.match(secret, { to: "zed", message: "are you there" });
    conn.send({ type: "error", code: "unknown_recipient", ref: secret.ref!, message: 'No user named "zed" is online' });
    await ana.waitFor(/✗ "are you there": Not delivered: zed is not online\./, SLOW);

    ana.type("last one");
    const last = await conn.next("chat");
    ana.child.stdin.end();
    t.notMatch(ana.stdout, /you \[No subject\]: last one/);
    conn.send({ type: "chat", client_name: "ana", message: "last one", ref: last.ref!, id: "00000002", date: TODAY });
    t.match(await ana.exited, { code: EXIT_UNDELIVERED });
    t.match(ana.stdout, /you \[No subject\]: last one/, "it waited for the echo of the last line");
    t.match(ana.stdout, /1 line was not delivered:\n {2}✗ "are you there": Not delivered/);
    t.match(await conn.next("quit"), { type: "quit" });
  });

  t.test("lines pending when the connection drops are reported as not delivered", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana"));
    await ana.waitFor(/Welcome, ana!/, SLOW);
    ana.type("into the void");
    await conn.next("chat");
    ana.child.stdin.end();
    conn.socket.destroy();
    t.match(await ana.exited, { code: EXIT_UNDELIVERED });
    t.match(ana.stdout, /✗ "into the void": Not delivered: the connection was lost before the server took it\./);
  });

  t.test("a line read while the connection is down is not delivered either", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana"));
    await ana.waitFor(/Welcome, ana!/, SLOW);
    conn.socket.destroy();
    await ana.waitFor(/Reconnecting in/, SLOW);
    ana.type("while away");
    await ana.waitFor(/Not connected to the server: message not sent/, SLOW);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: EXIT_UNDELIVERED });
    t.match(ana.stdout, /1 line was not delivered:\n {2}✗ "while away": Not connected/);
  });

  t.test("a version 1 server (no features in its welcome): lines show at once, as before", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send({ type: "welcome", client_name: "ana", users: ["ana"] });
    await ana.waitFor(/Welcome, ana!/, SLOW);
    ana.type("hello");
    await ana.waitFor(/you \[No subject\]: hello/, SLOW);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });
  });

  t.test("replayed history: under a line of its own, with dates when not today; offline privates; /history asks for older", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana"));
    const old = { type: "chat" as const, client_name: "bruno", message: "long ago", room: "#general", history: true, id: "00000005", date: LONG_AGO };
    conn.send(old);
    conn.send({ ...old, message: "this morning", id: "00000006", date: TODAY });
    conn.send({ type: "history", room: "#general", count: 2, more: true });
    conn.send({ type: "chat", client_name: "bruno", to: "ana", message: "while you were away", history: true, id: "00000007", date: TODAY });
    conn.send({ type: "history", count: 1, more: false });
    conn.send({ type: "chat", client_name: "bruno", message: "live now", room: "#general", id: "00000008", date: TODAY });
    await ana.waitFor(/live now/, SLOW);
    t.match(
      ana.stdout,
      new RegExp(
        escape(`— earlier messages —\n[${when(LONG_AGO, true)}] bruno [No subject]: long ago\n[${clock(TODAY)}] bruno [No subject]: this morning\n(older messages: /history)\n`),
      ),
    );
    t.match(ana.stdout, new RegExp(escape(`— earlier messages —\n[${clock(TODAY)}] bruno → you (private) [No subject]: while you were away\n[`)));
    t.notMatch(ana.stdout, /count|"history"/);

    ana.type("/history");
    const ask = await conn.next("history");
    t.match(ask, { room: "#general", before: "00000005", limit: 50 });
    conn.send({ ...old, message: "older still", id: "00000002", ref: ask.ref! });
    conn.send({ type: "history", room: "#general", count: 1, more: false, ref: ask.ref! });
    await ana.waitFor(/older still/, SLOW);
    ana.type("/historico");
    const again = await conn.next("history");
    t.equal(again.before, "00000002", "it goes on from the oldest shown");
    conn.send({ type: "history", room: "#general", count: 0, more: false, ref: again.ref! });
    await ana.waitFor(/No older messages\./, SLOW);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });
  });

});
