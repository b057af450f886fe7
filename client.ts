/**
 * The chat client's command.
 *
 *     npx tsx client.ts [--host H] [--port P] [--name N] [--lang en|pt]
 *
 * The connection is client/connection.ts; in a terminal the full screen
 * (client/view.tsx) shows it, otherwise line mode (client/line-mode.ts).
 */
import { readFileSync } from "node:fs";
import { detectLang, LANGS, TEXTS } from "./common/catalogue.js";
import { isUtf8Locale } from "./common/format.js";
import { isMain, parseOptions, parsePort, runMain, UsageError } from "./common/cli.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "./protocol.js";
import { ChatClient, EXIT_FAILURE, EXIT_UNDELIVERED, PASSWORD_ENV, type ServerAddress } from "./client/connection.js";
import { socketErrorText } from "./client/run-command.js";
import { runLineMode } from "./client/line-mode.js";
import { STATUS_PREFIX, statusLine } from "./common/launch-contract.js";

export const USAGE = `Usage: npx tsx client.ts [options]

Joins the chat server. Type /help once joined for the commands.

Options:
  --host H        server address (default ${DEFAULT_HOST}); several servers of
                  one chat as H:P,H:P,...: the first is joined, and when its
                  connection is lost the client rejoins on the next
  --port P        server port (default ${DEFAULT_PORT})
  --name N        join under this name instead of asking
  --password P    password of that name, if registered (or set ${PASSWORD_ENV})
  --lang en|pt    language (default: Portuguese if LANG starts with "pt", else English)
  --plain         line mode even in a terminal (no full-screen interface)
  --tls           connect over TLS (a server started with --tls-cert/--tls-key)
  --ca FILE       also trust this certificate (a self-signed server's); implies --tls
  --insecure      accept a certificate that cannot be verified; implies --tls
  --supervised    line mode, plus a line "${STATUS_PREFIX}{...}" on each change of state
  -h, --help      show this help

In a terminal it opens a full-screen interface. With standard input from a
pipe, each line is read as if typed; the client leaves when the input ends,
once the server has taken every line (exit code ${EXIT_UNDELIVERED} if one was not delivered).`;

/** `--host`: one host, or several servers of one chat as `H:P,H:P` (a server without a port is on `port`; an IPv6 address in brackets). */
export function parseServers(text: string, port: number): ServerAddress[] {
  return text.split(",").map((item) => {
    const address = item.trim();
    const match = /^\[(.+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
    if (!match) return { host: address.replace(/^\[(.*)\]$/, "$1"), port };
    return { host: match[1]!, port: parsePort(match[2]!, "--host") };
  }).filter((server) => {
    if (server.host === "") throw new UsageError(`--host: no address in "${text}"`);
    return true;
  });
}

async function main(): Promise<number> {
  const values = parseOptions(process.argv.slice(2), {
    host: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    password: { type: "string" },
    lang: { type: "string" },
    plain: { type: "boolean" },
    tls: { type: "boolean" },
    ca: { type: "string" },
    insecure: { type: "boolean" },
    supervised: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.lang !== undefined && !LANGS.includes(values.lang as never)) {
    throw new UsageError(`--lang must be one of ${LANGS.join(", ")}, not "${values.lang}"`);
  }
  const t = TEXTS[detectLang(values.lang)];
  const [first, ...alternates] = parseServers(values.host ?? DEFAULT_HOST, values.port === undefined ? DEFAULT_PORT : parsePort(values.port));
  const client = new ChatClient({
    ...first!,
    alternates,
    password: values.password ?? (process.env[PASSWORD_ENV] || undefined),
    tls: values.tls || values.ca || values.insecure ? { ca: values.ca ? readFileSync(values.ca) : undefined, insecure: values.insecure } : undefined,
  });
  if (values.supervised) {
    // The name is the one joined under (kept while rejoining), null before any join.
    client.on("state", (state) => process.stdout.write(`${statusLine(state, state === "connecting" ? undefined : client.name, client.port)}\n`));
  }
  try {
    await client.connect();
  } catch (error) {
    // "Is it running?" only when nothing listens there; a certificate refused means it is.
    const noServer = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ETIMEDOUT"].includes((error as NodeJS.ErrnoException).code ?? "");
    const text = noServer ? t.cannotConnect : t.cannotConnectThere;
    process.stderr.write(`${text(client.address, socketErrorText(error, t))}\n`);
    client.close();
    return EXIT_FAILURE;
  }
  const ascii = !isUtf8Locale();
  if (process.stdin.isTTY && process.stdout.isTTY && !values.plain && !values.supervised) {
    const { runFullScreen } = await import("./client/view.js");
    return runFullScreen(client, t, values.name, ascii);
  }
  process.on("SIGTERM", () => void client.quit().then(() => process.exit(0)));
  return runLineMode(client, { input: process.stdin, output: process.stdout, t, name: values.name, ascii });
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    process.exitCode = await main();
  }, "Run with --help for the options.");
}
