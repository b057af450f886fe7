import { once } from "node:events";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import t from "tap";
import {
  childArgs,
  databaseFile,
  demoScript,
  nextState,
  notSentText,
  planInstances,
  routeLine,
  type Instance,
  type InstanceSpec,
} from "../launcher/plan.js";
import { LIST_LINE_PREFIXES } from "../launcher/demo.js";
import { parseLauncherArgs } from "../launcher.js";
import { LAUNCHER_TEXTS } from "../common/catalogue.js";
import { parseStatusLine, statusLine } from "../common/launch-contract.js";
import { stateText } from "../launcher/view.js";
import { Supervisor } from "../launcher/supervisor.js";
import { freePorts, PARALLEL_SUBTESTS, ROOT, Script, type Teardown } from "./helpers/helpers.js";
import { childPids, isAlive } from "./helpers/processes.js";

t.jobs = PARALLEL_SUBTESTS;

// This file starts about forty child processes, each loading TypeScript, one
// test after another: on a busy two-core machine that alone can pass the
// default two minutes per file. A fail-safe, not a measure.
t.setTimeout(600_000);

/** How long seven processes may take to load and join on a busy two-core machine: a fail-safe. */
const START_MS = 120_000;

/** Speaks the `#status` lines of `client.ts --supervised` without a server (see the file). */
const FAKE_CLIENT = path.join(ROOT, "tests", "fixtures", "supervised-client.mjs");

/** Client specs only (no server), for a Supervisor running the fake client. */
function fakeClients(names: string[]): InstanceSpec[] {
  return planInstances({ port: 1, servers: 1, names }).filter((spec) => spec.kind === "client");
}

function supervise(t: Teardown, names: string[]): Supervisor {
  const supervisor = new Supervisor(fakeClients(names), {
    host: "127.0.0.1",
    commands: { client: [process.execPath, FAKE_CLIENT] }, // plain Node: it needs no TypeScript loader
  });
  t.teardown(() => supervisor.stop());
  return supervisor;
}

/** The next line `instance` prints that satisfies `wanted`. */
function lineFrom(supervisor: Supervisor, instance: Instance, wanted: (line: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const onLine = (from: Instance, line: string) => {
      if (from !== instance || !wanted(line)) return;
      supervisor.off("line", onLine);
      resolve(line);
    };
    supervisor.on("line", onLine);
  });
}

async function portIsFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  try {
    probe.listen(port, "127.0.0.1");
    await once(probe, "listening");
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}

