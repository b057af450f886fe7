/**
 * The chat server's command.
 *
 *     npx tsx server.ts [--host H] [--port P] [--db FILE] ...
 *
 * The server itself is server/chat-server.ts, run by server/serve.ts in a
 * worker thread; this file reads the options, starts that thread, and
 * passes on the signals that stop it.
 */
import { Worker } from "node:worker_threads";
import { DEFAULT_HOST, DEFAULT_PORT, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_OUTBOUND_BYTES } from "./protocol.js";
import { isMain, parseCount, parseOptions, parsePort, runMain, UsageError } from "./common/cli.js";
import {
  DEFAULT_DB,
  FRAME_TIMEOUT_MS,
  HISTORY_KEEP,
  HISTORY_REPLAY,
  JOIN_TIMEOUT_MS,
  MAX_CLIENTS,
  MEMORY_PATH,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  RATE_LIMIT_PER_SECOND,
} from "./server/limits.js";
import { isPostgresUrl } from "./server/database-url.js";
import type { Launch, ServeOrder, ServeReport } from "./server/serve.js";

/** A signal again within this time is the first one passed on twice, not a second Ctrl+C. */
export const REPEATED_SIGNAL_MS = 1000;

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

export const USAGE = `Usage: npx tsx server.ts [options]

Runs the chat server. Clients connect with: npx tsx client.ts

Options:
  --host H                 address to listen on (default ${DEFAULT_HOST})
  --port P                 TCP port, 0 for any free one (default ${DEFAULT_PORT})
  --max-body-bytes N       largest frame body accepted (default ${MAX_BODY_BYTES})
  --max-header-bytes N     longest header line accepted (default ${MAX_HEADER_BYTES})
  --max-outbound-bytes N   bytes held for a client that stops reading before
                           it is cut off (default ${MAX_OUTBOUND_BYTES})
  --max-clients N          connections served at once (default ${MAX_CLIENTS})
  --rate-limit N           messages a client may send per second, in bursts
                           of up to 2N; 0 for no limit (default ${RATE_LIMIT_PER_SECOND})
  --join-timeout S         seconds to join after connecting (default ${JOIN_TIMEOUT_MS / 1000})
  --frame-timeout S        seconds a frame may take to arrive (default ${FRAME_TIMEOUT_MS / 1000})
  --ping-interval S        seconds of silence before a client is pinged; 0 never
                           (default ${PING_INTERVAL_MS / 1000})
  --ping-timeout S         seconds a pinged client has to answer (default ${PING_TIMEOUT_MS / 1000})
                           (only clients that join with the "ping" feature are pinged)
  --db FILE|URL            where accounts and history are kept: a SQLite file
                           (default ${DEFAULT_DB}; one server per file), or a
                           PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DB
                           (several servers may share one; the log masks the
                           password); ${MEMORY_PATH} keeps nothing across restarts
  --import FILE            with --db postgres://...: copy the SQLite database FILE
                           into that (empty) PostgreSQL database, print what was
                           copied, and exit (1 if the database already holds a chat)
  --redis URL              redis://HOST:PORT: be one of several servers forming
                           one chat through that Redis (with a shared store:
                           --db postgres://...); see docs/cluster.md
  --history N              messages replayed to a client that asks for history
                           (default ${HISTORY_REPLAY})
  --history-keep N         messages kept per room or conversation (default ${HISTORY_KEEP})
  --admin NAME,...         server admins: registered names that, logged in with
                           their password, are operators of every room
  --text-port P            also serve plain-text clients (nc, telnet) on port P
  --web-port P             also serve the browser page and WebSocket on port P
                           (the chat port serves them too)
  --tls-cert FILE          TLS certificate (PEM) for every port: framed, text,
  --tls-key FILE           https and wss; both or neither
  --allow-origin O,...     pages of these origins (e.g. https://chat.example.com)
                           may open the WebSocket too; by default only the
                           server's own page may (no other site can use the chat)
  --quiet                  print only the "listening on" line and errors
  --exit-on-stdin-end      stop when standard input closes (for supervisors
                           such as launcher.ts: the server cannot outlive them)
  -h, --help               show this help

Stop it with Ctrl+C: every client is told the server is shutting down.`;

