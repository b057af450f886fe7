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
import { isMain, parseCount, parseOptions, parsePort, runMain, UsageError } from "./common/cli.js";
import { LANGS, TEXTS } from "./common/format.js";
import { DEFAULT_HOST, DEFAULT_NAME_PREFIX, DEFAULT_PORT, nameKey, nameProblem } from "./protocol.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
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
export const DEMO_TIMEOUT_MS = 15_000;
/** The line a server prints once ready, `listening on HOST:PORT` (stable, never translated). */
export const LISTENING_PREFIX = "listening on ";
/** How a client started with `--supervised` announces its state: `#status {"state":S,"name":N}`. */
export const STATUS_PREFIX = "#status ";
/** Each server's database, in the database folder (the working directory by default). */
export const DATABASE_FILE_PATTERN = "chat-<port>.db";

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
  /** Folder of the servers' databases; undefined for the working directory. */
  dbDir: string | undefined;
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
  --db-dir DIR      where each server keeps its database, ${DATABASE_FILE_PATTERN}
                    (default: the working directory, so a second run finds
                    the history again)
  --text            each server also serves plain text (nc) on port PORT+N+i
  --web             each server also serves the browser page on port
                    PORT+2N+i (its chat port serves the page anyway)
  -h, --help        show this help

Servers are independent: a client talks only with the clients on its own server.

In a terminal: one screen with every instance (the focused one large when
they do not all fit). Tab / Shift+Tab (or the arrow keys) move the focus,
Enter sends the line to the focused client, Ctrl+C (or q on an empty line)
stops everything.
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
    "db-dir": { type: "string" },
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
    dbDir: values["db-dir"],
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

/** The room and the private group the demo shows on the first server. */
export const DEMO_ROOM = "#provas";
export const DEMO_GROUP = "#grupo";

/** A line the demo types; with `after`, only once client `after.from` has shown a line containing `after.text`. */
export interface DemoStep {
  to: string;
  text: string;
  after?: { from: string; text: string };
}

/**
 * What --demo types: greetings, a private message on each server that has
 * two clients; on the first such server a room (both enter #provas and talk)
 * and a private group (the first creates #grupo private and invites the
 * second, who enters once invited); then user lists.
 */
export function demoScript(specs: InstanceSpec[]): DemoStep[] {
  const clients = specs.filter((s) => s.kind === "client");
  const steps: DemoStep[] = clients.map((c) => ({ to: c.name, text: `Hello everyone, I am ${c.name}!` }));
  let roomShown = false;
  for (let server = 0; clients.some((c) => c.server === server); server++) {
    const [first, second] = clients.filter((c) => c.server === server);
    if (!first || !second) continue;
    steps.push({ to: first.name, text: `@${second.name} psst, a private hello from ${first.name}` });
    if (roomShown) continue;
    roomShown = true;
    steps.push(
      { to: first.name, text: `/join ${DEMO_ROOM}` },
      { to: second.name, text: `/join ${DEMO_ROOM}`, after: { from: first.name, text: DEMO_ROOM } },
      { to: second.name, text: `Hi ${DEMO_ROOM}, ${second.name} here` },
      // After the first has seen the second come in (a line about the room), in any language.
      { to: first.name, text: `/join ${DEMO_GROUP} private`, after: { from: first.name, text: DEMO_ROOM } },
      { to: first.name, text: `/invite ${second.name}` },
      { to: second.name, text: `/join ${DEMO_GROUP}`, after: { from: second.name, text: DEMO_GROUP } }, // the invitation
      { to: second.name, text: `Only the two of us in ${DEMO_GROUP}` },
    );
  }
  return [...steps, ...clients.map((c) => ({ to: c.name, text: "/clientes" }))];
}

export type InstanceState =
  | "starting"
  | "listening"
  | "connecting"
  | "connected"
  | "reconnecting"
  | "disconnected"
  | "closed"
  | "stopped"
  | "dead";

/** The states a supervised client announces, in its `#status` lines. */
export const CLIENT_STATUSES = ["connecting", "joined", "reconnecting", "disconnected", "closed"] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

/** A supervised client's `#status` line: its connection state and the name it joined under (null before). */
export interface StatusLine {
  state: ClientStatus;
  name: string | null;
}

/** The instance state each client status is shown as. */
export const STATE_OF_STATUS: Record<ClientStatus, InstanceState> = {
  connecting: "connecting",
  joined: "connected",
  reconnecting: "reconnecting",
  disconnected: "disconnected",
  closed: "closed",
};

