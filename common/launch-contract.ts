/**
 * The launcher's contract with the children it starts, written once for both
 * sides: a server prints `listening on HOST:PORT` once ready; a client started
 * with `--supervised` prints `#status {"state":S,"name":N}` on each change of
 * its connection's state. Nothing else a child prints (translated, reworded
 * at will) is read.
 */

/** The line a server prints once ready, `listening on HOST:PORT` (stable, never translated). */
export const LISTENING_PREFIX = "listening on ";
/** How a client started with `--supervised` announces its state: `#status {"state":S,"name":N}`. */
export const STATUS_PREFIX = "#status ";

/** The states a supervised client announces, in its `#status` lines. */
export const CLIENT_STATUSES = ["connecting", "joined", "reconnecting", "disconnected", "closed"] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

/** A supervised client's `#status` line: its connection state, the name it joined under (null before), and the port of the server it is on (several servers of one chat: it may move). */
export interface StatusLine {
  state: ClientStatus;
  name: string | null;
  port?: number;
}


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
  const { state, name, port } = value as { state?: unknown; name?: unknown; port?: unknown };
  if (!CLIENT_STATUSES.includes(state as ClientStatus)) return undefined;
  if (name !== null && typeof name !== "string") return undefined;
  return { state: state as ClientStatus, name, ...(Number.isInteger(port) && { port: port as number }) };
}

/**
 * How an output line changes an instance's state: a server's `listening on`
 * line, a client's `#status` line. Nothing else a child prints (translated,
 * reworded at will) is read.

/** The connection's state as `--supervised` reports it. */
export type ConnectionState = ClientStatus;

/** The machine-readable line `--supervised` prints when the connection's state changes. */
export function statusLine(state: ClientStatus, name: string | undefined, port?: number): string {
  return `${STATUS_PREFIX}${JSON.stringify({ state, name: name ?? null, ...(port !== undefined && { port }) })}`;
}
