/**
 * The framed TCP gateway: one connection speaking Content-length framing,
 * and the batch that writes each turn's frames with one write per socket.
 */
import net from "node:net";
import { Decoder, type LeaveReason } from "../protocol.js";
import { Outgoing, Session, type Transport } from "./session.js";
import { SocketTransport, TRANSPORT, type TransportSocket } from "./gateway.js";


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
export class WriteBatch {
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
export class FramedTransport extends SocketTransport implements Transport {
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
    limits: { maxHeaderBytes: number; maxBodyBytes: number },
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
