/**
 * The chat client.
 *
 *     npx tsx client.ts [--host H] [--port P] [--name N] [--lang en|pt]
 *
 * `ChatClient` owns the connection (join, send, reconnect with backoff);
 * `runCommand` turns a parsed input line into actions and display lines;
 * `runLineMode` is the line interface for terminals and pipes. A display
 * only renders what these give it.
 */
import { EventEmitter } from "node:events";
import net from "node:net";
import readline from "node:readline";
import { parseCommand, type Command } from "./commands.js";
import { chatLine, describe, detectLang, errorText, inputProblemText, LANGS, rejoinedText, sanitize, TEXTS, type DisplayLine, type LineKind, type Texts } from "./format.js";
import { isMain, parseOptions, parsePort, runMain, UsageError } from "./cli.js";
import { DEFAULT_HOST, DEFAULT_PORT, Decoder, encode, Message, nameKey, ProtocolError, type MessageFields } from "./protocol.js";

/** First wait before reconnecting; it doubles on each failed attempt. */
export const RECONNECT_DELAY_MS = 1000;
export const MAX_RECONNECT_DELAY_MS = 10_000;
/** How long a quitting client waits for the server to close the connection. */
export const QUIT_TIMEOUT_MS = 2000;

export interface ClientOptions {
  /** @default DEFAULT_HOST */
  host?: string;
  /** @default DEFAULT_PORT */
  port?: number;
  /** Reconnect and rejoin after losing a joined session. @default true */
  reconnect?: boolean;
  /** @default RECONNECT_DELAY_MS */
  reconnectDelayMs?: number;
  /** @default MAX_RECONNECT_DELAY_MS */
  maxReconnectDelayMs?: number;
}

type Phase = "idle" | "connecting" | "joining" | "joined" | "reconnecting" | "quitting" | "closed";

export interface ClientEvents {
  /** A frame from the server once joined: chat, join, leave, list, error, pong. */
  message: [Message];
  /** The connection dropped. */
  lost: [];
  /** A reconnection attempt will be made after `delayMs`. */
  reconnecting: [delayMs: number, attempt: number];
  /** An attempt failed; another follows. */
  reconnectFailed: [error: Error];
  /** Joined again after a loss; carries the server's welcome. */
  rejoined: [Message];
  /** The client is closed for good. */
  closed: [];
}

/** Refused by the server while joining: `code` is name_invalid, name_taken, ... */
export class JoinError extends Error {
  override readonly name = "JoinError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The name was refused: another may be tried. Anything else ends the attempt. */
  get refusesName(): boolean {
    return this.code === "name_invalid" || this.code === "name_taken";
  }
}

/** What to show when a join failed for another reason than the name. */
export function joinFailureText(error: unknown, address: string, t: Texts): string {
  return error instanceof JoinError ? errorText(error.code, sanitize(error.message), t) : t.connectionLost(address);
}

export class ChatClient extends EventEmitter<ClientEvents> {
  readonly host: string;
  readonly port: number;
  /** The name the server granted, kept for rejoining. */
  name: string | undefined;
  /** Subject of the next messages; empty for none. */
  subject = "";
  /** Who is online, sorted as the server sorts them: kept current from welcome, list, join and leave. */
  users: string[] = [];
  private readonly options: Required<Omit<ClientOptions, "host" | "port">>;
  private phase: Phase = "idle";
  private socket: net.Socket | undefined;
  private pendingJoin: { resolve(welcome: Message): void; reject(error: Error): void } | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    this.host = options.host ?? DEFAULT_HOST;
    this.port = options.port ?? DEFAULT_PORT;
    this.options = {
      reconnect: options.reconnect ?? true,
      reconnectDelayMs: options.reconnectDelayMs ?? RECONNECT_DELAY_MS,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? MAX_RECONNECT_DELAY_MS,
    };
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get joined(): boolean {
    return this.phase === "joined";
  }

  /** Opens the TCP connection; rejects with the socket error (ECONNREFUSED, ...). */
  async connect(): Promise<void> {
    this.phase = "connecting";
    await this.openSocket();
  }

