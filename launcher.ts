/**
 * Starts several servers and clients at once, as seed 000's launcher window did.
 *
 *     npx tsx launcher.ts --servers 2 --clients 5 [--demo] [--names a,b,c] ...
 *
 * In a terminal it shows every instance on one screen (launcher-view.tsx);
 * otherwise it prints each instance's output prefixed with its name and
 * routes input lines "NAME text" to that client. The pure parts (arguments,
 * plan, routing, demo) are exported for tests; `Supervisor` owns the children.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter, once } from "node:events";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { isMain, parseCount, parseOptions, parsePort, runMain, UsageError } from "./cli.js";
import { DEFAULT_HOST, DEFAULT_NAME_PREFIX, DEFAULT_PORT, nameKey, nameProblem } from "./protocol.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Lines of output kept per instance for the full-screen view. */
export const KEPT_LINES = 500;
/** How long start() waits for the clients to join. */
export const CLIENT_START_TIMEOUT_MS = 15_000;
/** How long a child may take to stop cleanly before it is killed. */
export const STOP_TIMEOUT_MS = 3000;

// ---------------------------------------------------------------------------
// Pure parts: arguments, plan, routing, demo
// ---------------------------------------------------------------------------

export interface LauncherOptions {
  host: string;
  port: number;
  servers: number;
  names: string[];
  demo: boolean;
  /** Stop after this many seconds; undefined to run until input ends (or Ctrl+C). */
  durationSeconds: number | undefined;
  lang: string | undefined;
  /** Each server also serves plain text (`--text-port`), on the ports after the chat ports. */
  text: boolean;
  /** Each server also serves the page on a port of its own (`--web-port`), after those. */
  web: boolean;
}

export const USAGE = `Usage: npx tsx launcher.ts [options]

Starts several chat servers and clients at once.

Options:
  --servers N       servers to start (default 1), on ports PORT, PORT+1, ...
  --clients M       clients to start (default 2); client i joins server i mod N
  --host H          address of the servers (default ${DEFAULT_HOST})
  --port P          port of the first server (default ${DEFAULT_PORT})
  --names a,b,c     the clients' names (default ${DEFAULT_NAME_PREFIX}0, ${DEFAULT_NAME_PREFIX}1, ...)
  --demo            the clients greet each other, send a private message and
                    list the users
  --duration S      stop after S seconds
  --lang en|pt      the clients' language
  --text            each server also serves plain text (nc) on port PORT+N+i
  --web             each server also serves the browser page on port
                    PORT+2N+i (its chat port serves the page anyway)
  -h, --help        show this help

Servers are independent: a client talks only with the clients on its own server.

In a terminal: one screen with every instance. Tab / Shift+Tab (or the arrow
keys) move the focus, Enter sends the line to the focused client, Ctrl+C (or
q on an empty line) stops everything.
Without a terminal: output lines are prefixed with the instance's name, and
each input line "NAME text" is typed into client NAME; the launcher stops when
its input ends (after the demo, if any) or after --duration.`;