t.test("arguments", async (t) => {
  t.match(parseLauncherArgs(["--servers", "2", "--clients", "5"]), {
    servers: 2,
    port: 9999,
    host: "127.0.0.1",
    names: ["Usuario0", "Usuario1", "Usuario2", "Usuario3", "Usuario4"],
    demo: false,
    durationSeconds: undefined,
  });
  t.match(parseLauncherArgs(["--names", "ana,bruno", "--demo", "--duration", "3"]), {
    servers: 1,
    names: ["ana", "bruno"],
    demo: true,
    durationSeconds: 3,
  });
  t.equal(parseLauncherArgs(["--help"]), undefined);
  const refused: Array<[string[], RegExp]> = [
    [["--servers", "0"], /--servers must be a whole number of at least 1/],
    [["--clients", "3", "--names", "a,b"], /gives 2 names for 3 clients/],
    [["--names", "a,A"], /each name must be different/],
    [["--names", "a b,c"], /cannot contain spaces/],
    [["--port", "65535", "--servers", "2"], /room for 2 consecutive ports/],
    [["--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of refused) t.throws(() => parseLauncherArgs(args), { name: "UsageError", message }, args.join(" "));
});

t.test("servers on consecutive ports, clients round-robin over them", async (t) => {
  const plan = planInstances({ port: 7000, servers: 2, names: ["a", "b", "c"] });
  t.same(
    plan.map((i) => [i.kind, i.name, i.port]),
    [
      ["server", "server:7000", 7000],
      ["server", "server:7001", 7001],
      ["client", "a", 7000],
      ["client", "b", 7001],
      ["client", "c", 7000],
    ],
  );
});

t.test("input lines are routed by client name", async (t) => {
  const names = ["Usuario0", "ana"];
  t.same(routeLine("ana hello there", names), { to: "ana", text: "hello there" });
  t.same(routeLine("usuario0 /clientes", names), { to: "Usuario0", text: "/clientes" }, "names without case");
  t.same(routeLine("ana @Usuario0 psst", names), { to: "ana", text: "@Usuario0 psst" });
  t.same(routeLine("ana", names), { to: "ana", text: "" });
  t.equal(routeLine("   ", names), undefined);
  t.match(routeLine("zed hi", names), { error: /No client named "zed".*Usuario0, ana/ });
  t.match(routeLine("zed hi", names, LAUNCHER_TEXTS.pt), { error: /Nenhum cliente se chama "zed".*Usuario0, ana/ }, "in Portuguese with --lang pt");
});

t.test("the demo greets, whispers on each server that has two clients, and lists", async (t) => {
  const steps = demoScript(planInstances({ port: 1, servers: 2, names: ["a", "b", "c"] }));
  t.same(steps, [
    { to: "a", text: "Hello everyone, I am a!" },
    { to: "b", text: "Hello everyone, I am b!" },
    { to: "c", text: "Hello everyone, I am c!" },
    { to: "a", text: "@c psst, a private hello from a" },
    { to: "a", text: "/join #provas" },
    { to: "c", text: "/join #provas", after: { from: "a", text: "#provas" } },
    { to: "c", text: "Hi #provas, c here" },
    { to: "a", text: "/join #grupo private", after: { from: "a", text: "#provas" } },
    { to: "a", text: "/invite c" },
    { to: "c", text: "/join #grupo", after: { from: "c", text: "#grupo" } },
    { to: "c", text: "Only the two of us in #grupo" },
    { to: "a", text: "/clientes" },
    { to: "b", text: "/clientes" },
    { to: "c", text: "/clientes" },
  ]);
});

t.test("servers get their own database, named by port; clients are started supervised", async (t) => {
  const [server, client] = planInstances({ port: 7000, servers: 1, names: ["ana"] }) as [InstanceSpec, InstanceSpec];
  t.same(childArgs(server, { host: "127.0.0.1" }), [
    "--host", "127.0.0.1", "--port", "7000", "--db", "chat-7000.db", "--exit-on-stdin-end",
  ], "chat-PORT.db in the working directory: a second run finds the same file");
  t.same(childArgs(server, { host: "0.0.0.0", dbDir: "/var/chat" }).slice(4, 6), ["--db", path.join("/var/chat", "chat-7000.db")]);
  t.same(childArgs(client, { host: "127.0.0.1" }), ["--host", "127.0.0.1", "--port", "7000", "--name", "ana", "--supervised"]);
  t.same(childArgs(client, { host: "127.0.0.1", lang: "pt" }).slice(-2), ["--lang", "pt"]);
  const servers = planInstances({ port: 7000, servers: 3, names: [] });
  t.same(new Set(servers.map((s) => databaseFile(s.port))).size, 3, "one database per server");
  t.match(parseLauncherArgs(["--db-dir", "/tmp/x"]), { dbDir: "/tmp/x" });
  t.match(parseLauncherArgs([]), { dbDir: undefined });
});

t.test("a client's state comes from its #status lines, and nothing else it prints", async (t) => {
  const status = (state: string, name: string | null) => `#status ${JSON.stringify({ state, name })}`;
  t.same(parseStatusLine('#status {"state":"joined","name":"ana"}'), { state: "joined", name: "ana" });
  t.same(parseStatusLine('#status {"state":"connecting","name":null}'), { state: "connecting", name: null });
  t.same(parseStatusLine(statusLine("joined", "ana", 10000)), { state: "joined", name: "ana", port: 10000 }, "the server it is on (it may move)");
  t.same(parseStatusLine('#status {"state":"joined","name":"ana","port":"x"}'), { state: "joined", name: "ana" }, "a port that is not one is left out");
  const moved = { ...planInstances({ port: 9999, servers: 2, names: ["ana", "bia"] })[3]!, state: "connected" as const, ended: undefined, lines: [], connectedPort: 9999 };
  t.equal(stateText(moved), "connected to :9999", "a client that moved to another server shows that server");
  const expected = [
    ["connecting", "connecting"],
    ["joined", "connected"],
    ["reconnecting", "reconnecting"],
    ["disconnected", "disconnected"],
    ["closed", "closed"],
  ] as const;
  for (const [announced, shown] of expected) t.equal(nextState("client", "starting", status(announced, "ana")), shown, announced);
  const ignored = [
    "Welcome, ana! Online (1): ana.",
    "Connection to the server at 127.0.0.1:9999 lost.",
    "[10:00:00] bob [No subject]: #status {\"state\":\"closed\",\"name\":null}",
    "#status",
    "#status not json",
    '#status {"state":"asleep","name":"ana"}',
    '#status {"state":"joined","name":7}',
    '#status ["joined"]',
    '#status null',
    '#statu {"state":"joined","name":"ana"}',
  ];
  for (const line of ignored) t.equal(nextState("client", "connected", line), "connected", line);
  t.equal(nextState("server", "starting", "listening on 127.0.0.1:9999"), "listening");
  t.equal(nextState("server", "listening", status("closed", null)), "listening", "servers have no #status lines");
});

t.test("why a line was not sent", async (t) => {
  t.equal(notSentText({ name: "ana", state: "stopped", ended: "exit code 0" }), "ana has quit; its line was not sent");
  t.equal(notSentText({ name: "ana", state: "closed", ended: undefined }), "ana has quit; its line was not sent");
  t.equal(notSentText({ name: "ana", state: "dead", ended: "signal SIGKILL" }), "ana has died (signal SIGKILL); its line was not sent");
  t.equal(notSentText({ name: "ana", state: "stopped", ended: "exit code 0" }, LAUNCHER_TEXTS.pt), "ana saiu; a linha não foi enviada");
  t.equal(notSentText({ name: "ana", state: "dead", ended: "signal SIGKILL" }, LAUNCHER_TEXTS.pt), "ana morreu (signal SIGKILL); a linha não foi enviada");
});

t.test("the demo waits for the user list as the client's own texts write it", async (t) => {
  t.ok(LIST_LINE_PREFIXES.length >= 2, "one per language");
  for (const prefix of LIST_LINE_PREFIXES) t.ok(prefix.length > 0 && "Online (2): ana, bruno".startsWith(prefix), prefix);
});

t.test("Supervisor, with a stand-in for client.ts --supervised", async (t) => {
  t.test("states from #status lines, which are never shown; a line to a client that quit is refused", async (t) => {
    const supervisor = supervise(t, ["ana", "bruno"]);
    const [ana, bruno] = supervisor.clients as [Instance, Instance];
    const seen: string[] = [];
    supervisor.on("line", (_, line) => seen.push(line));
    await supervisor.start();
    t.equal(ana.state, "connected");
    t.equal(ana.joinedAs, "ana");
    t.equal(supervisor.send("ana", "/lose"), undefined);
    await supervisor.until(ana, "reconnecting");
    supervisor.send("ana", "/bad");
    supervisor.send("ana", "/back");
    await supervisor.until(ana, "connected");
    supervisor.send("ana", "hello");
    await lineFrom(supervisor, ana, (line) => line === "you: hello");
    t.same(ana.lines, ["Welcome, ana!", "you: hello"], "no #status line is kept, even a malformed one");
    t.notOk(seen.some((line) => line.startsWith("#status")), "nor passed on");

    supervisor.send("bruno", "/quit");
    await supervisor.until(bruno, "stopped");
    t.equal(bruno.ended, "exit code 0");
    t.equal(supervisor.send("bruno", "still there?"), "bruno has quit; its line was not sent");
    t.equal(supervisor.send("nobody", "hi"), 'No client named "nobody"');
    t.equal(ana.state, "connected", "the others go on");
  });

  t.test("12 clients and 20 more waiters: no MaxListenersExceededWarning", async (t) => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    t.teardown(() => void process.off("warning", onWarning));
    const supervisor = supervise(t, Array.from({ length: 12 }, (_, i) => `c${i}`));
    const last = supervisor.clients.at(-1)!;
    const waiters = Array.from({ length: 20 }, () => supervisor.until(last, "connected"));
    await supervisor.start();
    await Promise.all(waiters);
    t.ok(supervisor.clients.every((c) => c.state === "connected"), "all 12 joined");
    t.ok(supervisor.listenerCount("state") <= 1, "waiting adds no listeners");
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    t.same(warnings.map((w) => w.name), []);
  });
});

t.test("without a terminal: 2 servers, 5 clients, routed input, and nothing left behind", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("stopped by SIGTERM", async (t) => {
    const port = await freePorts(2);
    const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "5", "--port", String(port), "--db-dir", t.testdir()]);
    // Seven processes starting at once on a small machine, each loading TypeScript: give them time.
    await launcher.waitFor(/\[launcher\] 2 servers and 5 clients running\. Servers are independent/, { ms: START_MS });
    const children = childPids(launcher.child.pid!);
    t.equal(children.length, 7, "seven children");

    launcher.type("Usuario0 hello from zero");
    await launcher.waitFor(/\[Usuario2\] .*Usuario0 \[No subject\]: hello from zero/);
    await launcher.waitFor(/\[Usuario4\] .*Usuario0 \[No subject\]: hello from zero/);
    launcher.type("usuario1 @Usuario3 psst");
    await launcher.waitFor(/\[Usuario3\] .*Usuario1 → you \(private\) \[No subject\]: psst/);
    launcher.type("Usuario3 /clientes");
    await launcher.waitFor(/\[Usuario3\] Online \(2\): (Usuario1, Usuario3|Usuario3, Usuario1)\n/); // the server's order
    launcher.type("Usuario0 marker");
    await launcher.waitFor(/\[Usuario2\] .*Usuario0 \[No subject\]: marker/);
    t.notMatch(launcher.stdout, /\[Usuario[13]\] .*hello from zero/, "the other server's clients see nothing");
    launcher.type("nobody hi");
    await launcher.waitFor(/\[launcher\] No client named "nobody"/);
    t.notMatch(launcher.stdout, /#status/, "the clients' status lines are the launcher's alone");

    launcher.child.kill("SIGTERM");
    t.match(await launcher.exited, { code: 0 });
    t.same(children.filter(isAlive), [], "no child process remains");
    t.ok(await portIsFree(port), `port ${port} is free`);
    t.ok(await portIsFree(port + 1), `port ${port + 1} is free`);
  });
  // The same stop as SIGTERM's (one handler for both): a server and a client are enough to show it.
  t.test("stopped by SIGINT", async (t) => {
    const port = await freePorts(1);
    const launcher = new Script(t, "launcher.ts", ["--servers", "1", "--clients", "1", "--port", String(port), "--db-dir", t.testdir()]);
    await launcher.waitFor(/\[launcher\] 1 server and 1 client running\./, { ms: START_MS });
    const children = childPids(launcher.child.pid!);
    t.equal(children.length, 2, "two children");
    launcher.child.kill("SIGINT");
    t.match(await launcher.exited, { code: 0 });
    t.same(children.filter(isAlive), [], "no child process remains");
    t.ok(await portIsFree(port), `port ${port} is free`);
  });
});