  /** Asks for a name; resolves with the welcome, rejects with a JoinError saying why not. */
  async join(name: string): Promise<Message> {
    this.phase = "joining";
    const welcome = await this.requestJoin(name);
    this.phase = "joined";
    return welcome;
  }

  /** Sends a chat message and returns it as the others will see it; undefined when not joined. */
  sendChat(text: string, to?: string): Message | undefined {
    if (!this.joined) return undefined;
    const message = new Message({ type: "chat", client_name: this.name, subject: this.subject, message: text, to });
    this.write({ type: "chat", subject: this.subject, message: text, ...(to !== undefined && { to }) });
    return message;
  }

  list(): boolean {
    if (this.joined) this.write({ type: "list" });
    return this.joined;
  }

  ping(): void {
    this.write({ type: "ping" });
  }

  /** Says goodbye and waits for the server to close the connection (or QUIT_TIMEOUT_MS). */
  async quit(): Promise<void> {
    const socket = this.socket;
    const wasJoined = this.joined;
    this.phase = "quitting";
    this.wakeUp?.();
    if (socket && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      if (wasJoined) this.write({ type: "quit" });
      socket.end();
      const timer = setTimeout(() => socket.destroy(), QUIT_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
    }
    this.finish();
  }

  /** Drops the connection at once, without a goodbye. */
  close(): void {
    this.phase = "quitting";
    this.wakeUp?.();
    this.socket?.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.emit("closed");
  }

  /** Throws ProtocolError `frame_too_large` when the message cannot be sent. */
  private write(fields: MessageFields): void {
    this.socket?.write(encode(fields));
  }

  private openSocket(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      const decoder = new Decoder();
      this.socket = socket;
      socket.setNoDelay(true);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.on("error", () => {}); // 'close' follows
        resolve();
      });
      socket.once("error", reject);
      socket.on("data", (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) this.onFrame(item);
      });
      socket.on("close", () => {
        if (socket === this.socket) this.onSocketClose();
      });
    });
  }

  private requestJoin(name: string): Promise<Message> {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.destroyed) {
        reject(new Error("Not connected"));
        return;
      }
      this.pendingJoin = { resolve, reject };
      this.write({ type: "join", client_name: name });
    });
  }

  private onFrame(item: Message | ProtocolError): void {
    // A frame we cannot decode is shown as an error, as the server would send one.
    const msg =
      item instanceof ProtocolError ? new Message({ type: "error", code: item.code, message: item.message }) : item;
    if (msg.type === "ping") {
      this.write({ type: "pong" }); // the server checks that we are alive
      return;
    }
    this.trackUsers(msg);
    const pending = this.pendingJoin;
    if (pending && (msg.type === "welcome" || msg.type === "error")) {
      this.pendingJoin = undefined;
      if (msg.type === "welcome") {
        this.name = msg.client_name;
        pending.resolve(msg);
      } else {
        pending.reject(new JoinError(msg.code ?? "", msg.message));
      }
      return;
    }
    this.emit("message", msg);
  }

  private trackUsers(msg: Message): void {
    if ((msg.type === "welcome" || msg.type === "list") && msg.users) {
      this.users = msg.users;
    } else if (msg.type === "join") {
      const key = nameKey(msg.client_name);
      const at = this.users.findIndex((user) => nameKey(user) > key);
      const before = at < 0 ? this.users.length : at;
      this.users = [...this.users.slice(0, before), msg.client_name, ...this.users.slice(before)];
    } else if (msg.type === "leave") {
      this.users = this.users.filter((user) => nameKey(user) !== nameKey(msg.client_name));
    }
  }

  private onSocketClose(): void {
    this.pendingJoin?.reject(new Error("The connection closed"));
    this.pendingJoin = undefined;
    const phase = this.phase;
    if (phase === "quitting" || phase === "closed" || phase === "reconnecting") return;
    this.emit("lost");
    if (phase === "joined" && this.options.reconnect) void this.reconnect();
    else this.finish();
  }

  private async reconnect(): Promise<void> {
    this.phase = "reconnecting";
    let delay = this.options.reconnectDelayMs;
    for (let attempt = 1; ; attempt++) {
      this.emit("reconnecting", delay, attempt);
      await this.sleep(delay);
      if (this.phase !== "reconnecting") return;
      try {
        await this.openSocket();
        const welcome = await this.requestJoin(this.name ?? "");
        if (this.phase !== "reconnecting") return;
        this.phase = "joined";
        this.emit("rejoined", welcome);
        return;
      } catch (error) {
        this.socket?.destroy();
        if (this.phase !== "reconnecting") return;
        this.emit("reconnectFailed", error as Error);
      }
      delay = Math.min(delay * 2, this.options.maxReconnectDelayMs);
    }
  }

  /** Waits `ms`, or less if quit() or close() wakes it up. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

// ---------------------------------------------------------------------------
// Commands: shared by every interface
// ---------------------------------------------------------------------------

export interface CommandResult {
  lines: DisplayLine[];
  quit?: boolean;
}

/** Carries out one parsed input line; what to show comes back as lines. */
export function runCommand(client: ChatClient, command: Command, t: Texts): CommandResult {
  const error = (text: string): CommandResult => ({ lines: [{ kind: "error", text }] });
  const info = (text: string): CommandResult => ({ lines: [{ kind: "info", text }] });
  switch (command.kind) {
    case "say":
    case "private": {
      let sent: Message | undefined;
      try {
        sent = client.sendChat(command.text, command.kind === "private" ? command.to : undefined);
      } catch (e) {
        if (e instanceof ProtocolError) return error(t.tooLong);
        throw e;
      }
      if (!sent) return error(t.notConnected);
      return { lines: echoes(client, sent) ? [chatLine(sent, client.name, t)] : [] };
    }
    case "list":
      return client.list() ? { lines: [] } : error(t.notConnected);
    case "subject":
      client.subject = command.subject;
      return info(command.subject ? t.subjectSet(command.subject) : t.subjectCleared);
    case "help":
      return info(t.help);
    case "quit":
      return { lines: [], quit: true };
    case "invalid":
      return error(inputProblemText(command.problem, command.word, t));
    case "empty":
      return { lines: [] };
  }
}

