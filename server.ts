/**
 * The chat server.
 *
 *     npx tsx server.ts [--host H] [--port P] [--db FILE] ...
 *
 * As a module: `startServer({ port: 0 })` resolves to a running ChatServer,
 * keeping everything in memory unless given a database. This file composes
 * the parts: the framed TCP gateway (this file), the plain-text gateway
 * (gateway-text.ts), the page and WebSocket gateway (gateway-web.ts),
 * sessions (session.ts), the chat's rules (hub.ts) and the store (store.ts);
 * and it holds the CLI.
 */
import net from "node:net";
import path from "node:path";
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  Decoder,
  HEADER_NAME,
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  MAX_OUTBOUND_BYTES,
  type LeaveReason,
} from "./protocol.js";
import { isMain, parseCount, parseOptions, parsePort, runMain, UsageError } from "./common/cli.js";
import { Hub, HISTORY_REPLAY } from "./server/hub.js";
import { Outgoing, Session, type SessionLimits, type Transport } from "./server/session.js";
import { HISTORY_KEEP, MEMORY_PATH, MemoryStore, openStore, type Store } from "./server/store.js";
import { PASSWORD_COST_LOG2 } from "./server/passwords.js";
import { listen, readTls, SocketTransport, socketServer, TRANSPORT, type GatewayHost, type TlsFiles, type TransportSocket } from "./server/gateway.js";
import { textConnections } from "./server/gateway-text.js";
import { looksLikeHttp, WebGateway } from "./server/gateway-web.js";

export { fittingNames, printable } from "./server/hub.js";

/** The database file `server.ts` uses when given no --db: in the working directory. */
export const DEFAULT_DB = "chat.db";

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
  /** A database file; ":memory:" or none: everything is kept in memory and forgotten at exit. */
  db?: string;
  /** A store already open (tests); wins over `db`. The server closes it when it closes. */
  store?: Store;
  /** Chats replayed to a client with the history feature. @default HISTORY_REPLAY */
  history?: number;
  /** Chats kept per conversation. @default HISTORY_KEEP */
  historyKeep?: number;
  /** log2 of scrypt's cost for new passwords (tests lower it). @default PASSWORD_COST_LOG2 */
  passwordCostLog2?: number;
  /** The server's admins: registered names, operators of every room (the lobby included) once logged in. */
  admins?: string[];
  /** Receives one line per event (joins, leaves, messages, errors). @default no log */
  log?: (line: string) => void;
  /** A port for plain-text clients (nc, telnet, the seeds' line clients); 0 picks a free one. @default none */
  textPort?: number;
  /** A port for the page and WebSocket alone; the chat port serves them too. 0 picks a free one. @default none */
  webPort?: number;
  /** TLS for every port (framed, text, https and wss). @default plain TCP */
  tls?: TlsFiles;
}

type Settings = Required<Omit<ServerOptions, "log" | "db" | "store" | "admins" | "textPort" | "webPort" | "tls">>;

/** Checks option combinations at start (as ws does): a server whose limits no frame can meet is a mistake. */
export function validateOptions(settings: Pick<Settings, "maxHeaderBytes" | "maxBodyBytes">): void {
  const shortestHeader = `${HEADER_NAME}:${settings.maxBodyBytes}`.length;
  if (settings.maxHeaderBytes < shortestHeader) {
    throw new UsageError(
      `--max-header-bytes ${settings.maxHeaderBytes} is too small for a header announcing ${settings.maxBodyBytes} bytes (at least ${shortestHeader})`,
    );
  }
}

// ---------------------------------------------------------------------------
// The framed TCP gateway
// ---------------------------------------------------------------------------

/**
 * More receivers than this with different frames this turn that begin with
 * the same frame: the rest get their own buffer (looking through more would
 * cost more than it saves).
 */
export const MAX_SHARED_VARIANTS = 4;

