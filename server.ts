/**
 * The chat server.
 *
 *     npx tsx server.ts [--host H] [--port P] [--max-body-bytes N] ...
 *
 * As a module: `startServer({ port: 0 })` resolves to a running ChatServer.
 * Wiring only: socket → Decoder → handler → registry. Protocol details live
 * in protocol.ts; see README.md for the behaviour.
 */
import net from "node:net";
import {
  DEFAULT_HOST,
  DEFAULT_NAME_PREFIX,
  DEFAULT_PORT,
  Decoder,
  encode,
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  MAX_OUTBOUND_BYTES,
  Message,
  nameKey,
  nameProblem,
  ProtocolError,
  quote,
  SERVER_NAME,
  type ErrorCode,
  type LeaveReason,
  type MessageFields,
} from "./protocol.js";
import { isMain, parseCount, parseOptions, parsePort, runMain, UsageError } from "./cli.js";

/** How long a closing socket may take to flush before it is destroyed. */
export const CLOSE_GRACE_MS = 1000;
/**
 * Bytes buffered for one reader above which the clients talking to it are
 * paused until it catches up: a flood slows to the pace of its readers
 * instead of piling up in memory.
 */
export const BACKPRESSURE_BYTES = 64 * 1024;
/** How long a reader may stay behind (above BACKPRESSURE_BYTES) before it is cut off as slow. */
export const SLOW_READER_TIMEOUT_MS = 5000;
/** Connections served at once; one more is told `server_full` and closed. */
export const MAX_CLIENTS = 10_000;
/** Frames a client may send per second on average (bursts of twice as many); 0 for no limit. */
export const RATE_LIMIT_PER_SECOND = 20;
/** Time from connecting to joining. Long, because the seed client joins with its first message. */
export const JOIN_TIMEOUT_MS = 60_000;
/** Time a frame may take to arrive once its first byte has (slow-loris clients). */
export const FRAME_TIMEOUT_MS = 10_000;
/** Silence after which the server pings a client; 0 to never ping. */
export const PING_INTERVAL_MS = 30_000;
/** Time a pinged client has to send anything at all before it is dropped as lost. */
export const PING_TIMEOUT_MS = 15_000;
/** TCP keep-alive probes start after this much idle time, catching peers whose host vanished. */
export const KEEPALIVE_MS = 30_000;

export interface ServerOptions {
  /** @default DEFAULT_HOST */
  host?: string;
  /** 0 picks a free port. @default DEFAULT_PORT */
  port?: number;
  /** @default MAX_HEADER_BYTES */
  maxHeaderBytes?: number;
  /** @default MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** Bytes buffered for a client that does not read before it is cut off. @default MAX_OUTBOUND_BYTES */
  maxOutboundBytes?: number;
  /** @default SLOW_READER_TIMEOUT_MS */
  slowReaderTimeoutMs?: number;
  /** @default MAX_CLIENTS */
  maxClients?: number;
  /** @default RATE_LIMIT_PER_SECOND */
  rateLimit?: number;
  /** @default JOIN_TIMEOUT_MS */
  joinTimeoutMs?: number;
  /** @default FRAME_TIMEOUT_MS */
  frameTimeoutMs?: number;
  /** @default PING_INTERVAL_MS */
  pingIntervalMs?: number;
  /** @default PING_TIMEOUT_MS */
  pingTimeoutMs?: number;
  /** Receives one line per event (joins, leaves, messages, errors). @default no log */
  log?: (line: string) => void;
}

/** One TCP connection, joined or not. */
class Connection {
  readonly decoder: Decoder;
  name: string | undefined;
  /** Joined implicitly by a bare seed Message: such a client expects its own broadcasts back. */
  echoOwn = false;
  closing = false;
  corked = false;
  /** How many lagging readers this client waits for before it is read again. */
  waitingFor = 0;
  /** While this client lags: the talkers paused until it catches up, and its deadline. */
  lag: { talkers: Set<Connection>; deadline: NodeJS.Timeout } | undefined;
  readonly connectedAt = Date.now();
  lastHeardAt = this.connectedAt;
  /** When the first byte of a frame still incomplete arrived; 0 when none is pending. */
  partialSince = 0;
  /** When the unanswered ping was sent; 0 when none is. */
  pingSentAt = 0;
  tokens: number;
  tokensAt = this.connectedAt;
  /** Told rate_limited since its last accepted frame: further drops are silent. */
  limitTold = false;

