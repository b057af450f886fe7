/**
 * A connection to the Redis that servers of one chat share (`--redis URL`),
 * set up the way the cluster's guarantees need: nothing queued while Redis
 * is away (node-redis would send it later, out of order with what happened
 * meanwhile: a silent reorder or loss), an error listener (without one a
 * socket error ends the process), and reconnection with a capped backoff.
 */
import { createClient } from "redis";

export type RedisConnection = ReturnType<typeof createClient>;

/** The longest wait between two attempts to reach Redis again. */
export const MAX_RECONNECT_DELAY_MS = 2_000;
/** Time to reach Redis at all before a command or a connect fails. */
export const CONNECT_TIMEOUT_MS = 2_000;

/** Thrown when Redis cannot be reached: the change was not made, and nothing was queued to be made later. */
export class RedisUnavailable extends Error {
  override readonly name = "RedisUnavailable";
}

export interface RedisOptions {
  /** Told when Redis goes away (with why) and when it is back; once per change. */
  onState?: (up: boolean, why?: string) => void;
}

/** A client for `url` (`redis://HOST:PORT`), not yet connected: `connect()` it, `close()` it. */
export function redisClient(url: string, options: RedisOptions = {}): RedisConnection {
  const client: RedisConnection = createClient({
    url,
    RESP: 3,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
    },
  });
  watchState(client, options.onState);
  return client;
}

/** A second connection to the same Redis, for a blocking read (it would hold up every other command). */
export function duplicateClient(client: RedisConnection, options: RedisOptions = {}): RedisConnection {
  const copy = client.duplicate();
  watchState(copy, options.onState);
  return copy;
}

/** What watchState needs of a client: its events. */
interface Emitter {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready" | "end", listener: () => void): unknown;
}

function watchState(client: Emitter, onState: RedisOptions["onState"]): void {
  let up: boolean | undefined;
  const tell = (now: boolean, why?: string) => {
    if (up === now) return;
    up = now;
    onState?.(now, why);
  };
  // Mandatory: an unheard 'error' would end the process. Reconnecting is node-redis's own.
  client.on("error", (error: Error) => tell(false, error.message));
  client.on("ready", () => tell(true));
  client.on("end", () => tell(false, "closed"));
}

/** Runs a Redis command, turning a connection failure into RedisUnavailable (a refusal the hub answers `unavailable`). */
export async function whileUp<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof Error && isConnectionError(error)) throw new RedisUnavailable(error.message);
    throw error;
  }
}

function isConnectionError(error: Error): boolean {
  const name = error.name || error.constructor.name;
  return (
    name === "ClientOfflineError" ||
    name === "ClientClosedError" ||
    name === "SocketClosedUnexpectedlyError" ||
    name === "ConnectionTimeoutError" ||
    name === "CommandTimeoutDuringMaintenanceError" ||
    /ECONNREFUSED|ECONNRESET|EPIPE|offline|closed/i.test(error.message)
  );
}
