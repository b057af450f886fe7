/**
 * The client's connection: `ChatClient` joins, sends, and reconnects with
 * backoff; every interface (line mode, the full screen) renders what it emits.
 */
import { EventEmitter } from "node:events";
import net from "node:net";
import tls from "node:tls";
import type { ConnectionState } from "../common/launch-contract.js";
import { EMPTY_CHAT_STATE, findRoom, reduceChat, type ChatState, type RoomView } from "./chat-state.js";
import { HISTORY_PAGE, sameRoom } from "../common/commands.js";
import type { Texts } from "../common/catalogue.js";
import { errorText, sanitize } from "../common/format.js";
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  Decoder,
  encode,
  FEATURES,
  LOBBY,
  Message,
  nameKey,
  ProtocolError,
  roomKey,
  sortNames,
  type MessageFields,
} from "../protocol.js";

/** First wait before reconnecting; it doubles on each failed attempt. */
export const RECONNECT_DELAY_MS = 1000;
export const MAX_RECONNECT_DELAY_MS = 10_000;
/** How long a quitting client waits for the server to close the connection. */
export const QUIT_TIMEOUT_MS = 2000;
/** How long pipe mode waits for a version 1 server's pong before leaving. */
export const SETTLE_TIMEOUT_MS = 10_000;
/** How many ids of chats already shown are remembered, so that a replay after rejoining shows only what is new. */
export const MAX_SEEN_IDS = 10_000;
/** Exit code of pipe mode when a line it read was not delivered. */
export const EXIT_UNDELIVERED = 2;
/** Exit code when the client stops on a failure: no server, a name refused on rejoining, ... */
export const EXIT_FAILURE = 1;
/** Environment variable holding the password of the name to join (like --password). */
export const PASSWORD_ENV = "CHAT_PASSWORD";


/** Join error codes that refuse the name (or its password): another may be tried. */
export const NAME_REFUSAL_CODES: ReadonlySet<string> = new Set([
  "name_invalid",
  "name_taken",
  "password_required",
  "bad_password",
  "too_many_attempts",
]);
/** Join error codes that mean: the same name, with a (right) password; `busy`: the same again, in a moment. */
export const PASSWORD_CODES: ReadonlySet<string> = new Set(["password_required", "bad_password", "busy"]);

export interface ClientOptions {
  /** @default DEFAULT_HOST */
  host?: string;
  /** @default DEFAULT_PORT */
  port?: number;
  /** Other servers of the same chat (`--host a:9999,b:10000`): when the connection is lost, the next one is tried, in turn. */
  alternates?: ServerAddress[];
  /** Password of the (registered) name to join. */
  password?: string | undefined;
  /** Reconnect and rejoin after losing a joined session. @default true */
  reconnect?: boolean;
  /** @default RECONNECT_DELAY_MS */
  reconnectDelayMs?: number;
  /** @default MAX_RECONNECT_DELAY_MS */
  maxReconnectDelayMs?: number;
  /** Connect over TLS: `ca` trusts that certificate too; `insecure` accepts one that cannot be verified. */
  tls?: { ca?: Buffer | undefined; insecure?: boolean | undefined } | undefined;
}

/** Where a server listens. */
export interface ServerAddress {
  host: string;
  port: number;
}

/**
 * How long a client that moved to another server of the chat keeps asking
 * for its name back: its old server's users are gone from the others within
 * 15 s of its death (PROTOCOL.md), until then the name is still taken.
 */
export const FAILOVER_NAME_WAIT_MS = 20_000;

type Phase = "idle" | "connecting" | "joining" | "joined" | "unjoined" | "reconnecting" | "quitting" | "closed";


/** A page of stored chats: the replay after welcome, or the answer to `/history`. */
export interface HistoryBatch {
  room: string | undefined;
  with: string | undefined;
  messages: Message[];
  /** Older ones exist. */
  more: boolean;
  /** Set when this client asked for it (`/history`); undefined for the replay after welcome. */
  ref: string | undefined;
}

