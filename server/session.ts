/**
 * One client, whichever gateway it came through: its explicit state, its
 * identity and features, the rate budget that paces its frames (nothing is
 * ever dropped for rate: it is read more slowly), its time limits, and the
 * backpressure between it and the readers it talks to.
 *
 * A gateway turns bytes into `Message`s and hands them to `receive()`; it
 * implements `Transport` to carry `Outgoing` frames back. The chat's rules
 * live in the hub (hub.ts), which the session calls for each frame.
 */
import {
  encode,
  MAX_BODY_BYTES,
  Message,
  ProtocolError,
  SERVER_NAME,
  type Feature,
  type LeaveReason,
  type MessageFields,
} from "../protocol.js";
import { LAG_GRACE_MS, LAG_WINDOW_MS } from "./limits.js";
import type { AddressPacing } from "./reader-pacing.js";

/** A frame on its way out, encoded at most once per encoding however many receive it. */
export class Outgoing {
  private jsonText: string | undefined;

  /** `framed`: the frame when the caller has already encoded it (to check that it fits). */
  constructor(
    readonly message: Message,
    private framedBytes?: Buffer,
  ) {}

  /** A server frame: the seed's four fields are always there, `client_name` defaulting to "server". */
  static of(fields: MessageFields): Outgoing {
    return new Outgoing(new Message({ client_name: SERVER_NAME, ...fields }));
  }

  /** Content-length framing (the TCP port). Never throws: a server sentence too long for a frame is cut short. */
  framed(): Buffer {
    this.framedBytes ??= encodeWithin(this.message);
    return this.framedBytes;
  }

  /** The JSON body alone (one WebSocket message). */
  json(): string {
    this.jsonText ??= this.framed().subarray(this.framed().indexOf(0x0a) + 1).toString("utf8");
    return this.jsonText;
  }
}

function encodeWithin(message: Message): Buffer {
  try {
    return encode(message, MAX_BODY_BYTES);
  } catch {
    // Lists go (`count` says how long they were), and the sentence is cut by code points, so no surrogate pair is split.
    const short = `${[...message.message].slice(0, 1000).join("")}…`;
    const count = message.count ?? message.users?.length ?? message.rooms?.length ?? message.friends?.length;
    const lists = { users: undefined, rooms: undefined, friends: undefined, requests: undefined, operators: undefined };
    return encode(new Message({ ...message, ...lists, message: short, ...(count !== undefined && { count }) }), MAX_BODY_BYTES);
  }
}

/** What a gateway provides for one connection. */
export interface Transport {
  /** The remote IP address (bans, login attempts). */
  readonly address: string;
  /** `address:port`, for the log. */
  readonly peer: string;
  /** Bytes queued for the peer and not yet taken by it. */
  readonly bufferedBytes: number;
  send(out: Outgoing): void;
  /** Stop and restart reading from the peer (flow control). */
  pause(): void;
  resume(): void;
  /** Sends a last frame if given, then closes gracefully. */
  end(last?: Outgoing): void;
  /** Closes at once: nothing more can reach the peer. */
  destroy(): void;
  /** Calls back once the peer has taken what was queued. */
  onceDrained(callback: () => void): void;
  /** When the first byte of a frame still incomplete arrived; 0 when none is (the frame time limit). */
  readonly frameStartedAt: number;
}

/** The hub as a session sees it. */
export interface SessionHandler {
  /** Handles one frame; a promise means the session's next frames wait for it. */
  handle(session: Session, message: Message): void | Promise<void>;
  /** Answers a frame that could not be decoded (the framing is intact). */
  badFrame(session: Session, error: ProtocolError): void;
  /** Handling `message` threw: report it; the session goes on. */
  failed(session: Session, message: Message, error: unknown): void;
  /** The session is gone: unregister it, tell the others. */
  left(session: Session, reason: LeaveReason): void;
}

export type SessionState = "greeting" | "joined" | "closing" | "closed";

/**
 * Why the server stops reading a client: its rate budget is spent, a
 * handler of its last frame is still at work, or a reader it talks to lags.
 * Bits of one number rather than a Set: a session is kept per connection.
 */
