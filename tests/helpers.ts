/** Test helpers: a raw protocol peer over a real socket, and scripts run as child processes. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Decoder, encode, Message, ProtocolError, type MessageFields } from "../protocol.js";
import { startServer, type ChatServer, type ServerOptions } from "../server/chat-server.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** How long a helper waits for an expected event before failing the test. */
export const WAIT_MS = 5000;

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A server on a free port, closed when the test ends. */
export async function testServer(t: Teardown, options: ServerOptions = {}): Promise<ChatServer> {
  const server = await startServer({ port: 0, ...options });
  t.teardown(() => server.close());
  return server;
}

/** A client written from the protocol alone: frames in, frames out, nothing else. */
export class Peer {
  readonly frames: Array<Message | ProtocolError> = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly decoder = new Decoder();
  private waiter: (() => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.frames.push(...this.decoder.push(chunk));
      this.waiter?.();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => {
      this.isClosed = true;
      this.waiter?.();
    });
  }

  static connect(t: Teardown, port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1" }, () => resolve(new Peer(socket)));
      socket.once("error", reject);
      t.teardown(() => socket.destroy());
    });
  }

  /** Connects and joins under `name`, waiting for the welcome. */
  static async joined(t: Teardown, port: number, name: string): Promise<Peer> {
    const peer = await Peer.connect(t, port);
    peer.send({ type: "join", client_name: name });
    const welcome = await peer.next();
    if (welcome.type !== "welcome") throw new Error(`${name} was not welcomed: ${JSON.stringify(welcome)}`);
    return peer;
  }

  send(fields: MessageFields | Buffer | string): void {
    this.socket.write(typeof fields === "string" || Buffer.isBuffer(fields) ? fields : encode(fields));
  }

  /** The next frame; fails on a decoding error, on close, or after WAIT_MS. */
  async next(): Promise<Message> {
    const item = await this.nextItem();
    if (item instanceof ProtocolError) throw item;
    return item;
  }

  async nextItem(): Promise<Message | ProtocolError> {
    const deadline = Date.now() + WAIT_MS;
    while (this.frames.length === 0) {
      if (this.isClosed) throw new Error("Connection closed before the expected frame");
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("Timed out waiting for a frame");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.frames.shift()!;
  }

  /** Everything received up to the answer to a ping: the server has sent all it will for now. */
  async drain(): Promise<Message[]> {
    this.send({ type: "ping" });
    const got: Message[] = [];
    for (;;) {
      const msg = await this.next();
      if (msg.type === "pong") return got;
      got.push(msg);
    }
  }

  /** Resolves when the server has closed the connection; fails after WAIT_MS. */
  async expectClosed(): Promise<void> {
    await within(this.closed, "the connection to close");
  }
}

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

/** A project script run as a child process, with its output gathered line by line. */
export class Script {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters = new Set<() => void>();

  /** Runs in the project's directory: tap's TypeScript loader compiles by its tsconfig.json. */
  constructor(t: Teardown, file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    // Reusing this process's loader (tap's TypeScript support) keeps coverage correct.
    this.child = spawn(process.execPath, [...process.execArgv, path.join(ROOT, file), ...args], {
      cwd: ROOT,
      env: { ...process.env, LANG: "C", ...env },
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
