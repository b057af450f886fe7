import { execFileSync } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import t from "tap";
import { demoScript, nextState, parseLauncherArgs, planInstances, routeLine } from "../launcher.js";
import { freePorts, Script } from "./helpers.js";

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

function childPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((s) => s.trim())
      .map(Number);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
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
});

t.test("the demo greets, whispers on each server that has two clients, and lists", async (t) => {
  const steps = demoScript(planInstances({ port: 1, servers: 2, names: ["a", "b", "c"] }));
  t.same(steps, [
    { to: "a", text: "Hello everyone, I am a!" },
    { to: "b", text: "Hello everyone, I am b!" },
    { to: "c", text: "Hello everyone, I am c!" },
    { to: "a", text: "@c psst, a private hello from a" },
    { to: "a", text: "/clientes" },
    { to: "b", text: "/clientes" },
    { to: "c", text: "/clientes" },
  ]);
});

t.test("states follow the children's output", async (t) => {
  t.equal(nextState("server", "starting", "listening on 127.0.0.1:9999"), "listening");
  t.equal(nextState("client", "starting", "Welcome, ana! Online (1): ana."), "connected");
  t.equal(nextState("client", "connected", "Connection to the server at 127.0.0.1:9999 lost."), "disconnected");
  t.equal(nextState("client", "disconnected", "Reconectado como ana. Online (1): ana"), "connected");
  t.equal(nextState("client", "connected", "[10:00:00] bob [No subject]: Welcome, everyone"), "connected");
});

t.test("without a terminal: 2 servers, 5 clients, routed input, and nothing left behind", async (t) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    t.test(`stopped by ${signal}`, async (t) => {
      const port = await freePorts(2);
      const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "5", "--port", String(port)]);
      // Seven processes starting at once on a small machine, each loading TypeScript: give them time.
      await launcher.waitFor(/\[launcher\] 2 servers and 5 clients running\. Servers are independent/, { ms: 60_000 });
      const children = childPids(launcher.child.pid!);
      t.equal(children.length, 7, "seven children");

      launcher.type("Usuario0 hello from zero");
      await launcher.waitFor(/\[Usuario2\] .*Usuario0 \[No subject\]: hello from zero/);
      await launcher.waitFor(/\[Usuario4\] .*Usuario0 \[No subject\]: hello from zero/);
      launcher.type("usuario1 @Usuario3 psst");
      await launcher.waitFor(/\[Usuario3\] .*Usuario1 → you \(private\) \[No subject\]: psst/);
      launcher.type("Usuario3 /clientes");
      await launcher.waitFor(/\[Usuario3\] Online \(2\): Usuario1, Usuario3/);
      launcher.type("Usuario0 marker");
      await launcher.waitFor(/\[Usuario2\] .*Usuario0 \[No subject\]: marker/);
      t.notMatch(launcher.stdout, /\[Usuario[13]\] .*hello from zero/, "the other server's clients see nothing");
      launcher.type("nobody hi");
      await launcher.waitFor(/\[launcher\] No client named "nobody"/);

      launcher.child.kill(signal);
      t.match(await launcher.exited, { code: 0 });
      t.same(children.filter(isAlive), [], "no child process remains");
      t.ok(await portIsFree(port), `port ${port} is free`);
      t.ok(await portIsFree(port + 1), `port ${port + 1} is free`);
    });
  }
});

t.test("--demo shows the exchange, and the launcher exits at end of input", async (t) => {
  const port = await freePorts(2);
  const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "4", "--port", String(port), "--demo"]);
  launcher.child.stdin.end();
  t.match(await launcher.exited, { code: 0 });
  t.match(launcher.stdout, /\[Usuario2\] .*Usuario0 → you \(private\) \[No subject\]: psst, a private hello from Usuario0/);
  t.match(launcher.stdout, /\[Usuario3\] .*Usuario1 \[No subject\]: Hello everyone, I am Usuario1!/);
  t.match(launcher.stdout, /\[Usuario1\] Online \(2\): Usuario1, Usuario3/);
  t.match(launcher.stdout, /\[launcher\] stopping/);
});

t.test("a port in use is reported by number, and what started is stopped", async (t) => {
  const port = await freePorts(2);
  const blocker = net.createServer().listen(port + 1, "127.0.0.1");
  await once(blocker, "listening");
  t.teardown(() => blocker.close());
  const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "2", "--port", String(port)]);
  t.match(await launcher.exited, { code: 1 });
  t.match(launcher.stdout, `[launcher] server:${port + 1} could not start: Port ${port + 1} on 127.0.0.1 is already in use`);
  t.ok(await portIsFree(port), "the server that did start was stopped");
});

t.test("--duration stops it while its input stays open", async (t) => {
  const port = await freePorts(1);
  const launcher = new Script(t, "launcher.ts", ["--clients", "1", "--port", String(port), "--duration", "1"]);
  t.match(await launcher.exited, { code: 0 });
  t.match(launcher.stdout, /\[Usuario0\] Welcome, Usuario0![\s\S]*\[launcher\] stopping/);
});

t.test("a child that dies is shown as dead, and the others go on", async (t) => {
  const port = await freePorts(1);
  const launcher = new Script(t, "launcher.ts", ["--clients", "2", "--port", String(port)]);
  await launcher.waitFor(/clients running/, { ms: 60_000 });
  const [client] = childPids(launcher.child.pid!).slice(-1);
  process.kill(client!, "SIGKILL");
  await launcher.waitFor(/\[launcher\] Usuario1 died \(signal SIGKILL\); the others go on/);
  launcher.type("Usuario0 still alive");
  await launcher.waitFor(/\[server:\d+\] .*Usuario0: still alive/);
  launcher.child.kill("SIGTERM");
  t.match(await launcher.exited, { code: 0 });
});
