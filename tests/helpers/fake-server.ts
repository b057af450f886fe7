/**
 * A scripted server for client tests: it speaks the framing, records what
 * each connection sends, and answers as the test says. It lets a test show
 * the client a version 2 server's frames (echoes with refs, history, password
 * refusals) or a broken stream, whatever the real server does today.
 */
import { once } from "node:events";
import net from "node:net";
import { Decoder, encode, Message, type MessageFields } from "../../protocol.js";
import type { Teardown } from "./helpers.js";
/** How long to wait for a child process's client: long, since this machine can be very busy. */
export const SLOW_MS = 60_000;

/** One connection to the fake server. */
export class FakeConnection {
  readonly received: Message[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new Decoder();
  private waiters = new Set<() => void>();

  constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const item of this.decoder.push(chunk)) {
        if (!(item instanceof Message)) continue;
        if (item.type === "ping") this.send({ type: "pong" }); // as every server does
        else this.received.push(item);
      }
      this.notify();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => this.notify());
  }

  send(fields: MessageFields | string): void {
    if (!this.socket.destroyed) this.socket.write(typeof fields === "string" ? fields : encode(fields));
  }

  /** The next frame of `type` this connection sent (frames before it are consumed). */
  async next(type: string): Promise<Message> {
    const deadline = Date.now() + SLOW_MS;
    for (;;) {
      const at = this.received.findIndex((msg) => msg.type === type);
      if (at >= 0) return this.received.splice(0, at + 1)[at]!;
      if (this.socket.destroyed) throw new Error(`Connection closed before a ${type} frame`);
      if (Date.now() > deadline) throw new Error(`Timed out waiting for a ${type} frame`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    waiters.forEach((wake) => wake());
  }
}

/** Listens on a free port; hands each connection to the test, in order. */
export class FakeServer {
  readonly connections: FakeConnection[] = [];
  private waiters = new Set<() => void>();

  private constructor(readonly server: net.Server) {
    server.on("connection", (socket) => {
      this.connections.push(new FakeConnection(socket));
      const waiters = [...this.waiters];
      this.waiters.clear();
      waiters.forEach((wake) => wake());
    });
  }

  static async start(t: Teardown): Promise<FakeServer> {
    const server = net.createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const fake = new FakeServer(server);
    t.teardown(() => {
      fake.connections.forEach((c) => c.socket.destroy());
      server.close();
    });
    return fake;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The `n`th connection (from 0), once it has come. */
  async connection(n: number): Promise<FakeConnection> {
    const deadline = Date.now() + SLOW_MS;
    while (this.connections.length <= n) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for connection ${n}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.connections[n]!;
  }
}

/** A version 2 welcome accepting every feature. */
export function welcome(name: string, users: string[] = [name], features = ["ping", "history", "echo"]): MessageFields {
  return { type: "welcome", client_name: name, users, features, message: `Welcome, ${name}` };
}
