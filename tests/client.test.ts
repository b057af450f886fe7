import { once } from "node:events";
import t from "tap";
import { ChatClient, EXIT_UNDELIVERED, JoinError } from "../client/connection.js";
import { runCommand } from "../client/run-command.js";
import { parseCommand } from "../common/commands.js";
import { TEXTS } from "../common/catalogue.js";
import { startServer } from "../server/chat-server.js";
import { freePorts, PARALLEL_SUBTESTS, Script, testServer, within } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

const en = TEXTS.en;

t.test("the client script, driven through a pipe", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("joins, sends, receives, handles every command, and leaves at end of input", async (t) => {
    const { port } = (await testServer(t)).address;
    const bruno = await Peer.joined(t, port, "bruno");
    const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
    await ana.waitFor(/Welcome, ana! Online \(2\): ana, bruno/);
    t.match(await bruno.next(), { type: "join", client_name: "ana" });

    ana.type("hello everyone");
    t.match(await bruno.next(), { type: "chat", client_name: "ana", message: "hello everyone", subject: "" });
    await ana.waitFor(/you \[No subject\]: hello everyone/);

    bruno.send({ type: "chat", message: "hi ana\nsecond line" });
    await ana.waitFor(/bruno \[No subject\]: hi ana\n {4}second line/);

    ana.type("@bruno a secret");
    t.match(await bruno.next(), { type: "chat", to: "bruno", message: "a secret" });
    ana.type("/bruno another");
    t.match(await bruno.next(), { type: "chat", to: "bruno", message: "another" });
    bruno.send({ type: "chat", to: "ana", message: "back at you" });
    await ana.waitFor(/bruno → you \(private\) \[No subject\]: back at you/);

    ana.type("/zed are you there");
    await ana.waitFor(/Unknown command \/zed\. Type \/help\./);
    ana.type("@zed are you there");
    await ana.waitFor(/Not delivered: .*(zed|the recipient) is not online/);
    t.notMatch(ana.stdout, /you → zed/, "no echo of a message that was not delivered");
    ana.type("@bruno");
    await ana.waitFor(/Private message without text: write @bruno followed by your message/);
    ana.type("/clientes");
    await ana.waitFor(/Online \(2\): ana, bruno/);
    ana.type("/assunto Provas");
    ana.type("when is it?");
    t.match(await bruno.next(), { message: "when is it?", subject: "Provas" });
    await ana.waitFor(/you \[Provas\]: when is it\?/);
    ana.type("/help");
    await ana.waitFor(/\/quit +leave the chat \(also \/exit, \/sair\)/);

    ana.child.stdin.end();
    t.match(await ana.exited, { code: EXIT_UNDELIVERED }, "the line to zed was not delivered");
    t.match(ana.stdout, /1 line was not delivered:\n {2}.*Not delivered/);
    t.match(await bruno.next(), { type: "leave", client_name: "ana", reason: "quit" });
  });

  t.test("asks for a name until one is accepted, showing the server's reason", async (t) => {
    const { port } = (await testServer(t)).address;
    await Peer.joined(t, port, "bruno");
    const client = new Script(t, "client.ts", ["--port", String(port)]);
    await client.waitFor(/Choose a name/);
    client.type("ana maria");
    await client.waitFor(/Name refused: A name cannot contain spaces: "ana maria". Try another./);
    client.type("BRUNO");
    await client.waitFor(/Name refused: The name "BRUNO" is already in use. Try another./);
    client.type("");
    await client.waitFor(/Welcome, Usuario0!/);
    client.type("/sair");
    t.match(await client.exited, { code: 0 });
  });

  t.test("speaks Portuguese with --lang pt or LANG=pt_BR", async (t) => {
    const { port } = (await testServer(t)).address;
    const byOption = new Script(t, "client.ts", ["--port", String(port), "--name", "ana", "--lang", "pt"]);
    await byOption.waitFor(/Bem-vindo\(a\), ana!/);
    const byLang = new Script(t, "client.ts", ["--port", String(port), "--name", "bia"], { LANG: "pt_BR.UTF-8" });
    await byLang.waitFor(/Bem-vindo\(a\), bia!/);
    await byOption.waitFor(/\*\*\* bia entrou/);
    byLang.type("/quit");
    await byOption.waitFor(/\*\*\* bia saiu do chat/);
    byOption.child.stdin.end();
    t.match(await byOption.exited, { code: 0 });
  });

  t.test("says clearly when no server is running, naming the address, and exits 1", async (t) => {
    const port = await freePorts(1);
    const client = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
    t.match(await client.exited, { code: 1 });
    t.match(client.stderr, `Cannot connect to the server at 127.0.0.1:${port}: connection refused`);
  });

  t.test("rejects bad options with a hint and exit code 2", async (t) => {
    const client = new Script(t, "client.ts", ["--port", "99999"]);
    t.match(await client.exited, { code: 2 });
    t.match(client.stderr, /--port must be a number from 0 to 65535/);
    const help = new Script(t, "client.ts", ["--help"]);
    t.match(await help.exited, { code: 0 });
    t.match(help.stdout, /--name N/);
  });

  t.test("reports a lost connection and reconnects when the server comes back", async (t) => {
    const first = await startServer({ port: 0 });
    const { port } = first.address;
    const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
    await ana.waitFor(/Welcome, ana!/);
    await first.close();
    await ana.waitFor(/Connection to the server at 127.0.0.1:\d+ lost\.\n.*Reconnecting in 1 s \(attempt 1\)/);
    const second = await testServer(t, { port });
    await ana.waitFor(/Reconnected as ana\. Online \(1\): ana/);
    const bruno = await Peer.joined(t, port, "bruno");
    ana.type("still here");
    t.match(await bruno.next(), { type: "chat", client_name: "ana", message: "still here" });
    t.same(second.users, ["ana", "bruno"]);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });
  });
});