/** What the command line asks for, or undefined for --help. */
export function parseServerArgs(args: string[]): Launch | undefined {
  const values = parseOptions(args, {
    host: { type: "string" },
    port: { type: "string" },
    "max-body-bytes": { type: "string" },
    "max-header-bytes": { type: "string" },
    "max-outbound-bytes": { type: "string" },
    "max-clients": { type: "string" },
    "rate-limit": { type: "string" },
    "join-timeout": { type: "string" },
    "frame-timeout": { type: "string" },
    "ping-interval": { type: "string" },
    "ping-timeout": { type: "string" },
    db: { type: "string" },
    import: { type: "string" },
    history: { type: "string" },
    "history-keep": { type: "string" },
    admin: { type: "string" },
    "text-port": { type: "string" },
    "web-port": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "allow-origin": { type: "string" },
    redis: { type: "string" },
    quiet: { type: "boolean" },
    "exit-on-stdin-end": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  const count = (name: string, text: string | undefined, min = 1) => (text === undefined ? undefined : parseCount(text, name, min));
  const seconds = (name: string, text: string | undefined, min = 1) => {
    const value = count(name, text, min);
    return value === undefined ? undefined : value * 1000;
  };
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  const options: Launch["options"] = {
    host: values.host ?? DEFAULT_HOST,
    port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
    maxBodyBytes: count("--max-body-bytes", values["max-body-bytes"]),
    maxHeaderBytes: count("--max-header-bytes", values["max-header-bytes"]),
    maxOutboundBytes: count("--max-outbound-bytes", values["max-outbound-bytes"]),
    maxClients: count("--max-clients", values["max-clients"]),
    rateLimit: count("--rate-limit", values["rate-limit"], 0),
    joinTimeoutMs: seconds("--join-timeout", values["join-timeout"]),
    frameTimeoutMs: seconds("--frame-timeout", values["frame-timeout"]),
    pingIntervalMs: seconds("--ping-interval", values["ping-interval"], 0),
    pingTimeoutMs: seconds("--ping-timeout", values["ping-timeout"]),
    db: values.db ?? DEFAULT_DB,
    history: count("--history", values.history, 0),
    historyKeep: count("--history-keep", values["history-keep"]),
    admins: values.admin?.split(",").map((name) => name.trim()).filter(Boolean),
    textPort: values["text-port"] === undefined ? undefined : parsePort(values["text-port"], "--text-port"),
    webPort: values["web-port"] === undefined ? undefined : parsePort(values["web-port"], "--web-port"),
    tls: certFile !== undefined && keyFile !== undefined ? { cert: certFile, key: keyFile } : undefined,
    allowOrigins: values["allow-origin"]?.split(",").map((origin) => origin.trim()).filter(Boolean),
    redis: values.redis,
  };
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) throw new UsageError("--redis takes a URL: redis://HOST:PORT");
  // Servers of one chat share its accounts and history: a SQLite file (or memory) is one server's alone.
  if (values.redis !== undefined && !isPostgresUrl(options.db ?? "")) {
    throw new UsageError("--redis needs a database every server shares: --db postgres://USER:PASSWORD@HOST:PORT/DB");
  }
  if (values.import !== undefined && !isPostgresUrl(options.db ?? "")) throw new UsageError("--import needs --db postgres://USER:PASSWORD@HOST:PORT/DB");
  return { options, quiet: values.quiet === true, exitOnStdinEnd: values["exit-on-stdin-end"] === true, ...(values.import !== undefined && { importFrom: values.import }) };
}

/**
 * Runs the server in a worker thread (server/serve.ts says why) and stays
 * free for signals: the first asks the server to stop, cleanly; one repeated
 * within REPEATED_SIGNAL_MS is the same stop passed on twice (tsx does that),
 * and a later one (a second Ctrl+C) means stop now. Resolves with the exit code.
 */
async function main(): Promise<number> {
  const launch = parseServerArgs(process.argv.slice(2));
  if (!launch) {
    console.log(USAGE);
    return 0;
  }
  if (launch.importFrom !== undefined) return importCommand(launch.importFrom, launch.options.db!);
  const worker = new Worker(new URL("./server/worker-boot.mjs", import.meta.url), {
    // Not this thread's loaders (tsx's, or the test runner's, slow in a worker): the boot registers tsx's alone.
    execArgv: [],
    workerData: { entry: new URL("./server/serve.ts", import.meta.url).href, launch },
  });
  // The worker's report ends it all (the worker waits to be ended, so that no report is lost with it);
  // a worker that ends without one has crashed.
  const ended = new Promise<ServeReport | number>((resolve) => {
    worker.once("message", resolve);
    worker.once("exit", resolve);
  });
  let stopAskedAt = 0;
  const stop = (why: string) => {
    if (stopAskedAt === 0) {
      stopAskedAt = Date.now();
      worker.postMessage({ type: "stop", why } satisfies ServeOrder);
    } else if (Date.now() - stopAskedAt > REPEATED_SIGNAL_MS) {
      process.exit(1); // a second Ctrl+C: don't wait any longer
    }
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(signal));
  if (launch.exitOnStdinEnd) process.stdin.on("end", () => stop("end of standard input")).resume();
  const outcome = await ended;
  if (typeof outcome === "number") return outcome || 1;
  if (outcome.type === "refused") throw new UsageError(outcome.message);
  if (outcome.type === "failed") {
    process.stderr.write(`${outcome.message}\n`);
    return 1;
  }
  return 0;
}

/** `--import FILE`: copies a SQLite chat into the PostgreSQL database; 0 when done, 1 when refused or failed. */
async function importCommand(file: string, url: string): Promise<number> {
  const { importSqlite, importReport } = await import("./server/import-sqlite.js");
  try {
    console.log(importReport(file, url, await importSqlite(file, url)));
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    process.exit(await main());
  }, "Run with --help for the options.");
}
