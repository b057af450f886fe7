/**
 * The chat server as a module: `startServer({ port: 0 })` resolves to a
 * running ChatServer, keeping everything in memory unless given a database.
 * It composes the parts: the gateways (framed TCP, plain text, the page and
 * WebSocket), sessions, the chat's rules (the hub) and the store.
 */
import net from "node:net";
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  HEADER_NAME,
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  MAX_OUTBOUND_BYTES,
  type LeaveReason,
} from "../protocol.js";
import { UsageError } from "../common/cli.js";
import { Hub } from "./hub.js";
import {
  BACKPRESSURE_BYTES,
  FULL_HTTP_SLACK,
  FRAME_TIMEOUT_MS,
  HISTORY_KEEP,
  HISTORY_REPLAY,
  JOIN_TIMEOUT_MS,
  KEEPALIVE_MS,
  MAX_CLIENTS,
  MAX_UNJOINED_PER_ADDRESS,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  RATE_LIMIT_PER_SECOND,
  SLOW_READER_TIMEOUT_MS,
} from "./limits.js";
import { Outgoing, Session, type SessionLimits, type Transport } from "./session.js";
import { AddressPacing } from "./reader-pacing.js";
import { MemoryStore, type Store } from "./store.js";
import { openStore } from "./open-store.js";
import { ClusterLink } from "./cluster/cluster-link.js";
import { PASSWORD_COST_LOG2 } from "./passwords.js";
import { listen, readTls, socketServer, type GatewayHost, type TlsFiles } from "./gateway.js";
import { FramedTransport, WriteBatch } from "./gateway-framed.js";
import { textConnections } from "./gateway-text.js";
import { looksLikeHttp, WebGateway } from "./gateway-web.js";

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
  /** Origins (`https://chat.example.com`) besides the page's own whose pages may open the WebSocket. @default none */
  allowOrigins?: string[];
  /** `redis://HOST:PORT`: this server is one of several forming one chat through that Redis (docs/cluster.md). @default alone */
  redis?: string;
}

type Settings = Required<Omit<ServerOptions, "log" | "db" | "store" | "admins" | "textPort" | "webPort" | "tls" | "allowOrigins" | "redis">>;