const HOLD = { rate: 1, busy: 2, lagging: 4 } as const;
type HoldReason = keyof typeof HOLD;

/** Features before the join names some: one set shared by every session. */
const NO_FEATURES: ReadonlySet<Feature> = new Set();

export interface SessionLimits {
  /** Frames a second, bursts of twice as many; 0 for no limit. */
  rateLimit: number;
  /** Bytes queued for a reader above which its talkers are paused. */
  backpressureBytes: number;
  /** Bytes queued for a reader above which it is cut off. */
  maxOutboundBytes: number;
  /** Time a reader may spend behind, in all, within LAG_WINDOW_MS, before it is cut off as slow. */
  slowReaderTimeoutMs: number;
  /** How long each address's readers have held talkers paused: shared by a server's sessions. */
  addressPacing: AddressPacing;
}

export class Session {
  state: SessionState = "greeting";
  /** Name as granted, and its key (nameKey), once joined. */
  name: string | undefined;
  key: string | undefined;
  /** Logged in to a registered account. */
  account = false;
  features: ReadonlySet<Feature> = NO_FEATURES;
  /** Joined implicitly by a bare seed Message: such a client expects its own broadcasts back. */
  echoOwn = false;
  /** Frames held back behind echoes whose chats are not yet stored, in order (`out` unset: that echo's commit); undefined when none is. */
  private heldForStore: Array<{ out: Outgoing | undefined }> | undefined;
  readonly connectedAt = Date.now();
  lastHeardAt = this.connectedAt;
  /** When the unanswered ping was sent; 0 when none is. */
  pingSentAt = 0;
  /** A pong is queued and not yet sent: a flood of pings gets one answer per turn. */
  pongQueued = false;

  private readonly inbox: Array<Message | ProtocolError> = [];
  /** Why reading is stopped (HOLD bits): each reason holds the socket paused until it is lifted. */
  private holds = 0;
  private tokens: number;
  private tokensAt = this.connectedAt;
  private rateTimer: NodeJS.Timeout | undefined;
  /** How many lagging readers this session waits for. */
  private waitingFor = 0;
  private pausedForReadersAt = 0;
  /**
   * While this session lags as a reader: the talkers paused until it catches
   * up or its grace ends (`letGo`; undefined once it paces no one).
   */
  private lag: { talkers: Set<Session>; since: number; deadline: NodeJS.Timeout; letGo: NodeJS.Timeout | undefined } | undefined;
  private lagSpentMs = 0;
  private lagWindowStart = this.connectedAt;

  constructor(
    readonly transport: Transport,
    private readonly handler: SessionHandler,
    private readonly limits: SessionLimits,
  ) {
    this.tokens = limits.rateLimit * 2;
  }

  get joined(): boolean {
    return this.state === "joined";
  }

  get open(): boolean {
    return this.state === "greeting" || this.state === "joined";
  }

  /** The server has stopped reading this client (its frames are held, not dropped). */
  get held(): boolean {
    return this.holds !== 0;
  }

  /** For the log: the name once joined, the address before. */
  get label(): string {
    return this.name ?? this.transport.peer;
  }

  // -------------------------------------------------------------------------
  // Frames in: in order, paced by the rate budget
  // -------------------------------------------------------------------------

  receive(items: Array<Message | ProtocolError>): void {
    this.lastHeardAt = Date.now();
    this.pingSentAt = 0; // anything at all proves the peer alive
    for (const item of items) {
      if (item instanceof ProtocolError && item.fatal) {
        // The frames before it are still handled, in order; then the connection ends.
        this.inbox.push(item);
        break;
      }
      this.inbox.push(item);
    }
    this.drain();
  }

  private drain(): void {
    // Any hold stops the handling too, not only the reading: frames already read wait while a reader catches up.
    while (this.inbox.length > 0 && this.open && this.holds === 0) {
      const item = this.inbox[0]!;
      if (!this.spend(item)) return;
      this.inbox.shift();
      if (item instanceof ProtocolError) {
        this.handler.badFrame(this, item);
        continue;
      }
      const pending = this.handle(item);
      if (pending) {
        this.hold("busy");
        void pending.finally(() => {
          this.release("busy");
          this.drain();
        });
        return;
      }
    }
  }