/**
 * Frames queued this turn, written at its end: one write per socket however
 * many frames it got, and one timer for all sockets. The receivers of the
 * same broadcasts get the same frames in the same order, so their frames are
 * joined into one buffer once, and that buffer is written to each of them.
 */
class WriteBatch {
  private waiting: FramedTransport[] = [];
  private scheduled = false;
  /** This turn's joined buffers, by their first frame. */
  private readonly joined = new Map<Outgoing, Array<{ frames: Outgoing[]; bytes: Buffer }>>();

  add(transport: FramedTransport): void {
    this.waiting.push(transport);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const transport of waiting) transport.flush();
    this.joined.clear();
  }

  /** `frames` as one buffer: the one another receiver got this turn when its frames were the same. */
  bytes(frames: Outgoing[]): Buffer {
    if (frames.length === 1) return frames[0]!.framed();
    let variants = this.joined.get(frames[0]!);
    const shared = variants?.find((variant) => sameFrames(variant.frames, frames));
    if (shared) return shared.bytes;
    const bytes = Buffer.concat(frames.map((out) => out.framed()));
    if (!variants) this.joined.set(frames[0]!, (variants = []));
    if (variants.length < MAX_SHARED_VARIANTS) variants.push({ frames, bytes });
    return bytes;
  }
}

