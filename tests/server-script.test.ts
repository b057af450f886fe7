/** server.ts run as a person runs it: a child process with arguments and signals. */
import path from "node:path";
import t from "tap";
import { PARALLEL_SUBTESTS, Script, type Teardown, tempDir, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

t.jobs = PARALLEL_SUBTESTS;

/** The server script on a free port, with a database of its own unless `args` name one. */
async function startScript(t: Teardown, args: string[] = []) {
  const db = args.includes("--db") ? [] : ["--db", path.join(tempDir(t), "chat.db")];
  const server = new Script(t, "server.ts", ["--port", "0", ...db, ...args]);
  const [, port] = await server.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m);
  return { server, port: Number(port) };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  t.test(`on ${signal} every client is told the server is shutting down, and it exits 0`, async (t) => {
    const { server, port } = await startScript(t);
    const ana = await Peer.joined(t, port, "ana");
    const idle = await Peer.connect(t, port);
    await ana.drain();
    server.child.kill(signal);
    t.match(await ana.next(), { type: "error", code: "server_shutdown" });
    t.match(await idle.next(), { type: "error", code: "server_shutdown" });
    await Promise.all([ana.expectClosed(), idle.expectClosed()]);
    t.match(await server.exited, { code: 0, signal: null });
  });
}

t.test("logs joins, messages, leaves and errors with times", async (t) => {
  const { server, port } = await startScript(t);
  const ana = await Peer.joined(t, port, "ana");
  const bruno = await Peer.joined(t, port, "bruno");
  ana.send({ type: "chat", subject: "Provas", message: "hi\x1b[2J" });
  await bruno.next();
  ana.send({ type: "chat", to: "bruno", message: "secret" });
  await bruno.next();
  bruno.socket.destroy();
  await server.waitFor(/\d\d:\d\d:\d\d ana joined from 127\.0\.0\.1:\d+/);
  await server.waitFor(/\d\d:\d\d:\d\d ana \[Provas\]: hi\\u001b\[2J/);
  await server.waitFor(/ana → bruno \(private, 6 characters\)/);
  await server.waitFor(/bruno left \(lost\)/);
  ana.send({ type: "chat", subject: "\x1b]0;pwned\x07", message: "subject too" });
  await server.waitFor(/ana \[\\u001b\]0;pwned\\u0007\]: subject too/);
  t.notMatch(server.stdout, /secret/, "private text stays out of the log");
  server.child.kill("SIGTERM");
  await server.exited;
});

t.test("a port in use is one clear line and exit code 1", async (t) => {
  const taken = (await testServer(t)).address.port;
  const server = new Script(t, "server.ts", ["--port", String(taken), "--db", ":memory:"]);
  t.match(await server.exited, { code: 1 });
  t.equal(server.stderr.trim(), `Port ${taken} on 127.0.0.1 is already in use (is another server running?)`);
});

t.test("--help explains every option; a bad option is exit code 2", async (t) => {
  const help = new Script(t, "server.ts", ["--help"]);
  t.match(await help.exited, { code: 0 });
  for (const option of ["--host", "--port", "--max-body-bytes", "--max-header-bytes", "--max-outbound-bytes", "--quiet", "--db", "--history", "--history-keep"]) {
    t.match(help.stdout, option);
  }
  const bad = new Script(t, "server.ts", ["--prot", "1"]);
  t.match(await bad.exited, { code: 2 });
  t.match(bad.stderr, /Unknown option '--prot'[\s\S]*--help/);
});

t.test("limits given as options are applied", async (t) => {
  const { port } = await startScript(t, ["--max-body-bytes", "100", "--quiet"]);
  const peer = await Peer.connect(t, port);
  peer.send("Content-length: 101\n");
  t.match(await peer.next(), { type: "error", code: "frame_too_large", message: /limit of 100/ });
});

t.test("--max-header-bytes too small for any header is refused at start", async (t) => {
  const server = new Script(t, "server.ts", ["--port", "0", "--db", ":memory:", "--max-header-bytes", "5"]);
  t.match(await server.exited, { code: 2 });
  t.match(server.stderr, /--max-header-bytes 5 is too small/);
});

t.test("the log escapes C1 controls and bidi overrides as it does C0 ones", async (t) => {
  const { server, port } = await startScript(t);
  const ana = await Peer.joined(t, port, "ana");
  ana.send({ type: "chat", message: "a\u009b2Jb\u202eevil" });
  await server.waitFor(/ana: a\\u009b2Jb\\u202eevil/);
  server.child.kill("SIGTERM");
  await server.exited;
});

for (const [how, signal] of [["SIGTERM", "SIGTERM"], ["kill -9 after the batch window", "SIGKILL"]] as const) {
  t.test(`a restart on the same database after ${how} keeps accounts and history`, async (t) => {
    const db = path.join(tempDir(t), "chat.db");
    const first = await startScript(t, ["--db", db]);
    const ana = await Peer.joined(t, first.port, "ana");
    ana.send({ type: "register", password: "a long password" });
    t.match(await ana.next(), { type: "registered" });
    ana.send({ type: "chat", message: "kept" });
    await ana.drain();
    if (signal === "SIGKILL") await new Promise((resolve) => setTimeout(resolve, 500)); // past the batch window
    first.server.child.kill(signal);
    await first.server.exited;

    const second = await startScript(t, ["--db", db]);
    const back = await Peer.connect(t, second.port);
    back.send({ type: "join", client_name: "ana", password: "a long password", features: ["history"] });
    t.match(await back.next(), { type: "welcome", account: true });
    t.match(await back.next(), { type: "chat", client_name: "ana", message: "kept", history: true });
    second.server.child.kill("SIGTERM");
    await second.server.exited;
  });
}