export interface ClientEvents {
  /** A frame from the server once joined: chat, join, leave, list, error, pong. */
  message: [Message];
  /** Its own chat, taken by the server: the echo, with the server's id and date. */
  delivered: [ref: string, echo: Message];
  /** Its own chat, refused (`error` is the server's answer) or lost with the connection (`error` undefined). */
  refused: [ref: string, sent: Message, error: Message | undefined];
  /** Replayed or requested history, whole (ended by the server's `history` marker). */
  history: [HistoryBatch];
  /** The connection dropped. */
  lost: [];
  /** A reconnection attempt will be made after `delayMs`. */
  reconnecting: [delayMs: number, attempt: number];
  /** An attempt failed; another follows. */
  reconnectFailed: [error: Error];
  /** On another server of the chat the name is still held by the lost connection (until its server is found dead): asked again. */
  nameHeld: [name: string, address: string];
  /** Joined again after a loss; carries the server's welcome. */
  rejoined: [Message];
  /** Rejoining was refused for the name (taken meanwhile, password, banned): reconnecting stops, the connection stays open for another join. */
  rejoinRefused: [JoinError];
  /**
   * The server ended this session on purpose and coming back would be wrong
   * (a kick or ban from the lobby, the account logged in elsewhere): no
   * reconnection. Carries the frame that said so; `closed` follows.
   */
  putOut: [Message];
  /** The connection's state changed. */
  state: [ConnectionState];
  /** The client is closed for good. */
  closed: [];
  /** What it knows of rooms and friends changed (`chat`), or the current room did. */
  rooms: [ChatState];
}

/** Refused by the server while joining: `code` is name_invalid, name_taken, ... */
export class JoinError extends Error {
  override readonly name = "JoinError";
  constructor(
    readonly code: string,
    message: string,
    /** The name that was asked for. */
    readonly asked = "",
    /** What a `banned` is about (`name`, `address`): the error's `reason`. */
    readonly ban?: string,
  ) {
    super(message);
  }

  /** The name (or its password) was refused: another may be tried. Anything else ends the attempt. */
  get refusesName(): boolean {
    return NAME_REFUSAL_CODES.has(this.code);
  }

  /** The name is registered: the same name with its password may be tried. */
  get needsPassword(): boolean {
    return PASSWORD_CODES.has(this.code);
  }
}

/** Why a name was refused, in the user's language. */
export function refusalText(error: JoinError, t: Texts): string {
  return errorText(error.code, { detail: sanitize(error.message), name: error.asked, ban: error.ban }, t);
}

/** What to show when a join failed for another reason than the name. */
export function joinFailureText(error: unknown, address: string, t: Texts): string {
  if (error instanceof JoinError) return refusalText(error, t);
  const why = t.socketErrors[(error as NodeJS.ErrnoException).code ?? ""];
  return why ? t.connectionClosed(address, why) : t.connectionLost(address);
}

interface PendingRequest {
  resolve(answer: Message): void;
}

export class ChatClient extends EventEmitter<ClientEvents> {
  /** The servers this client may connect to (one, or several of one chat), and the one it uses now. */
  private readonly servers: ServerAddress[];
  private serverIndex = 0;
  /** The name the server granted, kept for rejoining. */
  name: string | undefined;
  /** The password of that name, kept for rejoining. */
  password: string | undefined;
  /** Subject of the next messages; empty for none. */
  subject = "";
  /** Who is online, sorted as the server sorts them: kept current from welcome, list, join and leave. */
  users: string[] = [];
  /** Joined as a registered account (the welcome said so), not as a guest. */
  account = false;
  /** The features the server accepted (its welcome's `features`); empty for a version 1 server. */
  serverFeatures: ReadonlySet<string> = new Set();
  /** The oldest id of a chat seen so far in each room (by room key): where `/history` goes on from there. */
  readonly oldestIds = new Map<string, string>();

