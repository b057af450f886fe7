/**
 * The launcher's pure parts: the plan of instances, the children's
 * arguments, routing typed lines, the demo's script, and how a child's output
 * moves its state.
 */
import path from "node:path";
import { nameKey } from "../protocol.js";
import { LAUNCHER_TEXTS, type LauncherTexts } from "../common/catalogue.js";
import { LISTENING_PREFIX, parseStatusLine, type ClientStatus } from "../common/launch-contract.js";

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
  /** The servers are one chat, through a Redis and a PostgreSQL the launcher starts (`--cluster`). */
  cluster: boolean;
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
export function routeLine(line: string, clientNames: string[], t: LauncherTexts = LAUNCHER_TEXTS.en): Route {
  const match = /^\s*(\S+)\s?(.*)$/.exec(line);
  if (!match) return undefined;
  const [, word, text] = match as unknown as [string, string, string];
  const to = clientNames.find((name) => nameKey(name) === nameKey(word));
  if (!to) return { error: `${t.noClient(word)}: ${t.writeNameText(clientNames)}` };
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

/** The instance state each client status is shown as. */
export const STATE_OF_STATUS: Record<ClientStatus, InstanceState> = {
  connecting: "connecting",
  joined: "connected",
  reconnecting: "reconnecting",
  disconnected: "disconnected",
  closed: "closed",
};

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

/** A host as one item of a `--host H:P,H:P` list: an IPv6 address in brackets. */
function hostForList(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
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
  /** One database for every server (the cluster's PostgreSQL) instead of a file each. */
  sharedDb?: string | undefined;
  /** The servers' ports when they are one chat: each client is given them all, its own first, to move to the next if its server goes. */
  clusterPorts?: number[] | undefined;
}

/** The command-line arguments of one instance's script (server.ts or client.ts). */
export function childArgs(instance: InstanceSpec, options: ChildOptions): string[] {
  const address = ["--host", options.host, "--port", String(instance.port)];
  if (instance.kind === "server") {
    return [...address, "--db", options.sharedDb ?? databaseFile(instance.port, options.dbDir), "--exit-on-stdin-end", ...(options.serverArgs?.(instance.server) ?? [])];
  }
  const ports = options.clusterPorts;
  if (ports && ports.length > 1) {
    const own = ports.indexOf(instance.port);
    const order = [...ports.slice(own), ...ports.slice(0, own)];
    return ["--host", order.map((port) => `${hostForList(options.host)}:${port}`).join(","), "--name", instance.name, "--supervised", ...(options.lang ? ["--lang", options.lang] : [])];
  }
  return [...address, "--name", instance.name, "--supervised", ...(options.lang ? ["--lang", options.lang] : [])];
}

/** Why a line typed into a client that is no longer running was not sent. */
export function notSentText(instance: Pick<Instance, "name" | "state" | "ended">, t: LauncherTexts = LAUNCHER_TEXTS.en): string {
  return t.notSent(instance.name, instance.state === "dead" ? (instance.ended ?? "") : undefined);
}

export interface Instance extends InstanceSpec {
  state: InstanceState;
  /** How the child ended: "exit code 1", "signal SIGKILL"; undefined while it runs. */
  ended: string | undefined;
  /** The name a client joined under, from its `#status` lines; undefined before it joins. */
  joinedAs?: string | undefined;
  /** The port of the server a client is on now, from its `#status` lines (with --cluster it moves when its server stops). */
  connectedPort?: number | undefined;
  /** What it printed, newest last, without the `#status` lines. */
  lines: string[];
}
