/**
 * The client and protocol version 2: accounts (passwords, /register), a name
 * lost while reconnecting, and --supervised, against a scripted server.
 */
import t from "tap";
import { EXIT_FAILURE } from "../client/connection.js";
import { statusLine } from "../common/launch-contract.js";
import { FakeServer, welcome } from "./helpers/fake-server.js";
import { PARALLEL_SUBTESTS, Script } from "./helpers/helpers.js";

/** This machine can be busy: a child process may take many seconds to start. */
const SLOW = { ms: 60_000 };

t.test("pipe mode: accounts, rejoining, supervision", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("a registered name: the password is asked (the next line of a pipe), retried on the same connection, and used to rejoin", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send({ type: "error", code: "password_required", message: "The name is registered" });
    ana.type("wrong pass");
    t.match(await conn.next("join"), { client_name: "ana", password: "wrong pass" });
    conn.send({ type: "error", code: "bad_password", message: "Wrong password" });
    await ana.waitFor(/Wrong password/, SLOW);
    ana.type("right pass");
    t.match(await conn.next("join"), { client_name: "ana", password: "right pass" });
    conn.send({ ...welcome("ana"), account: true });
    await ana.waitFor(/Welcome, ana!/, SLOW);
    t.notMatch(ana.stdout, /right pass/, "a password is never shown");

    conn.socket.destroy();
    const again = await fake.connection(1);
    t.match(await again.next("join"), { client_name: "ana", password: "right pass" }, "the reconnect loop logs back in");
    again.send(welcome("ana"));
    await ana.waitFor(/Reconnected as ana/, SLOW);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });
  });

  t.test("--password and CHAT_PASSWORD give the password of the name", async (t) => {
    const fake = await FakeServer.start(t);
    new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana", "--password", "by option"]);
    t.match(await (await fake.connection(0)).next("join"), { password: "by option" });
    new Script(t, "client.ts", ["--port", String(fake.port), "--name", "bia"], { CHAT_PASSWORD: "by env" });
    t.match(await (await fake.connection(1)).next("join"), { client_name: "bia", password: "by env" });
  });

  t.test("/register asks for the password twice, sends it, and shows the answer", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana"));
    await ana.waitFor(/Welcome, ana!/, SLOW);

    ana.type("/register");
    ana.type("first one");
    ana.type("second one");
    await ana.waitFor(/The two passwords differ: not registered\./, SLOW);
    ana.type("/register");
    ana.type("short"); // refused at once, not asked again nor sent (issue 18, item 15)
    await ana.waitFor(/Password too weak: use at least 8 characters\./, SLOW);
    ana.type("/registrar");
    ana.type("long enough");
    ana.type("long enough");
    const good = await conn.next("register");
    conn.send({ type: "registered", client_name: "ana", ref: good.ref! });
    await ana.waitFor(/The name ana is now registered/, SLOW);
    t.notMatch(ana.stdout, /long enough|short/, "passwords are never shown");
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });
  });

  t.test("a name taken while reconnecting: a clear message and a non-zero exit, not retries forever", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana"));
    await ana.waitFor(/Welcome, ana!/, SLOW);
    conn.socket.destroy();
    const again = await fake.connection(1);
    await again.next("join");
    again.send({ type: "error", code: "name_taken", message: 'The name "ana" is already in use' });
    t.match(await ana.exited, { code: EXIT_FAILURE });
    t.match(ana.stdout, /Could not rejoin after reconnecting: The name "ana" is already in use\./);
    t.equal(fake.connections.length, 2);
  });

  t.test("logged in from elsewhere: it says so and stops, without taking the account back", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana", "--password", "right pass"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send({ ...welcome("ana"), account: true });
    await ana.waitFor(/Welcome, ana!/, SLOW);
    conn.send({ type: "error", code: "logged_in_elsewhere", message: "Logged in elsewhere" });
    conn.socket.end();
    t.match(await ana.exited, { code: EXIT_FAILURE });
    t.match(ana.stdout, /You logged in from somewhere else: this session was closed\./);
    t.equal(fake.connections.length, 1, "no reconnection");
  });

  t.test("--supervised prints a machine-readable line on each change of state", async (t) => {
    const fake = await FakeServer.start(t);
    const ana = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "ana", "--supervised", "--lang", "pt"]);
    const conn = await fake.connection(0);
    await conn.next("join");
    conn.send(welcome("ana"));
    await ana.waitFor(/#status \{"state":"joined"/, SLOW);
    conn.socket.destroy();
    const again = await fake.connection(1);
    await again.next("join");
    again.send(welcome("ana"));
    await ana.waitFor(/Reconectado como ana/, SLOW);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });
    const states = ana.stdout.split("\n").filter((line) => line.startsWith("#status "));
    const port = fake.port;
    t.same(states, [
      statusLine("connecting", undefined, port),
      statusLine("joined", "ana", port),
      statusLine("disconnected", "ana", port),
      statusLine("reconnecting", "ana", port),
      statusLine("joined", "ana", port),
      statusLine("closed", "ana", port),
    ]);
    t.equal(states[0], `#status {"state":"connecting","name":null,"port":${port}}`, "with the port of the server it is on");
    t.equal(states[1], `#status {"state":"joined","name":"ana","port":${port}}`);
  });
});