t.test("ChatClient", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("join rejects with the server's code and message", async (t) => {
    const { port } = (await testServer(t)).address;
    const client = new ChatClient({ port });
    t.teardown(() => client.close());
    await client.connect();
    await t.rejects(client.join("a b"), new JoinError("name_invalid", 'A name cannot contain spaces: "a b"', "a b"));
    t.match(await client.join("ab"), { type: "welcome", client_name: "ab" });
    t.equal(client.name, "ab");
  });

  t.test("rejoins under the same name after the server restarts, retrying with backoff", async (t) => {
    const first = await startServer({ port: 0 });
    const { port } = first.address;
    const client = new ChatClient({ port, reconnectDelayMs: 20, maxReconnectDelayMs: 40 });
    t.teardown(() => client.close());
    await client.connect();
    await client.join("ana");
    const delays: number[] = [];
    client.on("reconnecting", (delay) => delays.push(delay));
    let failures = 0;
    const twoFailures = new Promise<void>((resolve) => client.on("reconnectFailed", () => ++failures === 2 && resolve()));
    await first.close();
    await within(twoFailures, "two failed attempts while the server is down");
    const server = await testServer(t, { port });
    const [welcome] = await within(once(client, "rejoined"), "the rejoin");
    t.match(welcome, { type: "welcome", client_name: "ana" });
    t.same(delays.slice(0, 3), [20, 40, 40], "the wait doubles up to the maximum");
    t.same(server.users, ["ana"]);
    t.ok(client.joined);
  });

  t.test("keeps who is online, sorted as the server sorts, from welcome, join and leave", async (t) => {
    const { port } = (await testServer(t)).address;
    await Peer.joined(t, port, "bruno");
    const client = new ChatClient({ port });
    t.teardown(() => client.close());
    await client.connect();
    await client.join("Carla");
    t.same(client.users, ["bruno", "Carla"]);
    const joins = new Promise<void>((resolve) => client.on("message", () => client.users.length === 4 && resolve()));
    const ana = await Peer.joined(t, port, "Ana");
    await Peer.joined(t, port, "dora");
    await within(joins, "two joins");
    t.same(client.users, ["Ana", "bruno", "Carla", "dora"]);
    const left = new Promise<void>((resolve) => client.on("message", (m) => m.type === "leave" && resolve()));
    ana.socket.destroy();
    await within(left, "the leave");
    t.same(client.users, ["bruno", "Carla", "dora"]);
  });

  t.test("quit while reconnecting stops trying", async (t) => {
    const first = await startServer({ port: 0 });
    const client = new ChatClient({ port: first.address.port, reconnectDelayMs: 10_000 });
    await client.connect();
    await client.join("ana");
    const reconnecting = once(client, "reconnecting");
    await first.close();
    await reconnecting;
    await within(client.quit(), "quit to return at once");
    t.notOk(client.joined);
  });
});

t.test("runCommand", async (t) => {
  t.test("refuses to send while not joined, and explains", async (t) => {
    const client = new ChatClient({ port: 1 });
    t.same(runCommand(client, parseCommand("hello"), en), { lines: [{ kind: "error", text: en.notConnected }] });
    t.same(runCommand(client, parseCommand("/list"), en), { lines: [{ kind: "error", text: en.notConnected }] });
    t.same(runCommand(client, parseCommand("/quit"), en), { lines: [], quit: true });
  });

  t.test("sets and clears the subject of the next messages", async (t) => {
    const client = new ChatClient({ port: 1 });
    t.same(runCommand(client, parseCommand("/subject Exams"), en).lines, [{ kind: "info", text: "Subject of your next messages: Exams" }]);
    t.equal(client.subject, "Exams");
    t.same(runCommand(client, parseCommand("/subject"), en).lines, [{ kind: "info", text: "Subject cleared." }]);
    t.equal(client.subject, "");
  });

  t.test("a message too long for the protocol is refused locally", async (t) => {
    const { port } = (await testServer(t)).address;
    const client = new ChatClient({ port });
    t.teardown(() => client.close());
    await client.connect();
    await client.join("ana");
    t.same(runCommand(client, parseCommand("x".repeat(70_000)), en).lines, [{ kind: "error", text: en.tooLong }]);
  });
});

t.test("a server that goes away while the name is asked: the client says so and exits 1", async (t) => {
  const server = await startServer({ port: 0 });
  const client = new Script(t, "client.ts", ["--port", String(server.address.port)]);
  await client.waitFor(/Choose a name/);
  await server.close();
  await client.waitFor(/Connection to the server at 127\.0\.0\.1:\d+ lost\./);
  client.type("ana");
  t.match(await client.exited, { code: 1 });
});

t.test("a full server: the client says so and exits 1", async (t) => {
  const { port } = (await testServer(t, { maxClients: 1 })).address;
  await Peer.joined(t, port, "ana");
  const client = new Script(t, "client.ts", ["--port", String(port), "--name", "bruno"]);
  t.match(await client.exited, { code: 1 });
  t.match(client.stdout, /The server is full: try again later\./);
});
