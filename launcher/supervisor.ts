/** The launcher's child processes: starts them, reads their state from their output, types into clients, stops them. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter, once } from "node:events";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { detectLang, LAUNCHER_TEXTS } from "../common/catalogue.js";
import { STATUS_PREFIX, parseStatusLine } from "../common/launch-contract.js";
import {
  childArgs,
  nextState,
  notSentText,
  type ChildOptions,
  type Instance,
  type InstanceKind,
  type InstanceSpec,
  type InstanceState,
} from "./plan.js";

/** The project folder, where the entry scripts are. */
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Lines of output kept per instance for the full-screen view. */
export const KEPT_LINES = 500;
/**
 * How long start() waits for a client to join once it says it is connecting
 * (loading the program, slow on a busy machine, does not count): longer, and
 * its name was refused or its server does not answer.
 */
export const CLIENT_JOIN_TIMEOUT_MS = 15_000;
/** How long a child may take to stop cleanly before it is killed. */
export const STOP_TIMEOUT_MS = 3000;
/** How long the demo waits for every client to show its user list. */

export interface SupervisorEvents {
  line: [Instance, string];
  state: [Instance];
}

export interface SupervisorOptions extends ChildOptions {
  /**
   * The program and first arguments each kind of instance runs, before childArgs().
   * @default this Node with its loader (tsx from the command line, tap's in tests) and server.ts or client.ts
   */
  commands?: Partial<Record<InstanceKind, string[]>>;
}

/** The command each kind of instance runs, unless SupervisorOptions.commands says otherwise. */
export function defaultCommand(kind: InstanceKind): string[] {
  return [process.execPath, ...process.execArgv, path.join(ROOT, kind === "server" ? "server.ts" : "client.ts")];
}

/** A server that could not start: `port` in use, usually. */
export class StartError extends Error {
  override readonly name = "StartError";
  constructor(
    /** The server's name (`server:PORT`) and why it did not start, in its own words: the launcher says the rest in its language. */
    readonly instance: string,
    readonly why: string,
  ) {
    super(`${instance} could not start: ${why}`);
  }
}

interface Waiter {
  instance: Instance;
  states: InstanceState[];
  resolve(): void;
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly instances: Instance[];
  private readonly children = new Map<Instance, ChildProcessWithoutNullStreams>();
  /** Everyone waiting in until(): one list, so any number of waiters adds no listener. */
  private readonly waiters = new Set<Waiter>();
  private stopped: Promise<void> | undefined;

  constructor(
    specs: InstanceSpec[],
    private readonly options: SupervisorOptions,
  ) {
    super();
    this.instances = specs.map((spec) => ({ ...spec, state: "starting", ended: undefined, lines: [] }));
  }

  get clients(): Instance[] {
    return this.instances.filter((i) => i.kind === "client");
  }

  /** True once stop() has been called. */
  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /** Starts the servers, then the clients; rejects with StartError if a server cannot listen. */
  async start(): Promise<void> {
    const servers = this.instances.filter((i) => i.kind === "server");
    await Promise.all(servers.map((s) => this.startOne(s, "listening", "stopped", "dead")));
    const failed = servers.find((s) => s.state !== "listening");
    if (failed) {
      // The server's own sentence: a port in use, an option it refused, a database it could not open.
      const why = failed.lines.find((l) => /in use|Cannot listen|Not allowed/.test(l)) ?? failed.lines[0] ?? failed.ended ?? "it did not start";
      throw new StartError(failed.name, why);
    }
    await Promise.all(this.clients.map((c) => this.startClient(c)));
  }

  /**
   * Starts a client and waits until it has joined, has ended, or has been
   * connecting for CLIENT_JOIN_TIMEOUT_MS: one that cannot join (its name
   * refused by a server already there) stays "connecting" on screen.
   */
  private async startClient(client: Instance): Promise<void> {
    const ended = ["closed", "stopped", "dead"] as const;
    await this.startOne(client, "connecting", "connected", ...ended);
    await Promise.race([this.until(client, "connected", ...ended), sleep(CLIENT_JOIN_TIMEOUT_MS)]);
  }

  /**
   * Types a line into a client, as at its own prompt. Returns undefined once
   * written, or a sentence saying why it was not sent (the client has quit or died).
   */
  send(name: string, text: string): string | undefined {
    const instance = this.instances.find((i) => i.name === name && i.kind === "client");
    const t = LAUNCHER_TEXTS[detectLang(this.options.lang)];
    if (!instance) return t.noClient(name);
    const child = this.children.get(instance);
    const gone = instance.state === "closed" || instance.state === "stopped" || instance.state === "dead";
    if (!child || gone || child.exitCode !== null || child.signalCode !== null || !child.stdin.writable) {
      return notSentText(instance, t);
    }
    child.stdin.write(`${text}\n`);
    return undefined;
  }

  /** Resolves once `instance` is in one of `states`. */
  until(instance: Instance, ...states: InstanceState[]): Promise<void> {
    if (states.includes(instance.state)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ instance, states, resolve }));
  }

  /** Clients leave first (end of input: a clean /quit), then servers; stragglers are killed. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.stopAll(this.clients);
      await this.stopAll(this.instances.filter((i) => i.kind === "server"));
    })();
    return this.stopped;
  }

  /** Last resort for exit handlers: kills every child at once. */
  killAll(): void {
    for (const child of this.children.values()) if (child.exitCode === null) child.kill("SIGKILL");
  }

  private async stopAll(instances: Instance[]): Promise<void> {
    await Promise.all(
      instances.map(async (instance) => {
        const child = this.children.get(instance);
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        child.stdin.end();
        if (instance.kind === "server") child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Spawns one child; resolves once it is in one of `states`. */
  private startOne(instance: Instance, ...states: InstanceState[]): Promise<void> {
    const [program, ...args] = this.options.commands?.[instance.kind] ?? defaultCommand(instance.kind);
    const child = spawn(program!, [...args, ...childArgs(instance, this.options)], {
      stdio: "pipe",
      env: process.env,
    });
    this.children.set(instance, child);
    child.stdin.on("error", () => {}); // a child that died: its exit says so
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => this.onLine(instance, line));
    }
    child.once("exit", (code, signal) => {
      instance.ended = signal ? `signal ${signal}` : `exit code ${code}`;
      this.setState(instance, code === 0 || this.stopping ? "stopped" : "dead");
    });
    return this.until(instance, ...states);
  }

  private onLine(instance: Instance, line: string): void {
    if (/^npm warn /.test(line)) return; // npm's notes about its own configuration
    if (instance.kind === "client" && line.startsWith(STATUS_PREFIX)) {
      // For the launcher only: never shown, even when malformed.
      const status = parseStatusLine(line);
      if (status?.name) instance.joinedAs = status.name;
      if (status?.port !== undefined) instance.connectedPort = status.port;
    } else {
      instance.lines.push(line);
      if (instance.lines.length > KEPT_LINES) instance.lines.splice(0, instance.lines.length - KEPT_LINES);
      this.emit("line", instance, line);
    }
    // Output can still be read after the exit: the exit has the last word.
    if (instance.ended === undefined) this.setState(instance, nextState(instance.kind, instance.state, line));
  }

  private setState(instance: Instance, state: InstanceState): void {
    if (instance.state === state) return;
    instance.state = state;
    for (const waiter of this.waiters) {
      if (waiter.instance === instance && waiter.states.includes(state)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
    this.emit("state", instance);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
