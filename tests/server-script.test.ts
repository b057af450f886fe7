/** server.ts run as a person runs it: a child process with arguments and signals. */
import t from "tap";
import { Peer, Script, testServer } from "./helpers.js";

async function startScript(t: { teardown(fn: () => unknown): void }, args: string[] = []) {
  const server = new Script(t, "server.ts", ["--port", "0", ...args]);
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
  const server = new Script(t, "server.ts", ["--port", String(taken)]);
  t.match(await server.exited, { code: 1 });
  t.equal(server.stderr.trim(), `Port ${taken} on 127.0.0.1 is already in use (is another server running?)`);
});

t.test("--help explains every option; a bad option is exit code 2", async (t) => {
  const help = new Script(t, "server.ts", ["--help"]);
  t.match(await help.exited, { code: 0 });
  for (const option of ["--host", "--port", "--max-body-bytes", "--max-header-bytes", "--max-outbound-bytes", "--quiet"]) {
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