  /** The oldest lobby chat seen so far. */
  get oldestId(): string | undefined {
    return this.oldestIds.get(roomKey(LOBBY));
  }
  /** Own chats sent and not yet echoed or refused, by ref. */
  readonly pending = new Map<string, Message>();
  /** Rooms this client is in (members, operators, topic) and friends: `reduceChat` over every frame. */
  chat: ChatState = EMPTY_CHAT_STATE;
  /** The current room: chats without a recipient and moderation go there. The lobby until another is chosen. */
  room: string = LOBBY;
  private readonly options: Required<Omit<ClientOptions, "host" | "port" | "password" | "tls" | "alternates">>;
  private readonly tlsOptions: ClientOptions["tls"];
  private phase: Phase = "idle";
  private reported: ConnectionState | undefined;
  private socket: net.Socket | undefined;
  private pendingJoin: { name: string; resolve(welcome: Message): void; reject(error: Error): void } | undefined;
  private readonly requests = new Map<string, PendingRequest>();
  private readonly replay = new Map<string, Message[]>();
  private nextRef = 0;
  private readonly seenIds = new Set<string>();
  private wakeUp: (() => void) | undefined;
  private reconnectAtOnce = false;
  /**
   * Why the server is ending this session on purpose (the lobby's kick or ban
   * of this client, or `logged_in_elsewhere`): coming back by itself would
   * undo a moderator's decision or take the account back, so it stays away.
   */
  private putOutBy: Message | undefined;
  private settledWaiters: Array<() => void> = [];
  private pongWaiters: Array<() => void> = [];
  /** The server speaks version 2 (its welcome lists features). */
  private version2 = false;
  /** Something came on the current socket: a server that closes it before a word may be one that speaks TLS. */
  private heard = false;
  /** The room last asked to enter, already the current room; `previous` is current again if it is refused. */
  private entering: { room: string; ref: string; previous: string } | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    this.servers = [{ host: options.host ?? DEFAULT_HOST, port: options.port ?? DEFAULT_PORT }, ...(options.alternates ?? [])];
    this.password = options.password;
    this.tlsOptions = options.tls;
    this.options = {
      reconnect: options.reconnect ?? true,
      reconnectDelayMs: options.reconnectDelayMs ?? RECONNECT_DELAY_MS,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? MAX_RECONNECT_DELAY_MS,
    };
  }

  get host(): string {
    return this.servers[this.serverIndex]!.host;
  }

  get port(): number {
    return this.servers[this.serverIndex]!.port;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Several servers of one chat were given: a lost connection moves to the next. */
  get failsOver(): boolean {
    return this.servers.length > 1;
  }

  /** The connection is open (joined or not). */
  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && !this.socket.connecting;
  }

  get joined(): boolean {
    return this.phase === "joined";
  }

  /** The server echoes accepted chats: a line is shown as sent only then. */
  get echoes(): boolean {
    return this.serverFeatures.has("echo");
  }

  /** The server keeps history: `/history` can ask for it. */
  get keepsHistory(): boolean {
    return this.serverFeatures.has("history");
  }

  /** The state `--supervised` reports. */
  get state(): ConnectionState {
    return this.reported ?? "connecting";
  }

  /** Opens the TCP connection; rejects with the socket error (ECONNREFUSED, ...). */
  async connect(): Promise<void> {
    this.setPhase("connecting");
    // Several servers of one chat: the first that answers.
    for (let tried = 1; ; tried++) {
      try {
        return await this.openSocket();
      } catch (error) {
        if (tried >= this.servers.length) throw error;
        this.serverIndex = (this.serverIndex + 1) % this.servers.length;
      }
    }
  }

  /** Asks for a name; resolves with the welcome, rejects with a JoinError saying why not. */
  async join(name: string, password = this.password): Promise<Message> {
    this.setPhase("joining");
    try {
      // Put out by the server (kicked, taken over): joining again is a new session on a new connection.
      if (!this.socket || this.socket.destroyed) await this.openSocket();
      const welcome = await this.requestJoin(name, password);
      this.password = password;
      this.setPhase("joined");
      return welcome;
    } catch (error) {
      if (this.phase === "joining") this.setPhase("unjoined");
      throw error;
    }
  }

  /**
   * Sends a chat message; returns its ref and the message as the others will
   * see it, or undefined when not joined. With a server that echoes, the
   * message stays in `pending` until its echo (`delivered`) or an error
   * (`refused`) comes. Throws ProtocolError `frame_too_large` when too long.
   */
  sendChat(text: string, to?: string, room = this.room): { ref: string; message: Message } | undefined {
    if (!this.joined) return undefined;
    const ref = this.newRef("c");
    // The lobby is spelled out only on the message kept here: a chat without `room` goes there (version 1).
    const inRoom = to === undefined && !sameRoom(room, LOBBY) ? room : undefined;
    const message = new Message({ type: "chat", client_name: this.name, subject: this.subject, message: text, to, ref, room: to === undefined ? (inRoom ?? LOBBY) : undefined });
    this.write({ type: "chat", subject: this.subject, message: text, ref, ...(to !== undefined && { to }), ...(inRoom !== undefined && { room: inRoom }) });
    if (this.echoes) this.pending.set(ref, message);
    return { ref, message };
  }

  /**
   * Resolves once every chat sent has been echoed or refused. A server that
   * does not echo (version 1) is asked for a pong instead: it answers in
   * order, so every error about an earlier line has come by then.
   */
  settled(): Promise<void> {
    if (!this.echoes && this.joined) {
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, SETTLE_TIMEOUT_MS); // a server that does not even answer pings
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        this.pongWaiters.push(done);
        this.settledWaiters.push(done); // or the connection closes
        this.write({ type: "ping" });
      });
    }
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  list(): boolean {
    if (this.joined) this.write({ type: "list" });
    return this.joined;
  }

  /** Asks for a room's chats (the current room's by default) older than the oldest shown; undefined when not joined or the server keeps none. */
  requestHistory(limit = HISTORY_PAGE, room = this.room): string | undefined {
    if (!this.joined || !this.keepsHistory) return undefined;
    const ref = this.newRef("h");
    const before = this.oldestIds.get(roomKey(room));
    this.write({ type: "history", room, limit, ref, ...(before !== undefined && { before }) });
    return ref;
  }

  /** Sends a request of version 2 (rooms, moderation, friends) with a ref; false when not joined. */
  request(fields: MessageFields): boolean {
    if (!this.joined) return false;
    this.write({ ...fields, ref: this.newRef("q") });
    return true;
  }

  /** Enters a room (creating it; `isPrivate` makes a new one a group). It becomes the current room once entered. */
  enter(room: string, isPrivate = false): boolean {
    if (!this.joined) return false;
    // The current room at once, so that lines typed next (a pipe, a paste) go there; back if the server refuses.
    const ref = this.newRef("e");
    this.entering = { room, ref, previous: this.room };
    this.room = room;
    this.write({ type: "enter", room, ref, ...(isPrivate && { private: true }) });
    this.emit("rooms", this.chat);
    return true;
  }

  /** Makes `room` the current room; false when this client is not in it. */
  switchRoom(room: string): boolean {
    const found = findRoom(this.chat, room);
    if (found && found.name !== this.room) {
      this.room = found.name;
      this.emit("rooms", this.chat);
    }
    return found !== undefined;
  }

  /** Registers the joined name with a password: resolves with `registered` or the `error`. */
  register(password: string): Promise<Message> {
    if (!this.joined) return Promise.resolve(new Message({ type: "error", code: "not_joined", message: "Not joined" }));
    if (!this.version2) return Promise.resolve(new Message({ type: "error", code: "unknown_type", message: "This server has no accounts" }));
    const ref = this.newRef("r");
    return new Promise((resolve) => {
      this.requests.set(ref, {
        resolve: (answer) => {
          if (answer.type === "registered") {
            this.password = password;
            this.account = true; // registering logs the session in to the new account
          }
          resolve(answer);
        },
      });
      this.write({ type: "register", password, ref });
    });
  }

  ping(): void {
    this.write({ type: "ping" });
  }

  /** Says goodbye and waits for the server to close the connection (or QUIT_TIMEOUT_MS). */
  async quit(): Promise<void> {
    const socket = this.socket;
    const wasJoined = this.joined;
    this.phase = "quitting";
    this.wakeUp?.();
    if (socket && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      if (wasJoined) this.write({ type: "quit" });
      socket.end();
      const timer = setTimeout(() => socket.destroy(), QUIT_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
    }
    this.finish();
  }

  /** Drops the connection at once, without a goodbye. */
  close(): void {
    this.phase = "quitting";
    this.wakeUp?.();
    this.socket?.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.phase === "closed") return;
    this.setPhase("closed");
    this.failPending();
    this.emit("closed");
  }

  private setPhase(phase: Phase): void {
    this.phase = phase;
    const state: ConnectionState | undefined =
      phase === "connecting" || phase === "joining"
        ? "connecting"
        : phase === "joined"
          ? "joined"
          : phase === "reconnecting"
            ? "reconnecting"
            : phase === "unjoined"
              ? "disconnected"
              : phase === "closed"
                ? "closed"
                : undefined;
    if (state) this.report(state);
  }

  private report(state: ConnectionState): void {
    if (state === this.reported) return;
    this.reported = state;
    this.emit("state", state);
  }

  private newRef(prefix: string): string {
    return `${prefix}${++this.nextRef}`;
  }

  /** Throws ProtocolError `frame_too_large` when the message cannot be sent. */
  private write(fields: MessageFields): void {
    this.socket?.write(encode(fields));
  }

  private openSocket(): Promise<void> {
    return new Promise((resolve, reject) => {
      const secure = this.tlsOptions;
      const socket = secure
        ? tls.connect({
            host: this.host,
            port: this.port,
            servername: net.isIP(this.host) ? undefined : this.host,
            ca: secure.ca,
            rejectUnauthorized: !secure.insecure,
          })
        : net.connect({ host: this.host, port: this.port });
      const decoder = new Decoder();
      this.socket = socket;
      this.heard = false;
      socket.setNoDelay(true);
      socket.once(secure ? "secureConnect" : "connect", () => {
        socket.off("error", reject);
        socket.on("error", () => {}); // 'close' follows
        resolve();
      });
      socket.once("error", reject);
      socket.on("data", (chunk: Buffer) => {
        this.heard = true;
        for (const item of decoder.push(chunk)) {
          if (item instanceof ProtocolError && item.fatal) {
            // The stream can no longer be read: drop it and reconnect at once.
            this.reconnectAtOnce = true;
            socket.destroy();
            return;
          }
          this.onFrame(item);
        }
      });
      socket.on("close", () => {
        if (socket === this.socket) this.onSocketClose();
      });
    });
  }

  private requestJoin(name: string, password: string | undefined): Promise<Message> {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.destroyed) {
        reject(new Error("Not connected"));
        return;
      }
      this.pendingJoin = { name, resolve, reject };
      this.write({ type: "join", client_name: name, features: [...FEATURES], ...(password !== undefined && { password }) });
    });
  }

  private onFrame(item: Message | ProtocolError): void {
    // A frame we cannot decode is shown as an error, as the server would send one.
    const msg =
      item instanceof ProtocolError ? new Message({ type: "error", code: item.code, message: item.message }) : item;
    if (msg.type === "ping") {
      this.write({ type: "pong" }); // the server checks that we are alive
      return;
    }
    const pendingJoin = this.pendingJoin;
    if (pendingJoin && (msg.type === "welcome" || msg.type === "error")) {
      this.pendingJoin = undefined;
      if (msg.type === "welcome") {
        this.name = msg.client_name;
        this.account = msg.account === true;
        this.serverFeatures = new Set(msg.features ?? []);
        this.version2 = msg.features !== undefined;
        this.trackUsers(msg);
        this.applyChat(msg);
        this.afterWelcome(msg);
        pendingJoin.resolve(msg);
      } else {
        pendingJoin.reject(new JoinError(msg.code ?? "", msg.message, pendingJoin.name, msg.reason));
      }
      return;
    }
    if (msg.type === "pong" && this.pongWaiters.length > 0) {
      const waiters = this.pongWaiters;
      this.pongWaiters = [];
      waiters.forEach((wake) => wake());
    }
    if (this.endsSession(msg)) this.putOutBy = msg;
    this.trackUsers(msg);
    this.applyChat(msg);
    if (msg.type === "chat" && msg.id !== undefined && msg.history !== true) this.remember(msg.id);
    if (msg.type === "chat" && msg.id !== undefined && msg.to === undefined) {
      const key = roomKey(msg.room ?? LOBBY);
      const oldest = this.oldestIds.get(key);
      if (oldest === undefined || msg.id < oldest) this.oldestIds.set(key, msg.id);
    }
    const ref = msg.ref;
    if (ref !== undefined) {
      const sent = this.pending.get(ref);
      if (sent && (msg.type === "chat" || msg.type === "error")) {
        this.pending.delete(ref);
        if (msg.type === "chat") this.emit("delivered", ref, msg);
        else this.emit("refused", ref, sent, msg);
        this.checkSettled();
        return;
      }
      const request = this.requests.get(ref);
      if (request && msg.type !== "chat") {
        this.requests.delete(ref);
        request.resolve(msg);
        return;
      }
    }
    if (msg.type === "chat" && msg.history === true) {
      const key = msg.to !== undefined ? "" : (msg.room ?? LOBBY);
      const batch = this.replay.get(key) ?? [];
      batch.push(msg);
      this.replay.set(key, batch);
      return;
    }
    if (msg.type === "history") {
      const key = msg.room ?? "";
      let messages = this.replay.get(key) ?? [];
      this.replay.delete(key);
      // A replay after rejoining repeats what was shown before the connection dropped: only the new ones.
      if (msg.ref === undefined) messages = messages.filter((m) => m.id === undefined || !this.seenIds.has(m.id));
      messages.forEach((m) => m.id !== undefined && this.remember(m.id));
      this.emit("history", { room: msg.room, with: msg.with, messages, more: msg.more === true, ref: msg.ref });
      return;
    }
    this.emit("message", msg);
  }

  /** A frame after which the server closes this session for good: taken over, or kicked or banned from the lobby. */
  private endsSession(msg: Message): boolean {
    if (msg.type === "error") return msg.code === "logged_in_elsewhere";
    if (msg.type !== "kick" && msg.type !== "ban") return false;
    return sameRoom(msg.room ?? LOBBY, LOBBY) && this.name !== undefined && nameKey(msg.target ?? "") === nameKey(this.name);
  }

  /** Keeps `chat` current; the current room falls back to the lobby when this client is out of it. */
  private applyChat(msg: Message): void {
    const before = { chat: this.chat, room: this.room };
    this.chat = reduceChat(this.chat, msg);
    const entering = this.entering;
    if (entering && msg.ref === entering.ref) {
      this.entering = undefined;
      if (msg.type === "entered" && sameRoom(this.room, entering.room)) this.room = msg.room ?? entering.room;
      else if (msg.type === "error" && sameRoom(this.room, entering.room)) this.room = entering.previous;
    }
    const waiting = this.entering !== undefined && sameRoom(this.room, this.entering.room);
    if (!waiting && !findRoom(this.chat, this.room)) this.room = LOBBY;
    if (this.chat !== before.chat || this.room !== before.room) this.emit("rooms", this.chat);
  }

  /** After a welcome: the members of the rooms an account is back in, and its friends. */
  private afterWelcome(welcome: Message): void {
    for (const room of this.chat.rooms) if (!sameRoom(room.name, LOBBY)) this.quietly({ type: "list", room: room.name });
    if (welcome.account === true) this.quietly({ type: "friends" });
  }

  /** A request whose answer only updates `chat`: it is not shown. */
  private quietly(fields: MessageFields): void {
    const ref = this.newRef("s");
    this.requests.set(ref, { resolve: () => {} });
    this.write({ ...fields, ref });
  }

  private trackUsers(msg: Message): void {
    if (msg.room !== undefined && msg.room !== LOBBY && msg.type !== "welcome") return; // another room's members
    if ((msg.type === "welcome" || msg.type === "list") && msg.users) {
      this.users = msg.users;
    } else if (msg.type === "join") {
      const key = nameKey(msg.client_name);
      if (this.users.some((user) => nameKey(user) === key)) return;
      this.users = sortNames([...this.users, msg.client_name]); // the server's order

    } else if (msg.type === "leave") {
      this.users = this.users.filter((user) => nameKey(user) !== nameKey(msg.client_name));
    }
  }

  private remember(id: string): void {
    this.seenIds.add(id);
    if (this.seenIds.size > MAX_SEEN_IDS) this.seenIds.delete(this.seenIds.values().next().value!);
  }

  /** Every pending chat is lost with the connection: none of them was taken. */
  private failPending(): void {
    const lost = [...this.pending];
    this.pending.clear();
    for (const [ref, sent] of lost) this.emit("refused", ref, sent, undefined);
    for (const [, request] of this.requests) request.resolve(new Message({ type: "error", code: "lost", message: "The connection was lost" }));
    this.requests.clear();
    this.replay.clear();
    if (this.entering && sameRoom(this.room, this.entering.room)) this.room = this.entering.previous;
    this.entering = undefined;
    this.checkSettled();
  }

  private checkSettled(): void {
    if (this.pending.size > 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    waiters.forEach((wake) => wake());
  }

  private onSocketClose(): void {
    const joining = this.pendingJoin;
    this.pendingJoin = undefined;
    joining?.reject(this.closedError());
    this.failPending();
    const phase = this.phase;
    if (phase === "quitting" || phase === "closed" || phase === "reconnecting") return;
    this.report("disconnected");
    if (joining && phase === "joining") return this.finish(); // the join's refusal says what happened, once
    const putOut = this.putOutBy;
    this.putOutBy = undefined;
    if (putOut) {
      this.emit("putOut", putOut);
      return this.finish();
    }
    this.emit("lost");
    if (phase === "joined" && this.options.reconnect) void this.reconnect();
    else this.finish();
  }

  private async reconnect(): Promise<void> {
    this.setPhase("reconnecting");
    // Where this client was: a guest's rooms are not kept by a restarted server, so they are entered again.
    const before = { rooms: this.chat.rooms, current: this.room };
    let delay = this.options.reconnectDelayMs;
    if (this.reconnectAtOnce) {
      this.reconnectAtOnce = false;
      delay = 0;
    }
    const failoverUntil = Date.now() + FAILOVER_NAME_WAIT_MS;
    let moveOn = true;
    let toldNameHeld = false;
    for (let attempt = 1; ; attempt++) {
      // Several servers of one chat: the next one in turn (the one just lost is likely still down).
      if (moveOn) this.serverIndex = (this.serverIndex + 1) % this.servers.length;
      moveOn = true;
      this.emit("reconnecting", delay, attempt);
      await this.sleep(delay);
      if (this.phase !== "reconnecting") return;
      try {
        await this.openSocket();
        const welcome = await this.requestJoin(this.name ?? "", this.password);
        if (this.phase !== "reconnecting") return;
        this.setPhase("joined");
        this.emit("rejoined", welcome);
        this.enterAgain(before.rooms, before.current);
        return;
      } catch (error) {
        if (this.phase !== "reconnecting") return;
        // On another server the name is held by the lost session until its server is found dead: asked again meanwhile.
        const heldByLostSession = error instanceof JoinError && error.code === "name_taken" && this.servers.length > 1 && Date.now() < failoverUntil;
        if (error instanceof JoinError && (error.refusesName || error.code === "banned") && !heldByLostSession) {
          // Trying the same name again would be refused forever (a ban lasts until lifted): the connection stays open for another name.
          this.setPhase("unjoined");
          this.emit("rejoinRefused", error);
          return;
        }
        this.socket?.destroy();
        if (heldByLostSession) {
          // Said once: the name stays taken for a few seconds, and the attempts that follow say they go on.
          if (!toldNameHeld) this.emit("nameHeld", this.name ?? "", this.address);
          toldNameHeld = true;
          moveOn = false; // this server answers: stay, and ask again soon
          delay = this.options.reconnectDelayMs;
          continue;
        }
        this.emit("reconnectFailed", error as Error);
      }
      delay = Math.min(Math.max(delay * 2, this.options.reconnectDelayMs), this.options.maxReconnectDelayMs);
    }
  }

  /**
   * After rejoining: enters again the rooms this client was in that the
   * welcome did not bring back (a guest's, after the server restarted), the
   * current one first and current again at once, so that lines typed next
   * still go where the prompt says.
   */
  private enterAgain(rooms: readonly RoomView[], current: string): void {
    const missing = rooms.filter((room) => !sameRoom(room.name, LOBBY) && !findRoom(this.chat, room.name));
    for (const room of missing) {
      if (sameRoom(room.name, current)) this.enter(room.name, room.private);
      else this.quietly({ type: "enter", room: room.name, ...(room.private && { private: true }) });
    }
    if (!missing.some((room) => sameRoom(room.name, current))) this.switchRoom(current);
  }

  /** Why a join got no answer: closed without a word to a plain client (CLOSED_SILENTLY: a TLS port?), or just closed. */
  private closedError(): Error {
    const error: NodeJS.ErrnoException = new Error("The connection closed");
    if (!this.heard && !this.tlsOptions) error.code = "CLOSED_SILENTLY";
    return error;
  }

  /** Waits `ms`, or less if quit() or close() wakes it up. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
