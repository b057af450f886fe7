/**
 * The clients a test speaks through, written from the protocol alone: a framed
 * peer over TCP or TLS (Peer), a WebSocket peer, and a plain-text peer (as nc).
 */
import net from "node:net";
import tls from "node:tls";
import WebSocket from "ws";
import { Decoder, encode, Message, ProtocolError, type MessageFields } from "../../protocol.js";
import { within, WAIT_MS, type Teardown } from "./helpers.js";

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

  /** The next frame; fails on a decoding error, on close, or after WAIT_MS. */
  async next(): Promise<Message> {
    const item = await this.nextItem();
    if (item instanceof ProtocolError) throw item;
    return item;
  }

  /** The next frame or decoding error; fails on close or after WAIT_MS. */
  async nextItem(): Promise<Message | ProtocolError> {
    const deadline = Date.now() + WAIT_MS;
    while (this.frames.length === 0) {
      if (this.isClosed) throw new Error("Connection closed before the expected frame");
      if (Date.now() > deadline) throw new Error("Timed out waiting for a frame");
      await this.waiters.next(deadline - Date.now());
    }
    return this.frames.shift()!;
  }

  /** Everything received up to the answer to a ping: the server has sent all it will for now. */
  async drain(): Promise<Message[]> {
    this.send({ type: "ping" });
    const got: Message[] = [];
    for (;;) {
      const msg = await this.next();
      if (msg.type === "pong") return got;
      got.push(msg);
    }
  }

  /** Resolves when the server has closed the connection; fails after WAIT_MS. */
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

/** A framed client over TCP or TLS: frames in, frames out, nothing else. */
export class Peer extends QueuedPeer {
  readonly closed: Promise<void>;
  private readonly decoder = new Decoder();

  private constructor(readonly socket: net.Socket) {
    super();
    socket.on("data", (chunk: Buffer) => this.received(this.decoder.push(chunk)));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => this.ended());
  }

  /** `localAddress` (plain TCP): another loopback address (127.0.0.2, ...) to connect from, as a client elsewhere would. */
  static async connect(t: Teardown, port: number, options: { tls?: tls.ConnectionOptions; localAddress?: string } = {}): Promise<Peer> {
    const { localAddress } = options;
    const socket = options.tls ? tls.connect({ port, host: "127.0.0.1", ...options.tls }) : net.connect({ port, host: "127.0.0.1", localAddress });
    t.teardown(() => socket.destroy());
    await within(new Promise((resolve, reject) => socket.once(options.tls ? "secureConnect" : "connect", resolve).once("error", reject)), "a connection");
    return new Peer(socket);
  }

  /** Connects and joins under `name`, waiting for the welcome. */
  static async joined(t: Teardown, port: number, name: string, options: { tls?: tls.ConnectionOptions; localAddress?: string } = {}): Promise<Peer> {
    const peer = await Peer.connect(t, port, options);
    peer.send({ type: "join", client_name: name });
    const welcome = await peer.next();
    if (welcome.type !== "welcome") throw new Error(`${name} was not welcomed: ${JSON.stringify(welcome)}`);
    return peer;
  }

  /** A message, or raw bytes as they are (a broken frame, a frame in pieces). */
  send(fields: MessageFields | Buffer | string): void {
    this.socket.write(typeof fields === "string" || Buffer.isBuffer(fields) ? fields : encode(fields));
  }

  sendBody(body: string): void {
    this.socket.write(`Content-length: ${Buffer.byteLength(body)}\n${body}`);
  }
}