  /** Runs the hub's handler; a failure (the store gone, a bug) is reported, never thrown into the socket's event. */
  private handle(message: Message): Promise<void> | undefined {
    try {
      const pending = this.handler.handle(this, message);
      return pending?.catch((error: unknown) => this.handler.failed(this, message, error));
    } catch (error) {
      this.handler.failed(this, message, error);
      return undefined;
    }
  }

  /**
   * Token bucket: `rateLimit` frames a second, bursts of twice that. ping,
   * pong and quit cost nothing. Over the budget, reading stops until a token
   * has refilled: the frame waits, it is never dropped.
   */
  private spend(item: Message | ProtocolError): boolean {
    const rate = this.limits.rateLimit;
    if (rate === 0 || item instanceof ProtocolError && item.fatal) return true;
    if (item instanceof Message && (item.type === "ping" || item.type === "pong" || item.type === "quit")) return true;
    const now = Date.now();
    this.tokens = Math.min(Math.max(rate * 2, this.tokens), this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.hold("rate");
    this.rateTimer = setTimeout(() => {
      this.rateTimer = undefined;
      this.release("rate");
      this.drain();
    }, Math.ceil(((1 - this.tokens) * 1000) / rate));
    return false;
  }

  /**
   * Counts `frames` more against this client's rate, for work its last
   * frame caused beyond its own (a long history reply): the bucket may go
   * below empty, and reading waits until it has refilled.
   */
  charge(frames: number): void {
    if (this.limits.rateLimit > 0) this.tokens -= frames;
  }

  private hold(reason: HoldReason): void {
    if (this.holds === 0) this.transport.pause();
    this.holds |= HOLD[reason];
  }

  private release(reason: HoldReason): void {
    if ((this.holds & HOLD[reason]) === 0) return;
    this.holds &= ~HOLD[reason];
    if (this.holds === 0 && this.open) this.transport.resume();
  }

  // -------------------------------------------------------------------------
  // Frames out
  // -------------------------------------------------------------------------

  /** A frame from the server to this client only. */
  send(fields: MessageFields): void {
    this.deliver(Outgoing.of(fields));
  }

  /**
   * Queues a frame. When `talker` is another session and this reader falls
   * behind, the talker is paused until this reader catches up (for a short
   * grace at most), so a flood slows to the pace of its readers instead of
   * piling up in memory.
   */
  deliver(out: Outgoing, talker?: Session): void {
    if (!this.open) return;
    if (this.heldForStore) {
      this.heldForStore.push({ out }); // behind an echo: this client's frames keep their order
      return;
    }
    this.deliverNow(out, talker);
  }

  /**
   * Sends `out` once `whenStored` calls back (`failed()` instead when storing
   * failed): the echo of a chat is the server's word that it has the chat,
   * so it waits for the store's commit. Frames for this client meanwhile
   * wait behind it, so that it gets them in the order they were sent.
   */
  deliverWhenStored(out: Outgoing, whenStored: (done: (error?: Error) => void) => void, failed: () => Outgoing): void {
    if (!this.open) return;
    const entry: { out: Outgoing | undefined } = { out: undefined };
    (this.heldForStore ??= []).push(entry);
    whenStored((error) => {
      entry.out = error ? failed() : out;
      this.releaseStored();
    });
  }

  /** Sends the held frames up to the first echo still waiting for its commit. */
  private releaseStored(): void {
    const held = this.heldForStore;
    if (!held) return;
    let ready = 0;
    while (ready < held.length && held[ready]!.out) ready++;
    const going = held.splice(0, ready);
    if (held.length === 0) this.heldForStore = undefined;
    for (const { out } of going) if (this.open) this.deliverNow(out!);
  }

  private deliverNow(out: Outgoing, talker?: Session): void {
    if (this.transport.bufferedBytes + out.framed().length > this.limits.maxOutboundBytes) {
      this.disconnect("slow");
      return;
    }
    this.transport.send(out);
    // Read again after sending: a frame the peer took at once is not queued (and no 'drain' would follow it).
    if (talker && talker !== this && this.transport.bufferedBytes > this.limits.backpressureBytes) this.pauseTalker(talker);
  }

  private pauseTalker(talker: Session): void {
    const lag = this.lag ?? this.startLagging();
    if (!lag.letGo || lag.talkers.has(talker)) return; // past its grace, it paces no one
    lag.talkers.add(talker);
    if (talker.waitingFor++ === 0) {
      talker.pausedForReadersAt = Date.now();
      talker.hold("lagging");
    }
  }

  /**
   * A reader may stay behind for slowReaderTimeoutMs at a stretch. Stretches
   * longer than LAG_GRACE_MS also add up, within LAG_WINDOW_MS, to that same
   * allowance: a reader that empties its buffer only every few seconds is
   * cut off in the end. A reader that keeps up with a flood is behind only
   * for moments, and never uses its allowance.
   *
   * It holds its talkers only for its address's grace (PACING_GRACE_MS at
   * most), not the whole stretch: talkers paused for one reader keep every
   * other reader waiting too, so a reader that does not read would stall
   * everyone until it was cut off. Past the grace, its frames queue (up to
   * maxOutboundBytes) and it paces no one until it has caught up.
   */
  private startLagging(): NonNullable<Session["lag"]> {
    const now = Date.now();
    if (now - this.lagWindowStart > LAG_WINDOW_MS) {
      this.lagWindowStart = now;
      this.lagSpentMs = 0;
    }
    const allowance = Math.max(0, this.limits.slowReaderTimeoutMs - this.lagSpentMs);
    const deadline = setTimeout(() => this.disconnect("slow"), Math.min(this.limits.slowReaderTimeoutMs, LAG_GRACE_MS + allowance));
    const grace = this.limits.addressPacing.grace(this.transport.address);
    const letGo = grace > 0 ? setTimeout(() => this.letTalkersGo(grace), grace) : undefined;
    this.lag = { talkers: new Set(), since: now, deadline, letGo };
    this.transport.onceDrained(() => this.releaseTalkers());
    return this.lag;
  }

  /** The grace is over and this reader is still behind: its talkers go on without it, at its address's expense. */
  private letTalkersGo(grace: number): void {
    const lag = this.lag;
    if (!lag) return;
    lag.letGo = undefined;
    this.limits.addressPacing.charge(this.transport.address, grace);
    const talkers = lag.talkers;
    lag.talkers = new Set();
    for (const talker of talkers) talker.readerCaughtUp();
  }

  private releaseTalkers(): void {
    const lag = this.lag;
    if (!lag) return;
    this.lag = undefined;
    clearTimeout(lag.deadline);
    clearTimeout(lag.letGo);
    this.lagSpentMs += Math.max(0, Date.now() - lag.since - LAG_GRACE_MS);
    for (const talker of lag.talkers) talker.readerCaughtUp();
  }

  /** A reader no longer holds this talker. Time spent paused for others' sake does not count against its rate: it is credited back. */
  private readerCaughtUp(): void {
    if (--this.waitingFor > 0) return;
    const rate = this.limits.rateLimit;
    // At most one burst more than the bucket holds: a long pause must not bank an unbounded burst.
    if (rate > 0) this.tokens = Math.min(this.tokens + ((Date.now() - this.pausedForReadersAt) * rate) / 1000, rate * 4);
    this.release("lagging");
    this.drain();
  }

  // -------------------------------------------------------------------------
  // Leaving
  // -------------------------------------------------------------------------

  /** Ends the session on the server's initiative, after a last frame if given. */
  disconnect(reason: LeaveReason, last?: Outgoing): void {
    if (!this.open) return;
    this.state = "closing"; // until the transport has closed
    if (reason === "slow") this.transport.destroy(); // its buffer is full: nothing more can reach it
    else this.transport.end(last);
    this.stop();
    this.handler.left(this, reason);
  }

  /** The transport closed: the peer left, or the server closed it. */
  transportClosed(reason: LeaveReason): void {
    const wasOpen = this.open;
    this.state = "closed";
    this.stop();
    if (wasOpen) this.handler.left(this, reason);
  }

  private stop(): void {
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    this.releaseTalkers();
    this.inbox.length = 0;
  }
}