/**
 * Whether to show a sent message at once. Not a private one to oneself (the
 * server sends it back), nor one to a name not online (the server's "not
 * delivered" says what happened; an echo first would say the opposite).
 */
function echoes(client: ChatClient, sent: Message): boolean {
  if (sent.to === undefined) return true;
  const to = nameKey(sent.to);
  return to !== nameKey(client.name ?? "") && client.users.some((user) => nameKey(user) === to);
}

/** Plain words for a connection error. */
export function socketErrorText(error: unknown, t: Texts): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && t.socketErrors[code]) ?? (error instanceof Error ? error.message : String(error));
}

// ---------------------------------------------------------------------------
// Line mode: a terminal or a pipe
// ---------------------------------------------------------------------------

const COLORS: Record<LineKind, string> = {
  chat: "",
  own: "\x1b[36m",
  private: "\x1b[35m",
  notice: "\x1b[33m",
  error: "\x1b[31m",
  info: "\x1b[2m",
};

export interface LineModeOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { isTTY?: boolean };
  t: Texts;
  /** Join under this name first; ask only if it is refused. */
  name?: string;
}

/**
 * Runs the line interface until the user quits or the input ends; resolves
 * with the exit code. With a terminal it prompts and keeps the prompt below
 * incoming messages; with a pipe it reads lines as if typed.
 */
