/**
 * `launcher.ts --cluster`: its servers are one chat (a redis-server from
 * PATH and a PostgreSQL from npm, started in --db-dir), clients on different
 * servers talk, and when it stops nothing is left: no server, no client, no
 * Redis, no PostgreSQL, no port.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { planInstances, childArgs } from "../launcher/plan.js";
import { parseLauncherArgs } from "../launcher.js";
import { eventually, freePorts, Script } from "./helpers/helpers.js";
import { hasRedis, NO_REDIS } from "./helpers/redis.js";
import { descendants, isAlive } from "./helpers/processes.js";

/** Seven processes, PostgreSQL's first start among them, on a small machine. */
const START_MS = 120_000;

t.test("--cluster: servers share one database, and each client is given every server, its own first", async (t) => {
  t.match(parseLauncherArgs(["--servers", "2", "--cluster"]), { cluster: true, servers: 2 });
  t.match(parseLauncherArgs([]), { cluster: false });
  const [server, , , client] = planInstances({ port: 7000, servers: 2, names: ["ana", "bruno"] });
  const options = { host: "127.0.0.1", sharedDb: "postgres://chat:chat@127.0.0.1:5432/postgres", clusterPorts: [7000, 7001] };
  t.same(childArgs(server!, options).slice(4, 6), ["--db", options.sharedDb]);
  t.same(childArgs(client!, options).slice(0, 2), ["--host", "127.0.0.1:7001,127.0.0.1:7000"], "bruno, on the second server, has it first");
  t.same(childArgs(client!, { ...options, host: "::1" }).slice(0, 2), ["--host", "[::1]:7001,[::1]:7000"]);
});

t.test("without a terminal: 2 servers as one chat, 3 clients talking across them, nothing left behind", { skip: hasRedis ? false : NO_REDIS }, async (t) => {
  const port = await freePorts(2);
  const dir = t.testdir();
  // In Portuguese, whose locale this machine may lack: PostgreSQL starts all the same (in the C locale).
  const launcher = new Script(t, "launcher.ts", ["--servers", "2", "--clients", "3", "--port", String(port), "--db-dir", dir, "--cluster"], { LANG: "pt_BR.UTF-8" });
  await launcher.waitFor(/\[launcher\] Lançador do chat: 2 servidores, um só chat, 3 clientes\./, { ms: START_MS });
  const children = descendants(launcher.child.pid!);
  t.ok(existsSync(path.join(dir, "chat-postgres")), "PostgreSQL keeps its files in --db-dir");

  launcher.type("Usuario0 oi do primeiro servidor");
  await launcher.waitFor(/\[Usuario1\] .*Usuario0 \[Sem Assunto\]: oi do primeiro servidor/);
  launcher.type("Usuario1 @Usuario2 psiu");
  await launcher.waitFor(/\[Usuario2\] .*Usuario1 → você \(privada\) \[Sem Assunto\]: psiu/);
  launcher.type("Usuario2 /clientes");
  await launcher.waitFor(/\[Usuario2\] Online \(3\): Usuario0, Usuario1, Usuario2\n/);

  launcher.child.kill("SIGTERM");
  t.match(await launcher.exited, { code: 0 });
  // PostgreSQL's workers end just after its postmaster, which the launcher waited for: no event of ours says when.
  await eventually(() => children.filter(isAlive).length === 0, "every process to end", 10_000);
  t.same(children.filter(isAlive), [], "no process remains: servers, clients, redis-server and PostgreSQL all stopped");
});
