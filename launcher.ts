/**
 * Starts several servers and clients at once, as seed 000's launcher window did.
 *
 *     npx tsx launcher.ts --servers 2 --clients 5 [--demo] [--names a,b,c] ...
 *
 * In a terminal it shows every instance on one screen (launcher/view.tsx);
 * otherwise it prints each instance's output prefixed with its name and
 * routes input lines "NAME text" to that client (launcher/piped.ts). The
 * children are launcher/supervisor.ts's; the plan is launcher/plan.ts.
 */
import { isMain, parseCount, parseOptions, parsePort, runMain, UsageError } from "./common/cli.js";
import { DEFAULT_HOST, DEFAULT_NAME_PREFIX, DEFAULT_PORT, nameKey, nameProblem } from "./protocol.js";
import { DATABASE_FILE_PATTERN, gatewayArgs, planInstances, type LauncherOptions } from "./launcher/plan.js";
import { Supervisor } from "./launcher/supervisor.js";
import { runPiped } from "./launcher/piped.js";
import { hasRedisServer, NO_REDIS_SERVER, startClusterServices, type ClusterServices } from "./launcher/cluster-services.js";

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
                    (with --cluster: the shared PostgreSQL, chat-postgres/)
                    (default: the working directory, so a second run finds
                    the history again)
  --text            each server also serves plain text (nc) on port PORT+N+i
  --web             each server also serves the browser page on port
                    PORT+2N+i (its chat port serves the page anyway)
  --cluster         the servers are one chat: the launcher also starts a
                    redis-server (from PATH: apt-get install redis-server)
                    and a PostgreSQL (from npm), both kept in --db-dir, and
                    each client moves to another server if its own stops
  -h, --help        show this help

Without --cluster the servers are independent: a client talks only with the
clients on its own server.

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
    cluster: { type: "boolean" },
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
    cluster: values.cluster ?? false,
  };
}

async function main(): Promise<number> {
  const options = parseLauncherArgs(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  let services: ClusterServices | undefined;
  if (options.cluster) {
    if (!hasRedisServer()) {
      process.stderr.write(`${NO_REDIS_SERVER}\n`);
      return 1;
    }
    try {
      services = await startClusterServices(options.dbDir ?? ".");
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 1;
    }
  }
  const clusterArgs = services ? ["--redis", services.redisUrl] : [];
  const supervisor = new Supervisor(planInstances(options), {
    host: options.host,
    lang: options.lang,
    dbDir: options.dbDir,
    serverArgs: (i) => [...gatewayArgs(options, i), ...clusterArgs],
    sharedDb: services?.postgresUrl,
    clusterPorts: services ? Array.from({ length: options.servers }, (_, i) => options.port + i) : undefined,
  });
  try {
    return await supervise(supervisor, options);
  } finally {
    await services?.stop();
  }
}

async function supervise(supervisor: Supervisor, options: LauncherOptions): Promise<number> {
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