/** Checks option combinations at start (as ws does): a server whose limits no frame can meet is a mistake. */
export function validateOptions(settings: Pick<Settings, "maxHeaderBytes" | "maxBodyBytes">): void {
  const shortestHeader = `${HEADER_NAME}:${settings.maxBodyBytes}`.length;
  if (settings.maxHeaderBytes < shortestHeader) {
    throw new UsageError(
      `--max-header-bytes ${settings.maxHeaderBytes} is too small for a header announcing ${settings.maxBodyBytes} bytes (at least ${shortestHeader})`,
    );
  }
}

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
  /** Sessions not yet joined, by address (see unjoinedFrom). */
  private readonly unjoined = new Map<string, Set<Session>>();
  /** HTTP connections not (yet) upgraded to a WebSocket session: they count against --max-clients too. */
  private readonly httpSockets = new Set<net.Socket>();
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
    private readonly link: ClusterLink | undefined,
  ) {
    this.settings = serverSettings(options);
    this.log = options.log;
    this.limits = {
      rateLimit: this.settings.rateLimit,
      backpressureBytes: BACKPRESSURE_BYTES,
      maxOutboundBytes: this.settings.maxOutboundBytes,
      slowReaderTimeoutMs: this.settings.slowReaderTimeoutMs,
      addressPacing: new AddressPacing(),
    };
    const secure = options.tls ? readTls(options.tls) : undefined;
    this.secure = secure !== undefined;
    this.listener = socketServer(secure, (socket) => this.onConnection(socket));
    if (options.textPort !== undefined) this.textListener = socketServer(secure, textConnections(this, this.settings.maxBodyBytes));
    this.web = new WebGateway(this, {
      maxPayloadBytes: this.settings.maxBodyBytes,
      secure,
      log: options.log,
      allowOrigins: options.allowOrigins,
      requestTimeoutMs: this.settings.frameTimeoutMs,
    });
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
    let link: ClusterLink | undefined;
    try {
      link = options.redis ? await ClusterLink.connect({ url: options.redis, log: options.log }) : undefined;
    } catch (error) {
      await store.close();
      throw error;
    }
    const hub = await Hub.create({
      store,
      historyReplay: settings.history,
      passwordCostLog2: settings.passwordCostLog2,
      admins: options.admins,
      log: options.log,
      cluster: link,
    });
    const server = new ChatServer(options, hub, store, link);
    try {
      // Caught up with the shared log (who is online, rooms) before the first client comes.
      await link?.start(hub);
      await server.listenAll(options);
    } catch (error) {
      clearInterval(server.sweeper);
      for (const listener of [server.listener, server.textListener, server.web.server]) if (listener?.listening) listener.close();
      await link?.stop();
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

  /** With --redis: the Redis the servers of this chat share, and this server's id among them. */
  get cluster(): { url: string; server: string } | undefined {
    return this.link && { url: this.link.url, server: this.link.server };
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

  /** Chat sessions open, joined or not, whichever way they came in. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Open connections, joined or not, HTTP ones included: what --max-clients counts. */
  get connectionCount(): number {
    return this.sessions.size + this.httpSockets.size;
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
    // The other servers' clients see this one's leave at once (reason shutdown).
    await this.link?.stop();
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
      if (this.admitHttp(socket)) this.web.takeHttp(socket, chunk);
      else socket.destroy();
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
    this.httpSockets.delete(socket); // a WebSocket upgraded: counted as a session from now on
    if (this.connectionCount >= this.settings.maxClients) {
      this.log?.(`${transport.peer}: refused, ${this.connectionCount} clients already connected`);
      socket.on("error", () => {}).resume(); // read (and drop) its input, or its end would go unseen
      const text = `The server is full (${this.settings.maxClients} clients); try again later`;
      transport.end(Outgoing.of({ type: "error", code: "server_full", message: text }));
      return undefined;
    }
    const waiting = this.unjoinedFrom(transport.address);
    if (waiting.size >= MAX_UNJOINED_PER_ADDRESS) {
      this.log?.(`${transport.peer}: refused, ${waiting.size} connections from this address have not joined`);
      socket.on("error", () => {}).resume();
      const text = `Too many connections from your address (${MAX_UNJOINED_PER_ADDRESS}) have not joined yet; try again later`;
      transport.end(Outgoing.of({ type: "error", code: "server_full", message: text }));
      return undefined;
    }
    const session = new Session(transport, this.hub, this.limits);
    this.sessions.add(session);
    waiting.add(session);
    socket.on("close", () => this.onClose(session));
    return session;
  }

  /**
   * The sessions from `address` still waiting to join. Kept up to date
   * lazily: those that joined or closed are dropped here, when the address
   * connects again, so the work is bounded by the cap.
   */
  private unjoinedFrom(address: string): Set<Session> {
    let waiting = this.unjoined.get(address);
    if (!waiting) this.unjoined.set(address, (waiting = new Set()));
    for (const session of waiting) if (session.state !== "greeting") waiting.delete(session);
    return waiting;
  }

  /** GatewayHost: an HTTP connection counts against --max-clients until it is upgraded or closed. */
  admitHttp(socket: net.Socket): boolean {
    if (this.closing || this.connectionCount >= this.settings.maxClients + FULL_HTTP_SLACK) return false;
    this.httpSockets.add(socket);
    socket.once("close", () => this.httpSockets.delete(socket));
    return true;
  }

  private onClose(session: Session): void {
    this.sessions.delete(session);
    const waiting = this.unjoined.get(session.transport.address);
    if (waiting?.delete(session) && waiting.size === 0) this.unjoined.delete(session.transport.address);
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
  const { log: _log, db: _db, store: _store, admins: _admins, allowOrigins: _allowOrigins, redis: _redis, ...rest } = options;
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