/** Parses the command line; undefined means --help. */
export function parseLauncherArgs(args: string[]): LauncherOptions | undefined {
  const values = parseOptions(args, {
    servers: { type: "string" },
    clients: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    names: { type: "string" },
    demo: { type: "boolean" },
    duration: { type: "string" },
    lang: { type: "string" },
    text: { type: "boolean" },
    web: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  const servers = values.servers === undefined ? 1 : parseCount(values.servers, "--servers");
  const port = values.port === undefined ? DEFAULT_PORT : parsePort(values.port);
  const portsPerServer = 1 + (values.text ? 1 : 0) + (values.web ? 1 : 0);
  if (port === 0 || port + servers * portsPerServer - 1 > 65_535) {
    throw new UsageError(`--port must leave room for ${servers * portsPerServer} consecutive ports from 1 to 65535`);
  }
  const names = values.names === undefined ? undefined : values.names.split(",").map((n) => n.trim());
  const clients = values.clients === undefined ? (names?.length ?? 2) : parseCount(values.clients, "--clients", 0);
  if (names && names.length !== clients) {
    throw new UsageError(`--names gives ${names.length} names for ${clients} clients`);
  }
  for (const name of names ?? []) {
    const problem = nameProblem(name);
    if (problem) throw new UsageError(`--names: ${problem}: "${name}"`);
  }
  const keys = (names ?? []).map(nameKey);
  if (new Set(keys).size !== keys.length) throw new UsageError("--names: each name must be different");
  return {
    host: values.host ?? DEFAULT_HOST,
    port,
    servers,
    names: names ?? Array.from({ length: clients }, (_, i) => `${DEFAULT_NAME_PREFIX}${i}`),
    demo: values.demo ?? false,
    durationSeconds: values.duration === undefined ? undefined : parseCount(values.duration, "--duration"),
    lang: values.lang,
    text: values.text ?? false,
    web: values.web ?? false,
  };
}

/** The server options for server `index`'s extra ports: text ports follow the chat ports, then web ports. */
export function gatewayArgs(options: Pick<LauncherOptions, "port" | "servers" | "text" | "web">, index: number): string[] {
  const args: string[] = [];
  let next = options.port + options.servers;
  if (options.text) {
    args.push("--text-port", String(next + index));
    next += options.servers;
  }
  if (options.web) args.push("--web-port", String(next + index));
  return args;
}

export type InstanceKind = "server" | "client";
export interface InstanceSpec {
  kind: InstanceKind;
  /** `server:PORT` or the client's name. */
  name: string;
  /** The port it listens on, or connects to. */
  port: number;
  /** Index of its server. */
  server: number;
}

/** Servers on consecutive ports, then clients spread over them round-robin. */
export function planInstances(options: Pick<LauncherOptions, "port" | "servers" | "names">): InstanceSpec[] {
  const servers = Array.from({ length: options.servers }, (_, i) => ({
    kind: "server" as const,
    name: `server:${options.port + i}`,
    port: options.port + i,
    server: i,
  }));
  const clients = options.names.map((name, i) => ({
    kind: "client" as const,
    name,
    port: options.port + (i % options.servers),
    server: i % options.servers,
  }));
  return [...servers, ...clients];
}

export type Route = { to: string; text: string } | { error: string } | undefined;

/** "NAME text" → that client and the text it should receive as typed; undefined for a blank line. */
export function routeLine(line: string, clientNames: string[]): Route {
  const match = /^\s*(\S+)\s?(.*)$/.exec(line);
  if (!match) return undefined;
  const [, word, text] = match as unknown as [string, string, string];
  const to = clientNames.find((name) => nameKey(name) === nameKey(word));
  if (!to) return { error: `No client named "${word}": write NAME text, NAME one of ${clientNames.join(", ")}` };
  return { to, text };
}

/** What --demo types: greetings, a private message on each server that has two clients, user lists. */
export function demoScript(specs: InstanceSpec[]): Array<{ to: string; text: string }> {
  const clients = specs.filter((s) => s.kind === "client");
  const steps = clients.map((c) => ({ to: c.name, text: `Hello everyone, I am ${c.name}!` }));
  for (let server = 0; clients.some((c) => c.server === server); server++) {
    const [first, second] = clients.filter((c) => c.server === server);
    if (first && second) steps.push({ to: first.name, text: `@${second.name} psst, a private hello from ${first.name}` });
  }
  return [...steps, ...clients.map((c) => ({ to: c.name, text: "/clientes" }))];
}

export type InstanceState = "starting" | "listening" | "connected" | "disconnected" | "stopped" | "dead";

/** How an output line changes an instance's state (the client's lines in English or Portuguese). */
export function nextState(kind: InstanceKind, state: InstanceState, line: string): InstanceState {
  if (kind === "server") return /^listening on /.test(line) ? "listening" : state;
  if (/^(Welcome|Bem-vindo|Reconnected as|Reconectado como)/.test(line)) return "connected";
  if (/^(Connection to the server|Conexão com o servidor) .* (lost|perdida)\.$/.test(line)) return "disconnected";
  return state;
}

// ---------------------------------------------------------------------------
// Supervisor: the child processes
// ---------------------------------------------------------------------------

export interface Instance extends InstanceSpec {
  state: InstanceState;
  /** How the child ended: "exit code 1", "signal SIGKILL"; undefined while it runs. */
  ended: string | undefined;
  lines: string[];
}

export interface SupervisorEvents {
  line: [Instance, string];
  state: [Instance];
}

/** A server that could not start: `port` in use, usually. */
export class StartError extends Error {
  override readonly name = "StartError";
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly instances: Instance[];
  private readonly children = new Map<Instance, ChildProcessWithoutNullStreams>();
  private stopping: Promise<void> | undefined;

  constructor(
    specs: InstanceSpec[],
    /** `serverArgs(i)`: more options for server i (its text and web ports). */
    private readonly options: { host: string; lang?: string | undefined; serverArgs?: (index: number) => string[] },
  ) {
    super();
    this.instances = specs.map((spec) => ({ ...spec, state: "starting", ended: undefined, lines: [] }));
  }

  get clients(): Instance[] {
    return this.instances.filter((i) => i.kind === "client");
  }

  /** Starts the servers, then the clients; rejects with StartError if a server cannot listen. */
  async start(): Promise<void> {
    const servers = this.instances.filter((i) => i.kind === "server");
    await Promise.all(servers.map((s) => this.startOne(s)));
    const failed = servers.find((s) => s.state !== "listening");
    if (failed) {
      const why = failed.lines.find((l) => /in use|Cannot listen|Not allowed/.test(l)) ?? failed.ended ?? "it did not start";
      throw new StartError(`${failed.name} could not start: ${why}`);
    }
    // A client that cannot join (its name refused by a server already there) stays "starting" on screen.
    await Promise.race([Promise.all(this.clients.map((c) => this.startOne(c))), sleep(CLIENT_START_TIMEOUT_MS)]);
  }

  /** Types a line into a client, as at its own prompt. */
  send(name: string, text: string): boolean {
    const instance = this.instances.find((i) => i.name === name && i.kind === "client");
    const child = instance && this.children.get(instance);
    if (!child || child.exitCode !== null || !child.stdin.writable) return false;
    child.stdin.write(`${text}\n`);
    return true;
  }

  /** Resolves once `instance` is in one of `states`. */
  async until(instance: Instance, ...states: InstanceState[]): Promise<void> {
    while (!states.includes(instance.state)) {
      const [changed] = await once(this, "state");
      if (changed !== instance) continue;
    }
  }

  /** Clients leave first (end of input: a clean /quit), then servers; stragglers are killed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopAll(this.clients);
      await this.stopAll(this.instances.filter((i) => i.kind === "server"));
    })();
    return this.stopping;
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

  /** Spawns one child; resolves when it is ready (listening, connected) or has exited. */
  private startOne(instance: Instance): Promise<void> {
    const script = instance.kind === "server" ? "server.ts" : "client.ts";
    const args =
      instance.kind === "server"
        ? ["--host", this.options.host, "--port", String(instance.port), "--exit-on-stdin-end", ...(this.options.serverArgs?.(instance.server) ?? [])]
        : ["--host", this.options.host, "--port", String(instance.port), "--name", instance.name];
    if (instance.kind === "client" && this.options.lang) args.push("--lang", this.options.lang);
    // The same Node and loader as this process (tsx from the command line, tap's in tests).
    const child = spawn(process.execPath, [...process.execArgv, path.join(HERE, script), ...args], {
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
    return this.until(instance, instance.kind === "server" ? "listening" : "connected", "stopped", "dead");
  }

  private onLine(instance: Instance, line: string): void {
    if (/^npm warn /.test(line)) return; // npm's notes about its own configuration
    instance.lines.push(line);
    if (instance.lines.length > KEPT_LINES) instance.lines.splice(0, instance.lines.length - KEPT_LINES);
    this.emit("line", instance, line);
    this.setState(instance, nextState(instance.kind, instance.state, line));
  }

  private setState(instance: Instance, state: InstanceState): void {
    if (instance.state === state) return;
    instance.state = state;
    this.emit("state", instance);
  }
}

/** Types the demo, then waits until every client has shown its user list. */
export async function runDemo(supervisor: Supervisor): Promise<void> {
  const listed = new Set<string>();
  const allListed = new Promise<void>((resolve) => {
    const onLine = (instance: Instance, line: string) => {
      if (instance.kind === "client" && line.startsWith("Online (")) listed.add(instance.name);
      if (supervisor.clients.every((c) => listed.has(c.name) || c.state === "dead")) {
        supervisor.off("line", onLine);
        resolve();
      }
    };
    supervisor.on("line", onLine);
  });
  for (const step of demoScript(supervisor.instances)) supervisor.send(step.to, step.text);
  await allListed;
}

export const INDEPENDENT_SERVERS =
  "Servers are independent: a client talks only with the clients on its own server.";

// ---------------------------------------------------------------------------
// Without a terminal
// ---------------------------------------------------------------------------

async function runPiped(supervisor: Supervisor, options: LauncherOptions, stopped: Promise<void>): Promise<number> {
  const say = (line: string) => process.stdout.write(`[launcher] ${line}\n`);
  supervisor.on("line", (instance, line) => process.stdout.write(`[${instance.name}] ${line}\n`));
  supervisor.on("state", (instance) => {
    if (instance.state === "dead") say(`${instance.name} died (${instance.ended}); the others go on`);
  });
  try {
    await supervisor.start();
  } catch (error) {
    if (!(error instanceof StartError)) throw error;
    say(error.message);
    await supervisor.stop();
    return 1;
  }
  const servers = options.servers === 1 ? "1 server" : `${options.servers} servers`;
  say(`${servers} and ${supervisor.clients.length} clients running. ${INDEPENDENT_SERVERS}`);
  if (options.demo) await runDemo(supervisor);

  const input = readline.createInterface({ input: process.stdin });
  const clientNames = supervisor.clients.map((c) => c.name);
  input.on("line", (line) => {
    const route = routeLine(line, clientNames);
    if (route && "error" in route) say(route.error);
    else if (route && !supervisor.send(route.to, route.text)) say(`${route.to} is not running`);
  });
  const inputEnded = once(input, "close");
  const timeUp = options.durationSeconds === undefined ? new Promise(() => {}) : sleep(options.durationSeconds * 1000);
  await Promise.race([inputEnded, timeUp, stopped]);
  input.close();
  say("stopping");
  await supervisor.stop();
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseLauncherArgs(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const supervisor = new Supervisor(planInstances(options), { host: options.host, lang: options.lang, serverArgs: (i) => gatewayArgs(options, i) });
  // However the launcher stops, its children stop too: signals stop them
  // cleanly, 'exit' kills what is left, and every child also exits when its
  // standard input (a pipe from here) closes, which covers even SIGKILL.
  let signalled: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (signalled = resolve));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => signalled());
  process.on("exit", () => supervisor.killAll());

  if (process.stdin.isTTY && process.stdout.isTTY) {
    const { runFullScreen } = await import("./launcher-view.js");
    return runFullScreen(supervisor, options, stopped);
  }
  return runPiped(supervisor, options, stopped);
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    process.exit(await main());
  }, "Run with --help for the options.");
}