t.test("--demo shows the exchange, and the launcher exits at end of input", async (t) => {
  const port = await freePorts(2);
  const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "4", "--port", String(port), "--demo", "--db-dir", t.testdir()]);
  launcher.child.stdin.end();
  t.match(await launcher.exited, { code: 0 });
  t.match(launcher.stdout, /\[Usuario2\] .*Usuario0 → you \(private\) \[No subject\]: psst, a private hello from Usuario0/);
  t.match(launcher.stdout, /\[Usuario3\] .*Usuario1 \[No subject\]: Hello everyone, I am Usuario1!/);
  t.match(launcher.stdout, /\[Usuario1\] Online \(2\): (Usuario1, Usuario3|Usuario3, Usuario1)\n/);
  t.match(launcher.stdout, /\[Usuario0\] .*Usuario2 entered #provas/, "a room");
  t.match(launcher.stdout, /\[Usuario0\] .*Usuario2 \[No subject\]: Hi #provas, Usuario2 here/);
  t.match(launcher.stdout, /\[Usuario2\] .*Usuario0 invited you to #grupo/, "a private group");
  t.match(launcher.stdout, /\[Usuario0\] .*Usuario2 \[No subject\]: Only the two of us in #grupo/);
  t.notMatch(launcher.stdout, /\[Usuario[13]\] .*#grupo/, "invisible on the other server");
  t.match(launcher.stdout, /\[launcher\] stopping/);
});

t.test("a port in use is reported by number, and what started is stopped", async (t) => {
  const port = await freePorts(2);
  const blocker = net.createServer().listen(port + 1, "127.0.0.1");
  await once(blocker, "listening");
  t.teardown(() => blocker.close());
  const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "2", "--port", String(port), "--db-dir", t.testdir()]);
  t.match(await launcher.exited, { code: 1 });
  t.match(launcher.stdout, `[launcher] server:${port + 1} could not start: Port ${port + 1} on 127.0.0.1 is already in use (is another server running?); stopping everything`);
  t.notMatch(launcher.stdout, /the others go on/, "said once, and truly: nothing goes on (issue 18, item 22)");
  t.ok(await portIsFree(port), "the server that did start was stopped");
  const pt = new Script(t, "launcher.ts", ["--servers", "1", "--clients", "1", "--port", String(port + 1), "--db-dir", t.testdir(), "--lang", "pt"]);
  t.match(await pt.exited, { code: 1 });
  t.match(pt.stdout, `[launcher] server:${port + 1} não pôde iniciar: Port ${port + 1} on 127.0.0.1 is already in use (is another server running?); encerrando tudo`, "in Portuguese (item 21)");
});

t.test("--duration stops it while its input stays open; each server has its database file", async (t) => {
  const port = await freePorts(1);
  const dir = t.testdir();
  const launcher = new Script(t, "launcher.ts", ["--clients", "1", "--port", String(port), "--duration", "1", "--db-dir", dir]);
  t.match(await launcher.exited, { code: 0 });
  t.match(launcher.stdout, /\[Usuario0\] Welcome, Usuario0![\s\S]*\[launcher\] stopping/);
  t.ok(existsSync(path.join(dir, `chat-${port}.db`)), `chat-${port}.db was made, for the next run to find`);
});

t.test("a line typed into a client that has quit is not sent, and the launcher says so", async (t) => {
  const port = await freePorts(1);
  const launcher = new Script(t, "launcher.ts", ["--clients", "2", "--port", String(port), "--db-dir", t.testdir()]);
  await launcher.waitFor(/clients running/, { ms: START_MS });
  launcher.type("Usuario0 /quit");
  await launcher.waitFor(/\[launcher\] Usuario0 has quit\n/);
  launcher.type("Usuario0 anyone there?");
  await launcher.waitFor(/\[launcher\] Usuario0 has quit; its line was not sent/);
  launcher.type("Usuario1 still here");
  await launcher.waitFor(/\[server:\d+\] .*Usuario1: still here/);
  t.notMatch(launcher.stdout, /anyone there/, "not sent");
  launcher.child.stdin.end();
  t.match(await launcher.exited, { code: 0 });
});

t.test("a child that dies is shown as dead, and the others go on", async (t) => {
  const port = await freePorts(1);
  const launcher = new Script(t, "launcher.ts", ["--clients", "2", "--port", String(port), "--db-dir", t.testdir()]);
  await launcher.waitFor(/clients running/, { ms: START_MS });
  const [client] = childPids(launcher.child.pid!).slice(-1);
  process.kill(client!, "SIGKILL");
  await launcher.waitFor(/\[launcher\] Usuario1 died \(signal SIGKILL\); the others go on/);
  launcher.type("Usuario1 hello?");
  await launcher.waitFor(/\[launcher\] Usuario1 has died \(signal SIGKILL\); its line was not sent/);
  launcher.type("Usuario0 still alive");
  await launcher.waitFor(/\[server:\d+\] .*Usuario0: still alive/);
  launcher.child.kill("SIGTERM");
  t.match(await launcher.exited, { code: 0 });
});
