/** Test helpers for the gateways: a line peer (nc), a WebSocket peer, a framed peer over any socket, a throwaway certificate. */
import { execFileSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import WebSocket from "ws";
import { Decoder, encode, Message, ProtocolError, type MessageFields } from "../protocol.js";
import { tempDir, within, WAIT_MS } from "./helpers.js";

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Wakes whoever waits for more input. */
class Waiters {
  private waiting = new Set<() => void>();
  wake(): void {
    const all = [...this.waiting];
    this.waiting.clear();
    all.forEach((fn) => fn());
  }
  /** Resolves at the next wake, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiting.add(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** A plain-text client, as nc: bytes out, text in. */
export class LinePeer {
  text = "";
  /** Where `waitFor` has read up to: each wait looks only at what came after the previous match. */
  private seen = 0;
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly waiters = new Waiters();

  constructor(readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.text += chunk;
      this.waiters.wake();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => {
      this.isClosed = true;
      this.waiters.wake();
    });
  }

  static async connect(t: Teardown, port: number, options: { tls?: boolean } = {}): Promise<LinePeer> {
    const socket = options.tls
      ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false })
      : net.connect({ port, host: "127.0.0.1" });
    t.teardown(() => socket.destroy());
    await within(new Promise((resolve, reject) => socket.once(options.tls ? "secureConnect" : "connect", resolve).once("error", reject)), "a connection");
    return new LinePeer(socket);
  }

  /** Connects, answers the name prompt, and waits for the welcome. */
  static async joined(t: Teardown, port: number, name: string): Promise<LinePeer> {
    const peer = await LinePeer.connect(t, port);
    await peer.waitFor(/Your name: /);
    peer.line(name);
    await peer.waitFor(/^Welcome, .*$/m);
    return peer;
  }

  line(text: string): void {
    this.socket.write(`${text}\n`);
  }

  /** The first match of `pattern` in what arrived since the last match; fails on close or after WAIT_MS. */
  async waitFor(pattern: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.text.slice(this.seen));
      if (match) {
        this.seen += match.index! + match[0].length;
        return match;
      }
      if (this.isClosed) throw new Error(`Closed before ${pattern} arrived; got:\n${this.text.slice(this.seen)}`);
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern}; got:\n${this.text.slice(this.seen)}`);
      await this.waiters.next(deadline - Date.now());
    }
  }

  async expectClosed(): Promise<void> {
    await within(this.closed, "the text connection to close");
  }
}

/** What the protocol case table needs of a client, whatever carries its frames. */
export interface ProtocolPeer {
  send(fields: MessageFields): void;
  /** A body that is not a valid message: sent as one frame, or one WebSocket message. */
  sendBody(body: string): void;
  next(): Promise<Message>;
  /** Everything up to the answer to a ping. */
  drain(): Promise<Message[]>;
  expectClosed(): Promise<void>;
}

/** Frames in a queue, taken in order; shared by the WebSocket and framed peers. */
abstract class QueuedPeer implements ProtocolPeer {
  readonly frames: Array<Message | ProtocolError> = [];
  isClosed = false;
  protected readonly waiters = new Waiters();
  abstract readonly closed: Promise<void>;
  abstract send(fields: MessageFields): void;
  abstract sendBody(body: string): void;

  protected received(items: Array<Message | ProtocolError>): void {
    this.frames.push(...items);
    this.waiters.wake();
  }

  protected ended(): void {
    this.isClosed = true;
    this.waiters.wake();
  }

  async next(): Promise<Message> {
    const deadline = Date.now() + WAIT_MS;
    while (this.frames.length === 0) {
      if (this.isClosed) throw new Error("Connection closed before the expected frame");
      if (Date.now() > deadline) throw new Error("Timed out waiting for a frame");
      await this.waiters.next(deadline - Date.now());
    }
    const item = this.frames.shift()!;
    if (item instanceof ProtocolError) throw item;
    return item;
  }

  async drain(): Promise<Message[]> {
    this.send({ type: "ping" });
    const got: Message[] = [];
    for (;;) {
      const msg = await this.next();
      if (msg.type === "pong") return got;
      got.push(msg);
    }
  }

  async expectClosed(): Promise<void> {
    await within(this.closed, "the connection to close");
  }
}

/** A WebSocket client speaking the protocol's JSON, one message per frame. */
export class WsPeer extends QueuedPeer {
  readonly closed: Promise<void>;
  closeCode = 0;

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on("message", (data) => this.received([toMessage(String(data))]));
    ws.on("error", () => {});
    this.closed = new Promise((resolve) =>
      ws.once("close", (code) => {
        this.closeCode = code;
        resolve();
      }),
    );
    void this.closed.then(() => this.ended());
  }

  static async connect(t: Teardown, url: string, options: WebSocket.ClientOptions = {}): Promise<WsPeer> {
    const ws = new WebSocket(url, options);
    t.teardown(() => ws.terminate());
    const peer = new WsPeer(ws);
    await within(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), "the WebSocket to open");
    return peer;
  }

  static async joined(t: Teardown, url: string, name: string, options: WebSocket.ClientOptions = {}): Promise<WsPeer> {
    const peer = await WsPeer.connect(t, url, options);
    peer.send({ type: "join", client_name: name });
    const welcome = await peer.next();
    if (welcome.type !== "welcome") throw new Error(`${name} was not welcomed: ${JSON.stringify(welcome)}`);
    return peer;
  }

  send(fields: MessageFields): void {
    this.ws.send(JSON.stringify(new Message(fields)));
  }

  sendBody(body: string): void {
    this.ws.send(body);
  }
}

function toMessage(json: string): Message {
  const value = JSON.parse(json) as MessageFields;
  return new Message(value);
}

/** A framed client over any socket (TLS included). */
export class FramedPeer extends QueuedPeer {
  readonly closed: Promise<void>;
  private readonly decoder = new Decoder();

  constructor(readonly socket: net.Socket) {
    super();
    socket.on("data", (chunk: Buffer) => this.received(this.decoder.push(chunk)));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => this.ended());
  }

  static async connect(t: Teardown, port: number, options: { tls?: tls.ConnectionOptions } = {}): Promise<FramedPeer> {
    const socket = options.tls ? tls.connect({ port, host: "127.0.0.1", ...options.tls }) : net.connect({ port, host: "127.0.0.1" });
    t.teardown(() => socket.destroy());
    await within(new Promise((resolve, reject) => socket.once(options.tls ? "secureConnect" : "connect", resolve).once("error", reject)), "a connection");
    return new FramedPeer(socket);
  }

  static async joined(t: Teardown, port: number, name: string, options: { tls?: tls.ConnectionOptions } = {}): Promise<FramedPeer> {
    const peer = await FramedPeer.connect(t, port, options);
    peer.send({ type: "join", client_name: name });
    const welcome = await peer.next();
    if (welcome.type !== "welcome") throw new Error(`${name} was not welcomed: ${JSON.stringify(welcome)}`);
    return peer;
  }

  send(fields: MessageFields): void {
    this.socket.write(encode(fields));
  }

  sendBody(body: string): void {
    this.socket.write(`Content-length: ${Buffer.byteLength(body)}\n${body}`);
  }
}

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl in a temporary directory. */
export function throwawayCertificate(t: Teardown): { cert: string; key: string } {
  const dir = tempDir(t);
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2", "-keyout", key, "-out", cert],
    { stdio: "ignore" },
  );
  return { cert, key };
}