function sameFrames(a: Outgoing[], b: Outgoing[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// A framed socket's listeners are these two functions, shared by every
// connection, rather than closures made for each (an idle connection's memory).
function onFramedData(this: TransportSocket<FramedTransport>, chunk: Buffer): void {
  this[TRANSPORT].received(chunk);
}

function onFramedClose(this: TransportSocket<FramedTransport>): void {
  this[TRANSPORT].closed();
}

/** One TCP connection speaking Content-length framing. */
class FramedTransport extends SocketTransport implements Transport {
  private readonly decoder: Decoder;
  /** Frames sent this turn, written together at its end. */
  private queued: Outgoing[] = [];
  private queuedBytes = 0;
  /** Writes the socket has not finished, and who waits for them all to finish. */
  private writesInFlight = 0;
  private drainWaiters: Array<() => void> = [];
  /** Set by attach(): whom the socket's frames go to, and who may take its first bytes. */
  private session: Session | undefined;
  private closeReason: (() => LeaveReason) | undefined;
  private handOff: ((chunk: Buffer) => boolean) | undefined;

  constructor(
    socket: net.Socket,
    private readonly batch: WriteBatch,
    limits: Pick<Settings, "maxHeaderBytes" | "maxBodyBytes">,
  ) {
    super(socket);
    this.decoder = new Decoder(limits);
  }

  /**
   * Wires the socket to a session. `handOff` may take the socket on its
   * first bytes (an HTTP request on the chat port): the session then ends unseen.
   */
  attach(session: Session, closeReason: () => LeaveReason, handOff?: (chunk: Buffer) => boolean): void {
    this.session = session;
    this.closeReason = closeReason;
    this.handOff = handOff;
    this.socket.on("data", onFramedData).on("close", onFramedClose);
  }

  /** The socket's 'data'. */
  received(chunk: Buffer): void {
    const handOff = this.handOff;
    if (handOff) {
      this.handOff = undefined; // only the first bytes can be an HTTP request
      this.socket.off("data", onFramedData); // not ours while another gateway looks at them
      if (handOff(chunk)) return;
      this.socket.on("data", onFramedData);
    }
    this.session!.receive(this.decode(chunk));
  }

  /** The socket's 'close'. */
  closed(): void {
    this.session!.transportClosed(this.closeReason!());
  }

  /** When the first byte of the frame still incomplete arrived; 0 when none is. */
  frameStartedAt = 0;

  private decode(chunk: Buffer) {
    const wasMidFrame = this.frameStartedAt > 0;
    const items = this.decoder.push(chunk);
    if (!this.decoder.midFrame) this.frameStartedAt = 0;
    else if (!wasMidFrame || items.length > 0) this.frameStartedAt = Date.now();
    return items;
  }

  override get bufferedBytes(): number {
    return this.socket.writableLength + this.queuedBytes;
  }

  send(out: Outgoing): void {
    if (this.ended || this.socket.destroyed) return;
    if (this.queued.length === 0) this.batch.add(this);
    this.queued.push(out);
    this.queuedBytes += out.framed().length;
  }

  /** Writes this turn's frames (called at the end of the turn, or before the socket ends). */
  override flush(): void {
    if (this.queued.length === 0) return;
    const frames = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.writesInFlight++;
    this.socket.write(this.batch.bytes(frames), this.afterWrite);
  }

  /**
   * Calls back once everything queued has been taken by the peer. Not the
   * socket's 'drain': that comes only after a write found the socket's
   * buffer full, and one large write the kernel takes at once never does.
   */
  override onceDrained(callback: () => void): void {
    if (this.queued.length === 0 && this.writesInFlight === 0) process.nextTick(callback);
    else this.drainWaiters.push(callback);
  }

  private readonly afterWrite = (): void => {
    if (--this.writesInFlight > 0 || this.queued.length > 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  };

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

}

// ---------------------------------------------------------------------------
// The server: listeners, sessions, time limits, shutdown
// ---------------------------------------------------------------------------

export class ChatServer implements GatewayHost {
  private readonly settings: Settings;
  private readonly log: ((line: string) => void) | undefined;
  private readonly listener: net.Server;
  private readonly textListener: net.Server | undefined;
  private readonly web: WebGateway;
  private readonly webPort: number | undefined;
  /** Whether the ports speak TLS. */
  readonly secure: boolean;
  private readonly sessions = new Set<Session>();
  private readonly batch = new WriteBatch();
  private readonly limits: SessionLimits;
  private closing: Promise<void> | undefined;
  /** Resolves the shutdown once the last connection has closed. */
  private allClosed: (() => void) | undefined;
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    options: ServerOptions,
    private readonly hub: Hub,
    private readonly store: Store,
  ) {
    this.settings = serverSettings(options);
    this.log = options.log;
    this.limits = {
      rateLimit: this.settings.rateLimit,
      backpressureBytes: BACKPRESSURE_BYTES,
      maxOutboundBytes: this.settings.maxOutboundBytes,
      slowReaderTimeoutMs: this.settings.slowReaderTimeoutMs,
    };
    const secure = options.tls ? readTls(options.tls) : undefined;
    this.secure = secure !== undefined;
    this.listener = socketServer(secure, (socket) => this.onConnection(socket));
    if (options.textPort !== undefined) this.textListener = socketServer(secure, textConnections(this, this.settings.maxBodyBytes));
    this.web = new WebGateway(this, { maxPayloadBytes: this.settings.maxBodyBytes, secure, log: options.log });
    this.webPort = options.webPort;
    // One timer for every connection's deadlines, ticking at a quarter of the shortest.
    const { joinTimeoutMs, frameTimeoutMs, pingIntervalMs, pingTimeoutMs } = this.settings;
    const shortest = Math.min(joinTimeoutMs, frameTimeoutMs, ...(pingIntervalMs > 0 ? [pingIntervalMs, pingTimeoutMs] : []));
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, shortest / 4))).unref();
  }

  /** Opens the store, then listens; rejects with the listen error (EADDRINUSE, ...). */
  static async start(options: ServerOptions = {}): Promise<ChatServer> {
    const settings = serverSettings(options);
    validateOptions(settings);
    const store =
      options.store ?? (options.db ? await openStore(options.db, { historyKeep: settings.historyKeep }) : new MemoryStore({ historyKeep: settings.historyKeep }));
    const hub = await Hub.create({
      store,
      historyReplay: settings.history,
      passwordCostLog2: settings.passwordCostLog2,
      admins: options.admins,
      log: options.log,
    });
    const server = new ChatServer(options, hub, store);
    try {
      await server.listenAll(options);
    } catch (error) {
      clearInterval(server.sweeper);
      for (const listener of [server.listener, server.textListener, server.web.server]) if (listener?.listening) listener.close();
      await store.close();
      throw error;
    }
    return server;
  }

  private async listenAll(options: ServerOptions): Promise<void> {
    const { host, port } = this.settings;
    await listen(this.listener, port, host);
    if (this.textListener) await listen(this.textListener, options.textPort!, host);
    if (this.webPort !== undefined) await listen(this.web.server, this.webPort, host);
  }

  get address(): { host: string; port: number } {
    const address = this.listener.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** The plain-text port, when there is one. */
  get textAddress(): { host: string; port: number } | undefined {
    const address = this.textListener?.address() as net.AddressInfo | undefined;
    return address && { host: address.address, port: address.port };
  }

  /** Where a browser finds the page: the web port when there is one, else the chat port. */
  get pageUrl(): string {
    const address = (this.webPort !== undefined ? this.web.server.address() : this.listener.address()) as net.AddressInfo;
    // Listening on every interface: this machine's own address is the one a browser here can open.
    const shown = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
    const host = shown.includes(":") ? `[${shown}]` : shown;
    return `${this.secure ? "https" : "http"}://${host}:${address.port}/`;
  }

  /** Open connections, joined or not. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Names of the joined clients, sorted. */
  get users(): string[] {
    return this.hub.users;
  }

  /** Tells every client `server_shutdown`, closes every socket, stops listening, flushes the store. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.hub.closing = true;
    const listenerClosed = Promise.all(
      [this.listener, this.textListener].map((listener) => listener && new Promise<void>((resolve) => listener.close(() => resolve()))),
    );
    const webClosed = this.web.close();
    this.batch.flush();
    const notice = Outgoing.of({ type: "error", code: "server_shutdown", message: "The server is shutting down" });
    for (const session of this.sessions) session.disconnect("shutdown", notice);
    if (this.sessions.size > 0) await new Promise<void>((resolve) => (this.allClosed = resolve));
    await listenerClosed;
    await webClosed;
    await this.store.close();
  }

  /** The framed port: a session at once (its time limits run), unless its first bytes are an HTTP request. */
  private onConnection(socket: net.Socket): void {
    const transport = new FramedTransport(socket, this.batch, this.settings);
    const session = this.admit(transport, socket);
    if (!session) return;
    transport.attach(session, this.closeReason, (chunk) => {
      if (!looksLikeHttp(chunk)) return false;
      session.transportClosed("lost"); // never joined: nobody is told
      this.onClose(session);
      this.web.takeHttp(socket, chunk);
      return true;
    });
  }

  readonly closeReason = (): LeaveReason => (this.closing ? "shutdown" : "lost");

  /** GatewayHost: every gateway's connections go through here, so limits, time limits and shutdown cover them all. */
  admit(transport: Transport, socket: net.Socket): Session | undefined {
    if (this.closing) {
      socket.destroy();
      return undefined;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    if (this.sessions.size >= this.settings.maxClients) {
      this.log?.(`${transport.peer}: refused, ${this.sessions.size} clients already connected`);
      socket.on("error", () => {}).resume(); // read (and drop) its input, or its end would go unseen
      const text = `The server is full (${this.settings.maxClients} clients); try again later`;
      transport.end(Outgoing.of({ type: "error", code: "server_full", message: text }));
      return undefined;
    }
    const session = new Session(transport, this.hub, this.limits);
    this.sessions.add(session);
    socket.on("close", () => this.onClose(session));
    return session;
  }

  private onClose(session: Session): void {
    this.sessions.delete(session);
    if (this.sessions.size === 0) this.allClosed?.();
  }

  /**
   * Enforces the time limits: joining, finishing a frame, answering a ping
   * (clients with the ping feature only). A client whose frames the server
   * is holding back is never timed out for it.
   */
  private sweep(): void {
    const now = Date.now();
    const { joinTimeoutMs, frameTimeoutMs, pingIntervalMs, pingTimeoutMs } = this.settings;
    for (const session of this.sessions) {
      if (!session.open || session.held) continue;
      if (session.state === "greeting" && now - session.connectedAt > joinTimeoutMs) {
        this.timeOut(session, `No join within ${joinTimeoutMs / 1000} s of connecting`);
      } else if (session.transport.frameStartedAt > 0 && now - session.transport.frameStartedAt > frameTimeoutMs) {
        this.timeOut(session, `A frame took more than ${frameTimeoutMs / 1000} s to arrive`);
      } else if (pingIntervalMs > 0 && session.joined && session.features.has("ping")) {
        if (session.pingSentAt > 0 && now - session.pingSentAt > pingTimeoutMs) {
          this.log?.(`${session.name}: no answer to ping within ${pingTimeoutMs / 1000} s`);
          session.disconnect("lost");
        } else if (session.pingSentAt === 0 && now - session.lastHeardAt > pingIntervalMs) {
          session.pingSentAt = now;
          session.send({ type: "ping", message: "ping" });
        }
      }
    }
  }

  private timeOut(session: Session, text: string): void {
    this.log?.(`${session.label}: error timeout: ${text}`);
    session.disconnect("timeout", Outgoing.of({ type: "error", code: "timeout", message: text }));
  }
}

function serverSettings(options: ServerOptions): Settings {
  const { log: _log, db: _db, store: _store, admins: _admins, ...rest } = options;
  return {
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
    history: HISTORY_REPLAY,
    historyKeep: HISTORY_KEEP,
    passwordCostLog2: PASSWORD_COST_LOG2,
    ...withoutUndefined(rest),
  };
}

export function startServer(options: ServerOptions = {}): Promise<ChatServer> {
  return ChatServer.start(options);
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
                           (only clients that join with the "ping" feature are pinged)
  --db FILE                SQLite database for accounts and history (default
                           ${DEFAULT_DB}); ${MEMORY_PATH} keeps nothing across restarts
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
    db: { type: "string" },
    history: { type: "string" },
    "history-keep": { type: "string" },
    admin: { type: "string" },
    "text-port": { type: "string" },
    "web-port": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
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
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
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
      db: values.db ?? DEFAULT_DB,
      history: count("--history", values.history, 0),
      historyKeep: count("--history-keep", values["history-keep"]),
      admins: values.admin?.split(",").map((name) => name.trim()).filter(Boolean),
      textPort: values["text-port"] === undefined ? undefined : parsePort(values["text-port"], "--text-port"),
      webPort: values["web-port"] === undefined ? undefined : parsePort(values["web-port"], "--web-port"),
      tls: certFile !== undefined && keyFile !== undefined ? { cert: certFile, key: keyFile } : undefined,
      log,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new StartError(`Port ${(error as { port?: number }).port ?? port} on ${host} is already in use (is another server running?)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new StartError(`Cannot listen on ${host}: no such local address`);
    if (code === "EACCES") throw new StartError(`Not allowed to listen on ${host}:${port}`);
    if (code === "ENOENT" || code === "ERR_OSSL_PEM_NO_START_LINE" || /PEM|certificate|key/i.test(String((error as Error).message))) {
      throw new StartError(`Cannot use the TLS certificate or key: ${(error as Error).message}`);
    }
    throw error;
  }
  const { host: boundHost, port: boundPort } = server.address;
  console.log(`listening on ${boundHost}:${boundPort}${server.secure ? " (TLS)" : ""}`);
  const text = server.textAddress;
  if (text) console.log(`plain text on ${text.host}:${text.port} (nc ${text.host} ${text.port})`);
  console.log(`open ${server.pageUrl} in a browser`);
  const db = values.db ?? DEFAULT_DB;
  log?.(db === MEMORY_PATH ? "database: none (--db :memory:): nothing is kept across restarts" : `database: ${path.resolve(db)}`);

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
