/**
 * The server as `server.ts` runs it: in a worker thread, so that the main
 * thread, which has nothing else to do, answers a signal at once however busy
 * the chat is. That matters under `npx tsx server.ts`: tsx passes a signal on
 * to its child and, unless the child's main thread acknowledges it within
 * about 30 ms, sends it again and then SIGKILL, which loses everything not
 * yet flushed and tells no client why it was cut off.
 *
 * The main thread sends a `ServeOrder`; this thread answers with one
 * `ServeReport`. Loaded in a worker with `workerData.launch`, it serves.
 */
import path from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { UsageError } from "../common/cli.js";
import { LISTENING_PREFIX } from "../common/launch-contract.js";
import { ChatServer, startServer, type ServerOptions } from "./chat-server.js";
import { DatabaseInUseError } from "./database-lock.js";
import { MEMORY_PATH } from "./limits.js";
import { isPostgresUrl, maskedUrl, StoreOpenError } from "./database-url.js";
import { RedisUnreachableError } from "./cluster/cluster-link.js";

/** What the command asks for: the server's options, less what cannot cross to a thread (functions, open stores). */
export interface Launch {
  options: Omit<ServerOptions, "log" | "store">;
  /** Print only the "listening on" lines and errors. */
  quiet: boolean;
  /** Stop when standard input closes (read by the main thread). */
  exitOnStdinEnd: boolean;
  /** `--import FILE`: copy that SQLite database into the PostgreSQL `--db` and exit, serving nothing. */
  importFrom?: string;
}

export type ServeOrder = { type: "stop"; why: string };

export type ServeReport =
  /** It could not start: a port in use, a database in use, a certificate it cannot read. */
  | { type: "failed"; message: string }
  /** Its options cannot work together (a usage error: exit code 2). */
  | { type: "refused"; message: string }
  /** It has stopped: every client told, everything flushed. */
  | { type: "stopped" };

function timestamp(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** Starts the server, prints where it listens, and stops it when ordered; every outcome is reported. */
export async function serve(launch: Launch, report: (r: ServeReport) => void, onOrder: (handler: (order: ServeOrder) => void) => void): Promise<void> {
  const log = launch.quiet ? undefined : (line: string) => console.log(`${timestamp()} ${line}`);
  let server: ChatServer;
  try {
    server = await startServer({ ...launch.options, log });
  } catch (error) {
    if (error instanceof UsageError) return report({ type: "refused", message: error.message });
    return report({ type: "failed", message: startFailureText(error, launch.options) });
  }
  const { host, port } = server.address;
  console.log(`${LISTENING_PREFIX}${host}:${port}${server.secure ? " (TLS)" : ""}`);
  const text = server.textAddress;
  // Under TLS the text port speaks TLS too: nc would get nowhere.
  const textTool = (host: string, port: number) => (server.secure ? `openssl s_client -quiet -connect ${host}:${port}` : `nc ${host} ${port}`);
  if (text) console.log(`plain text on ${text.host}:${text.port} (${textTool(text.host, text.port)})`);
  console.log(`open ${server.pageUrl} in a browser`);
  const db = launch.options.db ?? MEMORY_PATH;
  log?.(db === MEMORY_PATH ? "database: none (--db :memory:): nothing is kept across restarts" : `database: ${isPostgresUrl(db) ? maskedUrl(db) : path.resolve(db)}`);
  const cluster = server.cluster;
  if (cluster) log?.(`one chat with the other servers on ${maskedUrl(cluster.url)}; this server is ${cluster.server}`);
  onOrder((order) => {
    log?.(`${order.why}: shutting down`);
    void server.close().then(() => report({ type: "stopped" }));
  });
}

/** One line saying why the server could not start, or the error itself when it is not one of those. */
export function startFailureText(error: unknown, options: Pick<ServerOptions, "host" | "port">): string {
  if (error instanceof DatabaseInUseError || error instanceof StoreOpenError || error instanceof RedisUnreachableError) return error.message;
  const { host, port } = options;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return `Port ${(error as { port?: number }).port ?? port} on ${host} is already in use (is another server running?)`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") return `Cannot listen on ${host}: no such local address`;
  if (code === "EACCES") return `Not allowed to listen on ${host}:${port}`;
  if (code === "ENOENT" || code === "ERR_OSSL_PEM_NO_START_LINE" || /PEM|certificate|key/i.test(String((error as Error).message))) {
    return `Cannot use the TLS certificate or key: ${(error as Error).message}`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

if (!isMainThread && (workerData as { launch?: Launch } | undefined)?.launch) {
  const port = parentPort!;
  // The port stays open after the report: the main thread ends this thread by exiting once it has the report.
  void serve(
    (workerData as { launch: Launch }).launch,
    (r) => port.postMessage(r),
    (handler) => port.on("message", handler),
  );
}
