/**
 * What every gateway shares: how it asks the server for a session, and how
 * its listener is made, with TLS or without.
 */
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { LeaveReason } from "../protocol.js";
import type { Outgoing, Session, Transport } from "./session.js";

/** How long a closing connection may take to flush its last frames before it is destroyed. */
export const CLOSE_GRACE_MS = 1000;

/**
 * The transport a socket carries, so that its listeners can be functions
 * shared by every connection instead of closures made for each.
 */
export const TRANSPORT = Symbol("transport");
export type TransportSocket<T extends SocketTransport = SocketTransport> = net.Socket & { [TRANSPORT]: T };

function onSocketError(this: TransportSocket): void {
  this[TRANSPORT].peerReset();
}

/**
 * What a transport over a socket does whatever it speaks: its address, what
 * waits for the peer, and how it ends. A gateway adds reading and `send()`.
 */
export abstract class SocketTransport implements Pick<Transport, "address" | "peer" | "bufferedBytes" | "end" | "destroy" | "onceDrained"> {
  /** Nothing more is written: the transport is ending, or the peer reset it. */
  protected ended = false;

  constructor(protected readonly socket: net.Socket) {
    (socket as TransportSocket)[TRANSPORT] = this;
    socket.on("error", onSocketError);
  }

  /** A reset peer: write nothing more (each write to it would build an error); 'close' follows. */
  peerReset(): void {
    this.ended = true;
  }

  abstract send(out: Outgoing): void;

  get address(): string {
    return this.socket.remoteAddress ?? "";
  }

  get peer(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** Writes what `send()` has held back, if it holds any back. */
  protected flush(): void {}

  end(last?: Outgoing): void {
    if (this.ended) return;
    if (last) this.send(last);
    this.flush();
    this.ended = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  onceDrained(callback: () => void): void {
    onceSocketDrained(this.socket, callback);
  }
}

/**
 * Calls back once a socket has taken what was written to it: at its 'drain',
 * or on the next tick when no write is waiting for one. A socket says
 * 'drain' only after a write found it at its high-water mark (16 KiB on
 * Node 20, 64 KiB from Node 22), so waiting for one below it would wait for ever.
 */
export function onceSocketDrained(socket: net.Socket, callback: () => void): void {
  if (socket.writableNeedDrain) socket.once("drain", callback);
  else process.nextTick(callback);
}

/** The server as a gateway sees it. */
export interface GatewayHost {
  /**
   * A session for a new connection, counted with every other gateway's (for
   * --max-clients, the time limits and shutdown); undefined when the server
   * is closing or full, after the peer has been told so and closed.
   */
  admit(transport: Transport, socket: net.Socket): Session | undefined;
  /**
   * An HTTP connection (the page, or a WebSocket before its upgrade),
   * counted with the sessions for --max-clients; false when the server is
   * closing or full: the caller then closes it.
   */
  admitHttp(socket: net.Socket): boolean;
  /** Why a connection that closes now has gone: `shutdown` while the server closes, else `lost`. */
  readonly closeReason: () => LeaveReason;
}

/** A certificate and its key, as PEM file paths. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** The PEM contents of `files`, read once for every listener. */
export function readTls(files: TlsFiles): tls.SecureContextOptions {
  return { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) };
}

/**
 * A TCP listener calling `onSocket` for each connection: plain, or TLS once
 * the handshake is done (a tls.Server is a net.Server, and a TLSSocket a
 * net.Socket, so the gateways need not know which).
 */
export function socketServer(secure: tls.SecureContextOptions | undefined, onSocket: (socket: net.Socket) => void): net.Server {
  if (!secure) return net.createServer(onSocket);
  const server = tls.createServer(secure, onSocket);
  // A failed handshake (a plain client, a wrong certificate) concerns only that socket.
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  return server;
}

/** Listens, resolving once bound; rejects with the listen error (EADDRINUSE, ...). */
export function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
