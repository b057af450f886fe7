/**
 * A client connected to another server of the chat, as this server's hub
 * holds it: a Session whose transport sends nothing (its own server
 * delivers to it). So rooms, `list`, `welcome.users` and moderation treat
 * every member alike, wherever it is connected.
 */
import { AddressPacing } from "../reader-pacing.js";
import { Session, type SessionHandler, type SessionLimits, type Transport } from "../session.js";

/** A transport to a client of another server: frames for it are that server's to send. */
export class RemoteTransport implements Transport {
  readonly bufferedBytes = 0;
  readonly frameStartedAt = 0;

  constructor(
    readonly address: string,
    /** For the log: the session's id in the chat (`SERVER/N`). */
    readonly peer: string,
  ) {}

  send(): void {}
  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {}
  onceDrained(): void {}
}

/** A remote member is never paced or cut off here: its own server does that. */
const REMOTE_LIMITS: SessionLimits = {
  rateLimit: 0,
  backpressureBytes: Infinity,
  maxOutboundBytes: Infinity,
  slowReaderTimeoutMs: Infinity,
  addressPacing: new AddressPacing(),
};

/** A session standing for client `sid` of another server, at `address`. */
export function remoteSession(sid: string, address: string, handler: SessionHandler): Session {
  return new Session(new RemoteTransport(address, sid), handler, REMOTE_LIMITS);
}

/** The server that holds session `sid` (`SERVER/N`). */
export function serverOf(sid: string): string {
  return sid.slice(0, sid.lastIndexOf("/"));
}