export async function runLineMode(client: ChatClient, options: LineModeOptions): Promise<number> {
  const { input, output, t } = options;
  const tty = output.isTTY === true && (input as { isTTY?: boolean }).isTTY === true;
  const rl = readline.createInterface({ input, output: tty ? output : undefined, terminal: tty });
  const lines = rl[Symbol.asyncIterator]();
  let inputOpen = true;
  rl.on("close", () => (inputOpen = false));
  const show = (line: DisplayLine) => {
    const text = tty && COLORS[line.kind] ? `${COLORS[line.kind]}${line.text}\x1b[0m` : line.text;
    if (tty) {
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
    }
    output.write(`${text}\n`);
    // Prompting resumes the input, so never after it has closed: that would keep the process alive.
    if (tty && inputOpen) rl.prompt(true);
  };
  const nextLine = async (prompt: string): Promise<string | undefined> => {
    if (tty) {
      rl.setPrompt(prompt);
      rl.prompt();
    }
    const next = await lines.next();
    return next.done ? undefined : next.value;
  };
  /** In a terminal, removes the line just typed: a sent message is shown again, formatted. */
  const eraseTyped = (typed: string) => {
    if (!tty) return;
    const columns = (output as { columns?: number }).columns ?? 80;
    const rows = Math.max(1, Math.ceil((rl.getPrompt().length + typed.length) / columns));
    for (let i = 0; i < rows; i++) output.write("\x1b[1A\x1b[2K");
  };

  client.on("message", (msg) => {
    const line = describe(msg, client.name, t);
    if (line) show(line);
  });
  client.on("lost", () => show({ kind: "error", text: t.connectionLost(client.address) }));
  client.on("reconnecting", (delay, attempt) => show({ kind: "info", text: t.reconnecting(delay / 1000, attempt) }));
  client.on("reconnectFailed", (error) => show({ kind: "error", text: t.reconnectFailed(socketErrorText(error, t)) }));
  client.on("rejoined", (welcome) => show({ kind: "info", text: rejoinedText(welcome, t) }));
  rl.on("SIGINT", () => rl.close()); // Ctrl+C in a terminal: leave as at end of input

  try {
    const welcome = await joinInteractively(client, options.name, nextLine, show, t);
    if (!welcome) return 1;
    show(describe(welcome, client.name, t)!);
    for (;;) {
      const line = await nextLine("> ");
      if (line === undefined) break;
      const command = parseCommand(line);
      const result = runCommand(client, command, t);
      if (command.kind === "say" || command.kind === "private") eraseTyped(line);
      result.lines.forEach(show);
      if (result.quit) break;
    }
    return 0;
  } finally {
    rl.close();
    await client.quit();
  }
}

/** Joins under `name`, then under names read from input until one is accepted. */
async function joinInteractively(
  client: ChatClient,
  name: string | undefined,
  nextLine: (prompt: string) => Promise<string | undefined>,
  show: (line: DisplayLine) => void,
  t: Texts,
): Promise<Message | undefined> {
  if (name === undefined) show({ kind: "info", text: t.nameRules });
  for (let candidate = name; ; candidate = undefined) {
    candidate ??= (await nextLine(t.namePrompt))?.trim();
    if (candidate === undefined) {
      show({ kind: "error", text: t.noName });
      return undefined;
    }
    try {
      return await client.join(candidate);
    } catch (error) {
      if (error instanceof JoinError && error.refusesName) {
        show({ kind: "error", text: t.nameRefused(sanitize(error.message)) });
        continue;
      }
      show({ kind: "error", text: joinFailureText(error, client.address, t) }); // the server full, gone, ...
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

export const USAGE = `Usage: npx tsx client.ts [options]

Joins the chat server. Type /help once joined for the commands.

Options:
  --host H        server address (default ${DEFAULT_HOST})
  --port P        server port (default ${DEFAULT_PORT})
  --name N        join under this name instead of asking
  --lang en|pt    language (default: Portuguese if LANG starts with "pt", else English)
  --plain         line mode even in a terminal (no full-screen interface)
  -h, --help      show this help

In a terminal it opens a full-screen interface. With standard input from a
pipe, each line is read as if typed; the client leaves when the input ends.`;

async function main(): Promise<number> {
  const values = parseOptions(process.argv.slice(2), {
    host: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    lang: { type: "string" },
    plain: { type: "boolean" },
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
  const client = new ChatClient({
    host: values.host ?? DEFAULT_HOST,
    port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
  });
  try {
    await client.connect();
  } catch (error) {
    process.stderr.write(`${t.cannotConnect(client.address, socketErrorText(error, t))}\n`);
    return 1;
  }
  process.on("SIGTERM", () => void client.quit().then(() => process.exit(0)));
  if (process.stdin.isTTY && process.stdout.isTTY && !values.plain) {
    const { runFullScreen } = await import("./client-view.js");
    return runFullScreen(client, t, values.name);
  }
  return runLineMode(client, { input: process.stdin, output: process.stdout, t, name: values.name });
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    process.exitCode = await main();
  }, "Run with --help for the options.");
}
