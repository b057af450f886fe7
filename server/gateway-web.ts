/**
 * The browser's way in: a single page over HTTP(S), and a WebSocket endpoint
 * (`/ws`) carrying the protocol's JSON messages, one per WebSocket message.
 *
 * It serves on `--web-port`, and on the chat port itself: a connection whose
 * first byte starts an HTTP request line (`GET`, `HEAD`) can never be a
 * framed client, so the framed gateway hands it over (`takeHttp`).
 *
 * Why the `ws` library: WebSocket framing, masking, fragmentation, close
 * handshakes and the upgrade's checks are a protocol of their own; ws is the
 * maintained, dependency-free implementation Node servers use.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import path from "node:path";
import type tls from "node:tls";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { decodeBody, type LeaveReason } from "../protocol.js";
import type { Outgoing, Session, Transport } from "./session.js";
import { CLOSE_GRACE_MS, onceSocketDrained, type GatewayHost } from "./gateway.js";

/** The WebSocket endpoint's path. */
export const WEB_SOCKET_PATH = "/ws";
/** WebSocket close code for a message over the size limit (RFC 6455). */
export const CLOSE_TOO_BIG = 1009;

const WEB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "web");

/**
 * The page, built once per process at its first request: web/index.html with
 * web/app.ts compiled by esbuild (about a tenth of a second). Not at start: a
 * server no browser visits (tests, the launcher's many servers) never pays it.
 */
let pageBuild: Promise<{ html: string; script: string }> | undefined;

export function buildPage(): Promise<{ html: string; script: string }> {
  pageBuild ??= (async () => {
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [path.join(WEB_DIR, "app.ts")],
      bundle: true,
      write: false,
      format: "iife",
      target: "es2020",
      minify: true,
      logLevel: "silent",
    });
    return { html: fs.readFileSync(path.join(WEB_DIR, "index.html"), "utf8"), script: result.outputFiles[0]!.text };
  })();
  return pageBuild;
}

/** What the page may do: its own script and styles, and connect back to this server. Text from others can never run. */
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** The first byte of a request line a browser or curl sends; a framed client's first byte is `C` (Content-length). */
export function looksLikeHttp(chunk: Buffer): boolean {
  const first = chunk[0];
  return first === 0x47 /* G */ || first === 0x48; /* H */
}