/** Reads `#status {"state":S,"name":N}`; undefined for any other line, or a status line that is malformed. */
export function parseStatusLine(line: string): StatusLine | undefined {
  if (!line.startsWith(STATUS_PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(STATUS_PREFIX.length));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { state, name } = value as { state?: unknown; name?: unknown };
  if (!CLIENT_STATUSES.includes(state as ClientStatus)) return undefined;
  if (name !== null && typeof name !== "string") return undefined;
  return { state: state as ClientStatus, name };
}

/**
 * How an output line changes an instance's state: a server's `listening on`
 * line, a client's `#status` line. Nothing else a child prints (translated,
 * reworded at will) is read.
 */
export function nextState(kind: InstanceKind, state: InstanceState, line: string): InstanceState {
  if (kind === "server") return line.startsWith(LISTENING_PREFIX) ? "listening" : state;
  const status = parseStatusLine(line);
  return status ? STATE_OF_STATUS[status.state] : state;
}

/** The database file of the server on `port`: `chat-PORT.db` in `dbDir`, or in the working directory. */
export function databaseFile(port: number, dbDir?: string): string {
  const file = DATABASE_FILE_PATTERN.replace("<port>", String(port));
  return dbDir === undefined ? file : path.join(dbDir, file);
}

export interface ChildOptions {
  host: string;
  lang?: string | undefined;
  dbDir?: string | undefined;
  /** More options for server i (its text and web ports). */
  serverArgs?: (index: number) => string[];
}

/** The command-line arguments of one instance's script (server.ts or client.ts). */
export function childArgs(instance: InstanceSpec, options: ChildOptions): string[] {
  const address = ["--host", options.host, "--port", String(instance.port)];
  if (instance.kind === "server") {
    return [...address, "--db", databaseFile(instance.port, options.dbDir), "--exit-on-stdin-end", ...(options.serverArgs?.(instance.server) ?? [])];
  }
  return [...address, "--name", instance.name, "--supervised", ...(options.lang ? ["--lang", options.lang] : [])];
}

/** Why a line typed into a client that is no longer running was not sent. */
export function notSentText(instance: Pick<Instance, "name" | "state" | "ended">): string {
  return instance.state === "dead"
    ? `${instance.name} has died (${instance.ended}); its line was not sent`
    : `${instance.name} has quit; its line was not sent`;
}

// ---------------------------------------------------------------------------
// Supervisor: the child processes
// ---------------------------------------------------------------------------

export interface Instance extends InstanceSpec {
  state: InstanceState;
  /** How the child ended: "exit code 1", "signal SIGKILL"; undefined while it runs. */
  ended: string | undefined;
  /** The name a client joined under, from its `#status` lines; undefined before it joins. */
  joinedAs?: string | undefined;
  /** What it printed, newest last, without the `#status` lines. */
  lines: string[];
}

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
  return [process.execPath, ...process.execArgv, path.join(HERE, kind === "server" ? "server.ts" : "client.ts")];
}

/** A server that could not start: `port` in use, usually. */
export class StartError extends Error {
  override readonly name = "StartError";
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
      throw new StartError(`${failed.name} could not start: ${why}`);
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
    if (!instance) return `No client named "${name}"`;
    const child = this.children.get(instance);
    const gone = instance.state === "closed" || instance.state === "stopped" || instance.state === "dead";
    if (!child || gone || child.exitCode !== null || child.signalCode !== null || !child.stdin.writable) {
      return notSentText(instance);
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

/**
 * The start of the line a client shows for /clientes ("Online (" today), in
 * each language, taken from the client's own texts so a rewording follows.
 */
export const LIST_LINE_PREFIXES: readonly string[] = LANGS.map((lang) => {
  const sample = TEXTS[lang].online([], 0);
  return sample.slice(0, sample.indexOf("0"));
});

/**
 * Types the demo, then waits until every client has shown its user list (or
 * has stopped), at most DEMO_TIMEOUT_MS. Resolves with the names of the
 * clients whose list did not come.
 */
export async function runDemo(supervisor: Supervisor): Promise<string[]> {
  const listed = new Set<string>();
  const waiting = () =>
    supervisor.clients.filter((c) => !listed.has(c.name) && (c.state === "connected" || c.state === "connecting"));
  let onEvent = () => {};
  const allListed = new Promise<void>((resolve) => {
    onEvent = () => {
      if (waiting().length === 0) resolve();
    };
  });
  const onLine = (instance: Instance, line: string) => {
    if (instance.kind === "client" && LIST_LINE_PREFIXES.some((prefix) => line.startsWith(prefix))) listed.add(instance.name);
    onEvent();
  };
  supervisor.on("line", onLine);
  supervisor.on("state", onEvent);
  try {
    const deadline = sleep(DEMO_TIMEOUT_MS);
    for (const step of demoScript(supervisor.instances)) {
      if (step.after) await Promise.race([shown(supervisor, step.after.from, step.after.text), deadline]);
      supervisor.send(step.to, step.text);
    }
    await Promise.race([allListed, deadline]);
    return waiting().map((c) => c.name);
  } finally {
    supervisor.off("line", onLine);
    supervisor.off("state", onEvent);
  }
}

/** Resolves when client `from` shows a line containing `text` (a line shown from now on). */
function shown(supervisor: Supervisor, from: string, text: string): Promise<void> {
  return new Promise((resolve) => {
    const onLine = (instance: Instance, line: string) => {
      if (instance.name !== from || !line.includes(text)) return;
      supervisor.off("line", onLine);
      resolve();
    };
    supervisor.on("line", onLine);
  });
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
    else if (instance.state === "stopped" && !supervisor.stopping) say(`${instance.name} has quit`);
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
  if (options.demo) {
    const silent = await runDemo(supervisor);
    if (silent.length > 0) say(`the demo did not get a user list from ${silent.join(", ")}`);
  }

  const input = readline.createInterface({ input: process.stdin });
  const clientNames = supervisor.clients.map((c) => c.name);
  input.on("line", (line) => {
    const route = routeLine(line, clientNames);
    const problem = route && ("error" in route ? route.error : supervisor.send(route.to, route.text));
    if (problem) say(problem);
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
  const supervisor = new Supervisor(planInstances(options), {
    host: options.host,
    lang: options.lang,
    dbDir: options.dbDir,
    serverArgs: (i) => gatewayArgs(options, i),
  });
  // However the launcher stops, its children stop too: signals stop them
  // cleanly, 'exit' kills what is left, and every child also exits when its
  // standard input (a pipe from here) closes, which covers even SIGKILL.
  let signalled: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (signalled = resolve));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => signalled());
  process.on("exit", () => supervisor.killAll());

  if (process.stdin.isTTY && process.stdout.isTTY) {
    const { runFullScreen } = await import("./launcher/view.js");
    return runFullScreen(supervisor, options, stopped);
  }
  return runPiped(supervisor, options, stopped);
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    process.exit(await main());
  }, "Run with --help for the options.");
}