  constructor(
    readonly socket: net.Socket,
    options: Required<Pick<ServerOptions, "maxHeaderBytes" | "maxBodyBytes" | "rateLimit">>,
  ) {
    this.decoder = new Decoder(options);
    this.tokens = options.rateLimit * 2;
  }

  /** The peer's address, for the log (computed when needed: idle connections are many). */
  get peer(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }
}

export class ChatServer {
  private readonly options: Required<Omit<ServerOptions, "log">>;
  /** Undefined without a log: `this.log?.(...)` then skips building the line, which a busy server would pay per message. */
  private readonly log: ((line: string) => void) | undefined;
  private readonly listener: net.Server;
  private readonly connections = new Set<Connection>();
  /** Joined clients by nameKey(). */
  private readonly clients = new Map<string, Connection>();
  private readonly corked: Connection[] = [];
  private flushScheduled = false;
  private closing: Promise<void> | undefined;
  /** Resolves the shutdown once the last connection has closed. */
  private allClosed: (() => void) | undefined;
  private readonly sweeper: NodeJS.Timeout;

  private constructor(options: ServerOptions) {
    this.options = {
      host: DEFAULT_HOST,
      port: DEFAULT_PORT,
      maxHeaderBytes: MAX_HEADER_BYTES,
      maxBodyBytes: MAX_BODY_BYTES,
      maxOutboundBytes: MAX_OUTBOUND_BYTES,
      slowReaderTimeoutMs: SLOW_READER_TIMEOUT_MS,
      maxClients: MAX_CLIENTS,
      rateLimit: RATE_LIMIT_PER_SECOND,
      joinTimeoutMs: JOIN_TIMEOUT_MS,
      frameTimeoutMs: FRAME_TIMEOUT_MS,
      pingIntervalMs: PING_INTERVAL_MS,
      pingTimeoutMs: PING_TIMEOUT_MS,
      ...withoutUndefined(options),
    };
    this.log = options.log;
    this.listener = net.createServer((socket) => this.onConnection(socket));
    // One timer for every connection's deadlines, ticking at a quarter of the shortest.
    const { joinTimeoutMs, frameTimeoutMs, pingIntervalMs, pingTimeoutMs } = this.options;
    const shortest = Math.min(joinTimeoutMs, frameTimeoutMs, ...(pingIntervalMs > 0 ? [pingIntervalMs, pingTimeoutMs] : []));
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, shortest / 4))).unref();
  }

  /** Starts listening; rejects with the listen error (EADDRINUSE, ...). */
  static async start(options: ServerOptions = {}): Promise<ChatServer> {
    const server = new ChatServer(options);
    await new Promise<void>((resolve, reject) => {
      server.listener.once("error", reject);
      server.listener.listen(server.options.port, server.options.host, () => {
        server.listener.off("error", reject);
        resolve();
      });
    });
    return server;
  }

  get address(): { host: string; port: number } {
    const address = this.listener.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** Open connections, joined or not. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Names of the joined clients, sorted. */
  get users(): string[] {
    // Sorted by the comparison key in code-unit order: localeCompare was a
    // thousand times slower and dominated a burst of joins.
    return [...this.clients.keys()].sort().map((key) => this.clients.get(key)!.name!);
  }

  /** Tells every client `server_shutdown`, closes every socket, stops listening. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    const listenerClosed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    this.flush();
    const notice = this.frame({ type: "error", code: "server_shutdown", message: "The server is shutting down" });
    for (const conn of this.connections) this.hangUp(conn, notice);
    if (this.connections.size > 0) await new Promise<void>((resolve) => (this.allClosed = resolve));
    await listenerClosed;
  }

  // -------------------------------------------------------------------------
  // Socket events
  // -------------------------------------------------------------------------

  private onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    const conn = new Connection(socket, this.options);
    if (this.connections.size >= this.options.maxClients) {
      this.log?.(`${conn.peer}: refused, ${this.connections.size} clients already connected`);
      socket.on("error", () => {}).resume(); // read (and drop) its input, or its end would go unseen
      this.hangUp(conn, this.errorFrame("server_full", `The server is full (${this.options.maxClients} clients); try again later`));
      return;
    }
    this.connections.add(conn);
    socket.on("data", (chunk: Buffer) => this.onData(conn, chunk));
    // A reset peer: write nothing more (each write to it would build an error), 'close' follows.
    socket.on("error", () => (conn.closing = true));
    socket.on("close", () => this.onClose(conn));
  }

  private onData(conn: Connection, chunk: Buffer): void {
    const now = Date.now();
    conn.lastHeardAt = now;
    conn.pingSentAt = 0; // anything at all proves the peer alive
    for (const item of conn.decoder.push(chunk)) {
      if (conn.closing) return;
      if (item instanceof ProtocolError) this.onProtocolError(conn, item);
      else if (this.withinRate(conn, item, now)) this.onMessage(conn, item);
    }
    conn.partialSince = conn.decoder.bufferedBytes === 0 ? 0 : conn.partialSince || now;
  }

  /**
   * Token bucket: `rateLimit` frames a second, bursts of twice that; a dropped
   * frame is answered once per streak. ping, pong and quit always pass: they
   * are how a client checks it is alive, or leaves.
   */
  private withinRate(conn: Connection, msg: Message, now: number): boolean {
    const rate = this.options.rateLimit;
    if (rate === 0 || msg.type === "ping" || msg.type === "pong" || msg.type === "quit") return true;
    conn.tokens = Math.min(rate * 2, conn.tokens + ((now - conn.tokensAt) * rate) / 1000);
    conn.tokensAt = now;
    if (conn.tokens >= 1) {
      conn.tokens -= 1;
      conn.limitTold = false;
      return true;
    }
    if (!conn.limitTold) {
      conn.limitTold = true;
      this.sendError(conn, "rate_limited", `More than ${rate} messages a second: this one was dropped, and so are the next until you slow down`);
    }
    return false;
  }

  /** Enforces the time limits: joining, finishing a frame, answering a ping. */
  private sweep(): void {
    const now = Date.now();
    const { joinTimeoutMs, frameTimeoutMs, pingIntervalMs, pingTimeoutMs } = this.options;
    for (const conn of this.connections) {
      if (conn.closing) continue;
      if (conn.name === undefined && now - conn.connectedAt > joinTimeoutMs) {
        this.timeOut(conn, `No join within ${joinTimeoutMs / 1000} s of connecting`);
      } else if (conn.partialSince > 0 && now - conn.partialSince > frameTimeoutMs) {
        this.timeOut(conn, `A frame took more than ${frameTimeoutMs / 1000} s to arrive`);
      } else if (pingIntervalMs > 0 && conn.name !== undefined && !conn.echoOwn) {
        // The seed client cannot answer a ping, so only clients that joined with "join" are pinged.
        if (conn.pingSentAt > 0 && now - conn.pingSentAt > pingTimeoutMs) {
          this.log?.(`${conn.name}: no answer to ping within ${pingTimeoutMs / 1000} s`);
          this.disconnect(conn, "lost");
        } else if (conn.pingSentAt === 0 && now - conn.lastHeardAt > pingIntervalMs) {
          conn.pingSentAt = now;
          this.send(conn, this.frame({ type: "ping", message: "ping" }));
        }
      }
    }
  }

  private timeOut(conn: Connection, text: string): void {
    this.log?.(`${conn.name ?? conn.peer}: error timeout: ${text}`);
    this.disconnect(conn, "timeout", this.errorFrame("timeout", text));
  }

  private onClose(conn: Connection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0) this.allClosed?.();
    conn.closing = true;
    this.unregister(conn, this.closing ? "shutdown" : "lost");
  }

  private onProtocolError(conn: Connection, error: ProtocolError): void {
    this.log?.(`${conn.name ?? conn.peer}: error ${error.code}: ${error.message}`);
    const frame = this.errorFrame(error.code, error.message);
    if (error.fatal) this.disconnect(conn, "protocol_error", frame);
    else this.send(conn, frame);
  }

  // -------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------

  private onMessage(conn: Connection, msg: Message): void {
    if (conn.name === undefined) {
      this.onMessageBeforeJoin(conn, msg);
      return;
    }
    switch (msg.type) {
      case "chat":
        return this.chat(conn, msg);
      case "list":
        return this.sendList(conn, "list");
      case "ping":
        return this.send(conn, this.frame({ type: "pong", message: "pong" }));
      case "quit":
        return this.disconnect(conn, "quit");
      case "pong":
        return; // the answer to our ping: receiving it was the point
      case "join":
        return this.sendError(conn, "bad_message", `Already joined as ${conn.name}`);
      default:
        return this.sendError(conn, "unknown_type", `A client cannot send ${quote(msg.type)}`);
    }
  }

  private onMessageBeforeJoin(conn: Connection, msg: Message): void {
    if (msg.type === "join") {
      this.join(conn, msg.client_name, false);
    } else if (msg.bare) {
      if (this.join(conn, msg.client_name, true)) this.chat(conn, msg);
    } else if (msg.type === "ping") {
      this.send(conn, this.frame({ type: "pong", message: "pong" }));
    } else if (msg.type === "quit") {
      this.disconnect(conn, "quit");
    } else if (msg.type !== "pong") {
      this.sendError(conn, "not_joined", `Join first: send a "join" with your name before "${msg.type}"`);
    }
  }

  /**
   * Registers `conn` under `requested`, or under the next free Usuario<N> when
   * the name is empty. A refused name is an error, except for a seed client
   * joining implicitly, which gets a default name and is told so.
   */
  private join(conn: Connection, requested: string, implicit: boolean): boolean {
    let name = requested;
    let refusal: { code: ErrorCode; text: string } | undefined;
    if (requested === "") {
      name = this.nextDefaultName();
    } else {
      const problem = nameProblem(requested);
      if (problem !== undefined) refusal = { code: "name_invalid", text: `${problem}: ${quote(requested)}` };
      else if (this.clients.has(nameKey(requested))) {
        refusal = { code: "name_taken", text: `The name ${quote(requested)} is already in use` };
      }
    }
    if (refusal && !implicit) {
      this.sendError(conn, refusal.code, refusal.text);
      return false;
    }
    if (refusal) name = this.nextDefaultName();

    conn.name = name;
    conn.echoOwn = implicit;
    this.clients.set(nameKey(name), conn);
    this.log?.(`${name} joined from ${conn.peer}${implicit ? " (seed client)" : ""}`);
    this.sendList(conn, "welcome", (online) => (refusal ? `${refusal.text}; you are ${name}` : `Welcome, ${name}! ${online}`));
    this.broadcast(this.frame({ type: "join", client_name: name, message: `${name} joined` }), conn);
    return true;
  }

  private chat(conn: Connection, msg: Message): void {
    const to = msg.to ?? "";
    const recipient = to === "" ? undefined : this.clients.get(nameKey(to));
    if (to !== "" && recipient === undefined) {
      this.sendError(conn, "unknown_recipient", `No user named ${quote(to)} is online`);
      return;
    }
    const out = new Message({
      type: "chat",
      client_name: conn.name!,
      subject: msg.subject,
      message: msg.message,
      ...(recipient && { to: recipient.name! }),
    });
    let frame: Buffer;
    try {
      frame = encode(out, MAX_BODY_BYTES);
    } catch (error) {
      this.sendError(conn, "bad_message", `Message too long to deliver: ${(error as Error).message}`);
      return;
    }
    if (recipient) {
      this.log?.(`${conn.name} → ${recipient.name} (private, ${out.message.length} characters)`);
      this.send(recipient, frame, conn);
      if (conn.echoOwn && recipient !== conn) this.send(conn, frame);
    } else {
      this.log?.(`${conn.name}${out.subject ? ` [${printable(out.subject)}]` : ""}: ${printable(out.message)}`);
      this.broadcast(frame, conn.echoOwn ? undefined : conn, conn);
    }
  }

  private nextDefaultName(): string {
    for (let n = 0; ; n++) {
      const name = `${DEFAULT_NAME_PREFIX}${n}`;
      if (!this.clients.has(nameKey(name))) return name;
    }
  }

  /** A `list` or `welcome`: who is online, as a field and as a sentence. */
  private sendList(conn: Connection, type: "list" | "welcome", sentence = (online: string) => online): void {
    const everyone = this.users;
    const users = fittingNames(everyone, MAX_BODY_BYTES - 1024);
    const more = everyone.length - users.length;
    const online = `Online (${everyone.length}): ${users.join(", ")}${more > 0 ? `, and ${more} more` : ""}`;
    const count = more > 0 ? { count: everyone.length } : {};
    this.send(conn, this.frame({ type, client_name: type === "welcome" ? conn.name : SERVER_NAME, users, message: sentence(online), ...count }));
  }

  // -------------------------------------------------------------------------
  // Leaving
  // -------------------------------------------------------------------------

  /** Ends a connection on the server's initiative, after a last frame if given. */
  private disconnect(conn: Connection, reason: LeaveReason, lastFrame?: Buffer): void {
    if (conn.closing) return;
    if (reason === "slow") {
      this.log?.(`${conn.name ?? conn.peer}: cut off, ${conn.socket.writableLength} bytes unread`);
      conn.closing = true;
      conn.socket.destroy(); // its buffer is full: nothing more can reach it
    } else {
      this.hangUp(conn, lastFrame);
    }
    this.unregister(conn, reason);
  }

  /** Writes a last frame, half-closes, and destroys the socket if it lingers. */
  private hangUp(conn: Connection, lastFrame?: Buffer): void {
    conn.closing = true;
    if (lastFrame) conn.socket.write(lastFrame);
    conn.socket.end();
    setTimeout(() => conn.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private unregister(conn: Connection, reason: LeaveReason): void {
    this.releaseTalkers(conn);
    const name = conn.name;
    if (name === undefined || this.clients.get(nameKey(name)) !== conn) return;
    this.clients.delete(nameKey(name));
    this.log?.(`${name} left (${reason})`);
    if (this.closing) return;
    this.broadcast(this.frame({ type: "leave", client_name: name, reason, message: `${name} left (${reason})` }), conn);
  }

  // -------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------

  /** A frame from the server itself. Never throws: a sentence too long for a frame is cut short. */
  private frame(fields: MessageFields): Buffer {
    const message = new Message({ client_name: SERVER_NAME, ...fields });
    try {
      return encode(message, MAX_BODY_BYTES);
    } catch {
      return encode(new Message({ ...message, users: undefined, message: `${message.message.slice(0, 1000)}…` }), MAX_BODY_BYTES);
    }
  }

  private errorFrame(code: ErrorCode, text: string): Buffer {
    return this.frame({ type: "error", code, message: text });
  }

  private sendError(conn: Connection, code: ErrorCode, text: string): void {
    this.log?.(`${conn.name ?? conn.peer}: error ${code}: ${text}`);
    this.send(conn, this.errorFrame(code, text));
  }

  /** Sends one already-encoded frame to every joined client but `except`. */
  private broadcast(frame: Buffer, except?: Connection, talker?: Connection): void {
    for (const conn of this.clients.values()) {
      if (conn !== except) this.send(conn, frame, talker);
    }
  }

  /**
   * Queues a frame for one client. Frames are gathered while the socket is
   * corked and written together once per event-loop turn, so a burst costs
   * one system call per client, not one per frame.
   */
  private send(conn: Connection, frame: Buffer, talker?: Connection): void {
    if (conn.closing || conn.socket.destroyed) return;
    if (conn.socket.writableLength + frame.length > this.options.maxOutboundBytes) {
      this.disconnect(conn, "slow");
      return;
    }
    if (!conn.corked) {
      conn.corked = true;
      conn.socket.cork();
      this.corked.push(conn);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    }
    conn.socket.write(frame);
    if (talker && talker !== conn && conn.socket.writableLength > BACKPRESSURE_BYTES) this.pauseTalker(talker, conn);
  }

  /** Stops reading from `talker` until `reader` has caught up (or is cut off as slow). */
  private pauseTalker(talker: Connection, reader: Connection): void {
    if (!reader.lag) {
      const deadline = setTimeout(() => this.disconnect(reader, "slow"), this.options.slowReaderTimeoutMs);
      reader.lag = { talkers: new Set(), deadline };
      reader.socket.once("drain", () => this.releaseTalkers(reader));
    }
    if (reader.lag.talkers.has(talker)) return;
    reader.lag.talkers.add(talker);
    if (talker.waitingFor++ === 0) talker.socket.pause();
  }

  private releaseTalkers(reader: Connection): void {
    const lag = reader.lag;
    if (!lag) return;
    reader.lag = undefined;
    clearTimeout(lag.deadline);
    for (const talker of lag.talkers) {
      if (--talker.waitingFor === 0 && !talker.closing) talker.socket.resume();
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const conn of this.corked) {
      conn.corked = false;
      conn.socket.uncork();
    }
    this.corked.length = 0;
  }
}

export function startServer(options: ServerOptions = {}): Promise<ChatServer> {
  return ChatServer.start(options);
}


/** Text for the log: control characters shown as escapes, so a message cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * The first names of a sorted list that fit in about `budgetBytes` of a
 * frame, where each appears twice (in `users` and in the sentence).
 */
export function fittingNames(names: string[], budgetBytes: number): string[] {
  let used = 0;
  for (let i = 0; i < names.length; i++) {
    used += 2 * Buffer.byteLength(JSON.stringify(names[i])) + 2;
    if (used > budgetBytes) return names.slice(0, i);
  }
  return names;
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function timestamp(): string {
  return new Date().toTimeString().slice(0, 8);
}

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
  --quiet                  print only the "listening on" line and errors
  --exit-on-stdin-end      stop when standard input closes (for supervisors
                           such as launcher.ts: the server cannot outlive them)
  -h, --help               show this help

Stop it with Ctrl+C: every client is told the server is shutting down.`;

async function main(): Promise<void> {
  const values = parseOptions(process.argv.slice(2), {
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
    quiet: { type: "boolean" },
    "exit-on-stdin-end": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const host = values.host ?? DEFAULT_HOST;
  const port = values.port === undefined ? DEFAULT_PORT : parsePort(values.port);
  const count = (name: string, text: string | undefined, min = 1) => (text === undefined ? undefined : parseCount(text, name, min));
  const seconds = (name: string, text: string | undefined, min = 1) => {
    const value = count(name, text, min);
    return value === undefined ? undefined : value * 1000;
  };
  const log = values.quiet ? undefined : (line: string) => console.log(`${timestamp()} ${line}`);

  let server: ChatServer;
  try {
    server = await startServer({
      host,
      port,
      maxBodyBytes: count("--max-body-bytes", values["max-body-bytes"]),
      maxHeaderBytes: count("--max-header-bytes", values["max-header-bytes"]),
      maxOutboundBytes: count("--max-outbound-bytes", values["max-outbound-bytes"]),
      maxClients: count("--max-clients", values["max-clients"]),
      rateLimit: count("--rate-limit", values["rate-limit"], 0),
      joinTimeoutMs: seconds("--join-timeout", values["join-timeout"]),
      frameTimeoutMs: seconds("--frame-timeout", values["frame-timeout"]),
      pingIntervalMs: seconds("--ping-interval", values["ping-interval"], 0),
      pingTimeoutMs: seconds("--ping-timeout", values["ping-timeout"]),
      log,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new StartError(`Port ${port} on ${host} is already in use (is another server running?)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new StartError(`Cannot listen on ${host}: no such local address`);
    if (code === "EACCES") throw new StartError(`Not allowed to listen on ${host}:${port}`);
    throw error;
  }
  const { host: boundHost, port: boundPort } = server.address;
  console.log(`listening on ${boundHost}:${boundPort}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl+C: don't wait any longer
    stopping = true;
    log?.(`${signal}: shutting down`);
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGHUP", () => stop("SIGHUP"));
  if (values["exit-on-stdin-end"]) process.stdin.on("end", () => stop("end of standard input")).resume();
}

class StartError extends UsageError {}

if (isMain(import.meta.url)) {
  runMain(async () => {
    try {
      await main();
    } catch (error) {
      if (error instanceof StartError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      }
      throw error;
    }
  }, "Run with --help for the options.");
}
