/**
 * Test helpers: what a test ends with (Teardown), waiting with a deadline, a
 * server on a free port, scripts run as child processes, temporary folders.
 * The clients a test speaks through are in test-clients.ts.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, type ChatServer, type ServerOptions } from "../../server/chat-server.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** How long a helper waits for an expected event before failing the test. */
export const WAIT_MS = 5000;

/**
 * How many subtests run at once (`t.jobs`) where each has its own server and
 * spends its time waiting: for child processes to start, for a client's
 * reconnect delay. Independent by construction: a server on port 0 each.
 */
export const PARALLEL_SUBTESTS = 4;

/** What a test offers for cleaning up: tap's `t`, or anything with a teardown. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * log2 of scrypt's cost in test servers: a hash in a few milliseconds. At
 * the real cost (128 MiB and about half a second each) tests that register
 * wait on hashing, and time out on a busy machine.
 */
export const TEST_PASSWORD_COST_LOG2 = 10;

/**
 * TEST_STORE=postgres (`npm run test:postgres`): every testServer() not given
 * a database gets a fresh PostgreSQL one instead of the memory store, so the
 * protocol's tests check the PostgreSQL store over real sockets.
 */
export const TEST_STORE = "TEST_STORE";
let postgres: Promise<import("./postgres.js").TestPostgres> | undefined;

/** One embedded PostgreSQL for the test file, started at its first use and stopped when the file ends. */
function testPostgres(): Promise<import("./postgres.js").TestPostgres> {
  // Loaded only when asked for: the benchmark imports these helpers too, without tap.
  postgres ??= Promise.all([import("./postgres.js"), import("tap")]).then(([{ startPostgres }, { default: file }]) => startPostgres(file));
  return postgres;
}

/** A server on a free port, closed when the test ends. */
export async function testServer(t: Teardown, options: ServerOptions = {}): Promise<ChatServer> {
  if (process.env[TEST_STORE] === "postgres" && options.db === undefined && options.store === undefined) {
    options = { ...options, db: await (await testPostgres()).freshDatabase(t) };
  }
  const server = await startServer({ port: 0, passwordCostLog2: TEST_PASSWORD_COST_LOG2, ...options });
  t.teardown(() => server.close());
  return server;
}

/** `promise`'s value, or a failure naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How a test starts a project script: Node with tsx and nothing else. Not this
 * process's own arguments: tap's mock and process-info hooks add about a second
 * of start-up to every child, and a test starts dozens of them.
 */
export function scriptNodeArgs(file: string): string[] {
  return ["--import", "tsx", path.join(ROOT, file)];
}

/** tap's own variables: its process-info hook rides in NODE_OPTIONS, into every Node process below a test. */
const TAP_ENVIRONMENT = /^(TAP|_TAPJS_)|^NODE_OPTIONS$|^NODE_V8_COVERAGE$/;

/** This process's environment less tap's own, for a script a test starts. */
export function scriptEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (TAP_ENVIRONMENT.test(name)) delete env[name];
  return env;
}

/** A project script run as a child process, with its output gathered line by line. */
export class Script {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters = new Set<() => void>();

  /** Runs in the project's directory, as `npx tsx FILE ARGS` would. */
  constructor(t: Teardown, file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [...scriptNodeArgs(file), ...args], {
      cwd: ROOT,
      env: { ...scriptEnvironment(), LANG: "C", ...env },
    });
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
      this.notify();
    });
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
      this.notify();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.notify());
    t.teardown(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    });
  }

  /** Waits until standard output (or error) matches; returns the match. */
  async waitFor(pattern: RegExp, { stream = "stdout", ms = WAIT_MS * 2 }: { stream?: "stdout" | "stderr"; ms?: number } = {}): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this[stream].match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`Exited before ${pattern} appeared.\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for ${pattern}.\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  private notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    waiters.forEach((wake) => wake());
  }
}

/** A fresh directory, removed when the test ends. */
export function tempDir(t: Teardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-test-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Waits until `check()` holds, polling: for state with no event to await (another process's view, a counter). */
export async function eventually(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A base port with `count` free consecutive ports after it. */
export async function freePorts(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const probes: net.Server[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const probe = net.createServer().listen(base + i, "127.0.0.1");
        probes.push(probe);
        await once(probe, "listening");
      }
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(probes.map((p) => new Promise((resolve) => p.close(resolve))));
    }
  }
}

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl in a temporary directory removed with the test. */
export function throwawayCertificate(t: Teardown): { cert: string; key: string } {
  const dir = tempDir(t);
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2", "-keyout", key, "-out", cert],
    { stdio: "ignore" },
  );
  return { cert, key };
}