/** One WebSocket connection. */
class WebTransport implements Transport {
  private ended = false;
  /** The peer broke the WebSocket protocol (a message over the limit, bad framing). */
  private broken = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: net.Socket,
  ) {}

  attach(session: Session, closeReason: () => LeaveReason): void {
    // Runs before ws reads the chunk: bytes have come, and until ws completes a frame they belong to one begun (slow loris).
    this.socket.prependListener("data", () => (this.frameStartedAt ||= Date.now()));
    this.ws.on("message", (data: RawData) => {
      this.frameStartedAt = 0;
      session.receive([decodeBody(toBuffer(data))]);
    });
    this.ws.on("ping", () => (this.frameStartedAt = 0));
    this.ws.on("pong", () => (this.frameStartedAt = 0));
    this.ws.on("error", () => (this.broken = true)); // ws closes the connection itself, with the right code
    this.ws.on("close", () => session.transportClosed(this.broken ? "protocol_error" : closeReason()));
  }

  get address(): string {
    return this.socket.remoteAddress ?? "";
  }

  get peer(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort} (web)`;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** When bytes of a message not yet complete began to arrive; 0 when none are pending (the frame time limit). */
  frameStartedAt = 0;

  send(out: Outgoing): void {
    if (!this.ended && this.ws.readyState === this.ws.OPEN) this.ws.send(out.json());
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(last?: Outgoing): void {
    if (this.ended) return;
    if (last) this.send(last);
    this.ended = true;
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.ended = true;
    this.ws.terminate();
  }

  onceDrained(callback: () => void): void {
    onceSocketDrained(this.socket, callback);
  }
}

/** How long a refused request's peer has to take the answer before its connection is cut. */
const REFUSAL_GRACE_MS = 1000;

/**
 * Answers a request Node's parser refused, as a browser or a proxy expects
 * (headers over Node's 16 KiB: 431; a malformed request: 400; too slow: 408)
 * rather than with a reset, then closes. A peer that reset is just let go.
 */
function refuseRequest(error: NodeJS.ErrnoException, socket: net.Socket): void {
  const status =
    error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large"
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout"
    : error.code === "ECONNRESET" ? undefined
    : "400 Bad Request";
  if (!status || !socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export interface WebGatewayOptions {
  /** Largest WebSocket message, in bytes: the frame body limit. */
  maxPayloadBytes: number;
  /** For https on --web-port. */
  secure?: tls.SecureContextOptions;
  /** Told when the page cannot be built (the chat goes on without it). */
  log?: (line: string) => void;
  /** Origins besides the page's own whose pages may open the WebSocket (`--allow-origin`). */
  allowOrigins?: readonly string[];
  /** Time an HTTP request (the page, or an upgrade) may take to arrive: the server's frame timeout. */
  requestTimeoutMs: number;
}

/**
 * Whether a WebSocket handshake may go on. A browser names the page that
 * opens a WebSocket in `Origin`, and any page may try: without this check,
 * any site a user visits could read and post in a chat on localhost or an
 * intranet. Allowed: the page's own origin (the same host and port the
 * request was sent to), the origins listed, and no Origin at all (not a
 * browser: a browser always sends one). `null` (a sandboxed page, a file)
 * is refused unless listed.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  if (allowed.has(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return allowed.has(url.origin) || (host !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.host === host.toLowerCase());
}

/**
 * The page and the WebSocket endpoint. `server` listens on --web-port;
 * `sniffed` never listens: the chat port hands it the connections that
 * turned out to speak HTTP.
 */
export class WebGateway {
  readonly server: http.Server;
  private readonly sniffed: http.Server;
  private readonly wss: WebSocketServer;
  private readonly log: ((line: string) => void) | undefined;
  private readonly allowOrigins: ReadonlySet<string>;
  private readonly requestTimeoutMs: number;
  /** The chat port's HTTP connections whose request has not yet arrived whole, with the timer that ends them. */
  private readonly awaitingRequest = new WeakMap<net.Socket, NodeJS.Timeout>();

  constructor(
    private readonly host: GatewayHost,
    options: WebGatewayOptions,
  ) {
    this.log = options.log;
    this.allowOrigins = new Set((options.allowOrigins ?? []).map(normalOrigin));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, perMessageDeflate: false, clientTracking: false });
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.page(req, res);
    this.server = options.secure ? https.createServer(options.secure, onRequest) : http.createServer(onRequest);
    this.sniffed = http.createServer(onRequest);
    this.requestTimeoutMs = options.requestTimeoutMs;
    // Node enforces these only on a server that listens: the sniffed one has a timer per connection instead (takeHttp).
    this.server.requestTimeout = options.requestTimeoutMs;
    this.server.headersTimeout = options.requestTimeoutMs;
    this.sniffed.on("request", (req: http.IncomingMessage) => this.requestArrived(req.socket));
    for (const server of [this.server, this.sniffed]) {
      server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.upgrade(req, socket, head));
      server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => refuseRequest(error, socket));
    }
    this.server.on("connection", (socket: net.Socket) => {
      if (!host.admitHttp(socket)) socket.destroy();
    });
  }

  /** Serves a connection of the chat port whose first bytes (`chunk`, already read) are an HTTP request. */
  takeHttp(socket: net.Socket, chunk: Buffer): void {
    this.awaitingRequest.set(socket, setTimeout(() => socket.destroy(), this.requestTimeoutMs).unref());
    this.sniffed.emit("connection", socket);
    // Node's HTTP parser reads the socket's handle directly, so an unshift() would be lost: replay the bytes as data.
    socket.emit("data", chunk);
  }

  /** Closes the page's connections (WebSocket sessions are closed by the server, as every session). */
  close(): Promise<void> {
    this.sniffed.closeAllConnections();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return this.server.listening ? closed : Promise.resolve();
  }

  private async page(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      const { html, script } = await buildPage();
      if (url.pathname === "/") return respond(res, "text/html; charset=utf-8", html);
      if (url.pathname === "/app.js") return respond(res, "text/javascript; charset=utf-8", script);
      if (url.pathname === WEB_SOCKET_PATH) {
        res.writeHead(426, { "Content-Type": "text/plain", Upgrade: "websocket" }).end("This address speaks WebSocket\n");
        return;
      }
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found\n");
    } catch (error) {
      this.log?.(`the page could not be built: ${(error as Error).message}`);
      res.writeHead(500, { "Content-Type": "text/plain" }).end(`The page could not be built: ${(error as Error).message}\n`);
    }
  }

  private requestArrived(socket: net.Socket): void {
    clearTimeout(this.awaitingRequest.get(socket));
    this.awaitingRequest.delete(socket);
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    this.requestArrived(socket);
    socket.on("error", () => {});
    if (new URL(req.url ?? "/", "http://localhost").pathname !== WEB_SOCKET_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host, this.allowOrigins)) {
      this.log?.(`${socket.remoteAddress ?? "?"}: WebSocket refused: origin ${JSON.stringify(req.headers.origin)} is not allowed (--allow-origin)`);
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    // ws answers a malformed upgrade (bad key, version, headers) with 400 itself and never calls back.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const transport = new WebTransport(ws, socket);
      const session = this.host.admit(transport, socket);
      if (session) transport.attach(session, this.host.closeReason);
    });
  }
}

/** An origin as browsers send it: scheme, host and port only, lower case; "null" as it is. */
function normalOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

function respond(res: http.ServerResponse, type: string, body: string): void {
  res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-cache", ...SECURITY_HEADERS });
  res.end(body);
}
