/**
 * The chat client.
 *
 *     npx tsx client.ts [--host H] [--port P] [--name N] [--lang en|pt]
 *
 * `ChatClient` owns the connection (join, send, reconnect with backoff);
 * `runCommand` turns a parsed input line into actions and display lines;
 * `runLineMode` is the line interface for terminals and pipes. A display
 * only renders what these give it.
 */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import readline from "node:readline";
import { Writable } from "node:stream";
import stringWidth from "string-width";
import { EMPTY_CHAT_STATE, findRoom, reduceChat, type ChatState } from "./client/chat-state.js";
import { parseCommand, sameRoom, type Command } from "./common/commands.js";
import {
  chatLine,
  describe,
  detectLang,
  errorText,
  inputProblemText,
  isUtf8Locale,
  LANGS,
  rejoinedText,
  sanitize,
  TEXTS,
  toAscii,
  type DisplayLine,
  type LineKind,
  type Texts,
} from "./common/format.js";
import { isMain, parseOptions, parsePort, runMain, UsageError } from "./common/cli.js";
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
  sortNames,
  type MessageFields,
  type ModerationType,
} from "./protocol.js";

/** First wait before reconnecting; it doubles on each failed attempt. */
export const RECONNECT_DELAY_MS = 1000;
export const MAX_RECONNECT_DELAY_MS = 10_000;
/** How long a quitting client waits for the server to close the connection. */
export const QUIT_TIMEOUT_MS = 2000;
/** How long pipe mode waits for a version 1 server's pong before leaving. */
export const SETTLE_TIMEOUT_MS = 10_000;
/** How many ids of chats already shown are remembered, so that a replay after rejoining shows only what is new. */
export const MAX_SEEN_IDS = 10_000;
/** How many older messages `/history` asks for. */
export const HISTORY_PAGE = 50;
/** Exit code of pipe mode when a line it read was not delivered. */
export const EXIT_UNDELIVERED = 2;
/** Exit code when the client stops on a failure: no server, a name refused on rejoining, ... */
export const EXIT_FAILURE = 1;
/** Environment variable holding the password of the name to join (like --password). */
export const PASSWORD_ENV = "CHAT_PASSWORD";
/** Prefix of the machine-readable state lines of `--supervised`. */
export const STATUS_PREFIX = "#status ";

/** Join error codes that refuse the name (or its password): another may be tried. */
export const NAME_REFUSAL_CODES: ReadonlySet<string> = new Set([
  "name_invalid",
  "name_taken",
  "password_required",
  "bad_password",
  "too_many_attempts",
]);
/** Join error codes that mean: the same name, with a (right) password. */
export const PASSWORD_CODES: ReadonlySet<string> = new Set(["password_required", "bad_password"]);

export interface ClientOptions {
  /** @default DEFAULT_HOST */
  host?: string;
  /** @default DEFAULT_PORT */
  port?: number;
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

type Phase = "idle" | "connecting" | "joining" | "joined" | "unjoined" | "reconnecting" | "quitting" | "closed";

/** The connection's state as `--supervised` reports it. */
export type ConnectionState = "connecting" | "joined" | "reconnecting" | "disconnected" | "closed";

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
  /** Joined again after a loss; carries the server's welcome. */
  rejoined: [Message];
  /** Rejoining was refused for the name (taken meanwhile, password): reconnecting stops, the connection stays open for another join. */
  rejoinRefused: [JoinError];
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
  return errorText(error.code, { detail: sanitize(error.message), name: error.asked }, t);
}

/** What to show when a join failed for another reason than the name. */
export function joinFailureText(error: unknown, address: string, t: Texts): string {
  return error instanceof JoinError ? errorText(error.code, { detail: sanitize(error.message), name: error.asked }, t) : t.connectionLost(address);
}

interface PendingRequest {
  resolve(answer: Message): void;
}

export class ChatClient extends EventEmitter<ClientEvents> {
  readonly host: string;
  readonly port: number;
  /** The name the server granted, kept for rejoining. */
  name: string | undefined;
  /** The password of that name, kept for rejoining. */
  password: string | undefined;
  /** Subject of the next messages; empty for none. */
  subject = "";
  /** Who is online, sorted as the server sorts them: kept current from welcome, list, join and leave. */
  users: string[] = [];
  /** The features the server accepted (its welcome's `features`); empty for a version 1 server. */
  serverFeatures: ReadonlySet<string> = new Set();
  /** The oldest id of a lobby chat seen so far: where `/history` goes on from. */
  oldestId: string | undefined;
  /** Own chats sent and not yet echoed or refused, by ref. */
  readonly pending = new Map<string, Message>();
  /** Rooms this client is in (members, operators, topic) and friends: `reduceChat` over every frame. */
  chat: ChatState = EMPTY_CHAT_STATE;
  /** The current room: chats without a recipient and moderation go there. The lobby until another is chosen. */
  room: string = LOBBY;
  private readonly options: Required<Omit<ClientOptions, "host" | "port" | "password" | "tls">>;
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
  /** Another connection logged in to this account: coming back would take it over again, so this one stays away. */
  private takenOver = false;
  private settledWaiters: Array<() => void> = [];
  private pongWaiters: Array<() => void> = [];
  /** The server speaks version 2 (its welcome lists features). */
  private version2 = false;
  /** The room last asked to enter, already the current room; `previous` is current again if it is refused. */
  private entering: { room: string; ref: string; previous: string } | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    this.host = options.host ?? DEFAULT_HOST;
    this.port = options.port ?? DEFAULT_PORT;
    this.password = options.password;
    this.tlsOptions = options.tls;
    this.options = {
      reconnect: options.reconnect ?? true,
      reconnectDelayMs: options.reconnectDelayMs ?? RECONNECT_DELAY_MS,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? MAX_RECONNECT_DELAY_MS,
    };
  }

  get address(): string {
    return `${this.host}:${this.port}`;
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
    await this.openSocket();
  }

  /** Asks for a name; resolves with the welcome, rejects with a JoinError saying why not. */
  async join(name: string, password = this.password): Promise<Message> {
    this.setPhase("joining");
    try {
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

  /** Asks for the lobby's chats older than the oldest shown; false when not joined or the server keeps none. */
  requestHistory(limit = HISTORY_PAGE): string | undefined {
    if (!this.joined || !this.keepsHistory) return undefined;
    const ref = this.newRef("h");
    this.write({ type: "history", room: LOBBY, limit, ref, ...(this.oldestId !== undefined && { before: this.oldestId }) });
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

  part(room = this.room): boolean {
    return this.request({ type: "part", room });
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

  moderate(action: ModerationType, target: string, reason = "", room = this.room): boolean {
    return this.request({ type: action, room, target, ...(reason !== "" && { reason }) });
  }

  /** Registers the joined name with a password: resolves with `registered` or the `error`. */
  register(password: string): Promise<Message> {
    if (!this.joined) return Promise.resolve(new Message({ type: "error", code: "not_joined", message: "Not joined" }));
    if (!this.version2) return Promise.resolve(new Message({ type: "error", code: "unknown_type", message: "This server has no accounts" }));
    const ref = this.newRef("r");
    return new Promise((resolve) => {
      this.requests.set(ref, {
        resolve: (answer) => {
          if (answer.type === "registered") this.password = password;
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
      socket.setNoDelay(true);
      socket.once(secure ? "secureConnect" : "connect", () => {
        socket.off("error", reject);
        socket.on("error", () => {}); // 'close' follows
        resolve();
      });
      socket.once("error", reject);
      socket.on("data", (chunk: Buffer) => {
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
        this.serverFeatures = new Set(msg.features ?? []);
        this.version2 = msg.features !== undefined;
        this.trackUsers(msg);
        this.applyChat(msg);
        this.afterWelcome(msg);
        pendingJoin.resolve(msg);
      } else {
        pendingJoin.reject(new JoinError(msg.code ?? "", msg.message, pendingJoin.name));
      }
      return;
    }
    if (msg.type === "pong" && this.pongWaiters.length > 0) {
      const waiters = this.pongWaiters;
      this.pongWaiters = [];
      waiters.forEach((wake) => wake());
    }
    if (msg.type === "error" && msg.code === "logged_in_elsewhere") this.takenOver = true;
    this.trackUsers(msg);
    this.applyChat(msg);
    if (msg.type === "chat" && msg.id !== undefined && msg.history !== true) this.remember(msg.id);
    if (msg.type === "chat" && msg.id !== undefined && msg.to === undefined && (msg.room ?? LOBBY) === LOBBY) {
      if (this.oldestId === undefined || msg.id < this.oldestId) this.oldestId = msg.id;
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
    this.pendingJoin?.reject(new Error("The connection closed"));
    this.pendingJoin = undefined;
    this.failPending();
    const phase = this.phase;
    if (phase === "quitting" || phase === "closed" || phase === "reconnecting") return;
    this.report("disconnected");
    this.emit("lost");
    if (phase === "joined" && this.options.reconnect && !this.takenOver) void this.reconnect();
    else this.finish();
  }

  private async reconnect(): Promise<void> {
    this.setPhase("reconnecting");
    let delay = this.options.reconnectDelayMs;
    if (this.reconnectAtOnce) {
      this.reconnectAtOnce = false;
      delay = 0;
    }
    for (let attempt = 1; ; attempt++) {
      this.emit("reconnecting", delay, attempt);
      await this.sleep(delay);
      if (this.phase !== "reconnecting") return;
      try {
        await this.openSocket();
        const welcome = await this.requestJoin(this.name ?? "", this.password);
        if (this.phase !== "reconnecting") return;
        this.setPhase("joined");
        this.emit("rejoined", welcome);
        return;
      } catch (error) {
        if (this.phase !== "reconnecting") return;
        if (error instanceof JoinError && error.refusesName) {
          // Trying the same name again would be refused forever: the connection stays open for another name.
          this.setPhase("unjoined");
          this.emit("rejoinRefused", error);
          return;
        }
        this.socket?.destroy();
        this.emit("reconnectFailed", error as Error);
      }
      delay = Math.min(Math.max(delay * 2, this.options.reconnectDelayMs), this.options.maxReconnectDelayMs);
    }
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

// ---------------------------------------------------------------------------
// Commands: shared by every interface
// ---------------------------------------------------------------------------

export interface CommandResult {
  lines: DisplayLine[];
  quit?: boolean;
  /** The interface must now ask for a new password twice, hidden, then call `client.register()`. */
  askPassword?: boolean;
}

/** The name as the server knows it, when that person is online; otherwise as typed. */
export function knownName(client: ChatClient, name: string): string {
  const key = nameKey(name);
  return client.users.find((user) => nameKey(user) === key) ?? name;
}

/** Carries out one parsed input line; what to show comes back as lines. */
export function runCommand(client: ChatClient, command: Command, t: Texts): CommandResult {
  const error = (text: string): CommandResult => ({ lines: [{ kind: "error", text }] });
  const info = (text: string): CommandResult => ({ lines: [{ kind: "info", text }] });
  /** A request went out: its answer comes from the server. */
  const sent = (ok: boolean): CommandResult => (ok ? { lines: [] } : error(t.notConnected));
  switch (command.kind) {
    case "say":
    case "private": {
      let sent: { ref: string; message: Message } | undefined;
      try {
        sent = client.sendChat(command.text, command.kind === "private" ? command.to : undefined);
      } catch (e) {
        if (e instanceof ProtocolError) return error(t.tooLong);
        throw e;
      }
      if (!sent) return error(t.notConnected);
      const { ref, message } = sent;
      if (message.to !== undefined) message.to = knownName(client, message.to);
      // With a server that echoes, the line is pending until the echo says it was taken.
      if (client.echoes) return { lines: [{ ...chatLine(message, client.name, t), pending: ref }] };
      return { lines: echoesAtOnce(client, message) ? [chatLine(message, client.name, t)] : [] };
    }
    case "list":
      return client.list() ? { lines: [] } : error(t.notConnected);
    case "enter":
      return sent(client.enter(command.room, command.private));
    case "part":
      if (sameRoom(command.room ?? client.room, LOBBY)) return error(t.cannotPartLobby);
      return sent(client.part(command.room ?? client.room));
    case "switch":
      if (!client.joined) return error(t.notConnected);
      return client.switchRoom(command.room) ? info(t.nowIn(client.room)) : error(t.notInRoom(command.room));
    case "rooms":
      return sent(client.request({ type: "rooms" }));
    case "who": {
      const room = command.room ?? client.room;
      return sent(sameRoom(room, LOBBY) ? client.list() : client.request({ type: "list", room }));
    }
    case "topic":
      return sent(client.request({ type: "topic", room: client.room, topic: command.topic }));
    case "moderate":
      return sent(client.moderate(command.action, command.target, command.reason));
    case "friend":
    case "unfriend":
      return sent(client.request({ type: command.kind, target: command.target }));
    case "friends":
      return sent(client.request({ type: "friends" }));
    case "history":
      if (!client.joined) return error(t.notConnected);
      return client.requestHistory() === undefined ? info(t.noHistory) : { lines: [] };
    case "register":
      return client.joined ? { lines: [], askPassword: true } : error(t.notConnected);
    case "subject":
      client.subject = command.subject;
      return info(command.subject ? t.subjectSet(command.subject) : t.subjectCleared);
    case "help":
      return info(t.help);
    case "quit":
      return { lines: [], quit: true };
    case "invalid":
      return error(inputProblemText(command.problem, command.word, t));
    case "empty":
      return { lines: [] };
  }
}

/**
 * Without echoes (a version 1 server): whether to show a sent message at
 * once. Not a private one to oneself (the server sends it back), nor one to
 * a name not online (the server's "not delivered" says what happened).
 */
function echoesAtOnce(client: ChatClient, sent: Message): boolean {
  if (sent.to === undefined) return true;
  const to = nameKey(sent.to);
  return to !== nameKey(client.name ?? "") && client.users.some((user) => nameKey(user) === to);
}

/** The line that marks one's own chat as refused (or lost), in place of the pending one. */
export function refusedLine(sent: Message, error: Message | undefined, t: Texts): DisplayLine {
  const why = error ? errorText(error.code ?? "", { detail: sanitize(error.message), to: sent.to }, t) : t.lostBeforeTaken;
  // The reason says what happened ("Not delivered: zed is not online."); the mark says which line.
  return { kind: "error", text: t.notDelivered(sanitize(sent.message), why) };
}

/** The lines that show a page of history: under a header, dimmed; empty when there is nothing to show. */
export function historyLines(batch: HistoryBatch, self: string | undefined, t: Texts): DisplayLine[] {
  if (batch.messages.length === 0) return batch.ref !== undefined ? [{ kind: "info", text: t.noEarlier }] : [];
  return [
    { kind: "info", text: t.earlier, dim: true },
    ...batch.messages.map((msg) => chatLine(msg, self, t)),
    ...(batch.more ? [{ kind: "info" as const, text: t.earlierMore, dim: true }] : []),
  ];
}

/** Plain words for a connection error. */
export function socketErrorText(error: unknown, t: Texts): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && t.socketErrors[code]) ?? (error instanceof Error ? error.message : String(error));
}

// ---------------------------------------------------------------------------
// Line mode: a terminal or a pipe
// ---------------------------------------------------------------------------

const COLORS: Record<LineKind, string> = {
  chat: "",
  own: "\x1b[36m",
  private: "\x1b[35m",
  notice: "\x1b[33m",
  error: "\x1b[31m",
  info: "\x1b[2m",
};
const DIM = "\x1b[2m";

export interface LineModeOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { isTTY?: boolean };
  t: Texts;
  /** Join under this name first; ask only if it is refused. */
  name?: string | undefined;
  /** Draw ASCII instead of the client's own symbols (a terminal whose locale is not UTF-8). */
  ascii?: boolean;
}

/**
 * Runs the line interface until the user quits or the input ends; resolves
 * with the exit code. With a terminal it prompts and keeps the prompt below
 * incoming messages; with a pipe it reads lines as if typed. At the end of
 * the input it waits until the server has taken or refused every line sent,
 * and exits EXIT_UNDELIVERED, listing them, if any was not delivered.
 */
export async function runLineMode(client: ChatClient, options: LineModeOptions): Promise<number> {
  const { input, output, t } = options;
  const tty = output.isTTY === true && (input as { isTTY?: boolean }).isTTY === true;
  const ascii = tty && options.ascii === true;
  // In a terminal, readline writes through this: muted while a password is typed.
  let muted = false;
  const echoOutput = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  }) as Writable & { columns?: number; isTTY?: boolean };
  Object.defineProperty(echoOutput, "columns", { get: () => (output as { columns?: number }).columns ?? 80 });
  echoOutput.isTTY = true;
  const rl = readline.createInterface({ input, output: tty ? echoOutput : undefined, terminal: tty });
  const lines = rl[Symbol.asyncIterator]();
  let inputOpen = true;
  rl.on("close", () => (inputOpen = false));
  const undelivered: string[] = [];
  const show = (line: DisplayLine) => {
    let text = ascii ? toAscii(line.text) : line.text;
    const color = line.dim ? DIM : COLORS[line.kind];
    if (tty && color) text = `${color}${text}\x1b[0m`;
    if (tty) {
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
    }
    output.write(`${text}\n`);
    // Prompting resumes the input, so never after it has closed: that would keep the process alive.
    if (tty && inputOpen && !muted) rl.prompt(true);
  };
  const nextLine = async (prompt: string): Promise<string | undefined> => {
    if (tty) {
      rl.setPrompt(prompt);
      rl.prompt();
    }
    const next = await lines.next();
    return next.done ? undefined : next.value;
  };
  /** A password: in a terminal typed without echo; from a pipe, the next line. */
  const nextSecret = async (prompt: string): Promise<string | undefined> => {
    if (!tty) return nextLine(prompt);
    output.write(prompt);
    muted = true;
    try {
      const next = await lines.next();
      return next.done ? undefined : next.value;
    } finally {
      muted = false;
      output.write("\n");
    }
  };
  /** In a terminal, removes the line just typed: a sent message is shown again, formatted. */
  const eraseTyped = (typed: string) => {
    if (!tty) return;
    const columns = (output as { columns?: number }).columns ?? 80;
    const rows = Math.max(1, Math.ceil(stringWidth(rl.getPrompt() + typed) / columns)); // columns, not characters: 漢字 take two
    for (let i = 0; i < rows; i++) output.write("\x1b[1A\x1b[2K");
  };

  let stop: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (stop = resolve));
  client.on("message", (msg) => {
    const line = describe(msg, client.name, t, client.room);
    if (line) show(line);
    // A version 1 server echoes nothing and puts no ref on errors: count what it says was not delivered.
    if (msg.type === "error" && !client.echoes && (msg.code === "unknown_recipient" || msg.code === "rate_limited")) {
      undelivered.push(line?.text ?? msg.message);
    }
  });
  client.on("delivered", (_ref, echo) => show(chatLine(echo, client.name, t, new Date(), client.room)));
  client.on("refused", (_ref, sent, error) => {
    const line = refusedLine(sent, error, t);
    undelivered.push(line.text);
    show(line);
  });
  client.on("history", (batch) => historyLines(batch, client.name, t).forEach(show));
  client.on("lost", () => show({ kind: "error", text: t.connectionLost(client.address) }));
  client.on("reconnecting", (delay, attempt) => show({ kind: "info", text: t.reconnecting(delay / 1000, attempt) }));
  client.on("reconnectFailed", (error) => show({ kind: "error", text: t.reconnectFailed(socketErrorText(error, t)) }));
  client.on("rejoined", (welcome) => show({ kind: "info", text: rejoinedText(welcome, t) }));
  client.on("closed", () => stop(EXIT_FAILURE)); // for good, not by quitting: logged in elsewhere
  client.on("rejoinRefused", (error) => {
    show({ kind: "error", text: t.nameLostOnRejoin(refusalText(error, t)) });
    stop(EXIT_FAILURE);
  });
  rl.on("SIGINT", () => rl.close()); // Ctrl+C in a terminal: leave as at end of input

  try {
    const welcome = await joinInteractively(client, options.name, nextLine, nextSecret, show, t);
    if (!welcome) return EXIT_FAILURE;
    show(describe(welcome, client.name, t)!);
    for (;;) {
      const line = await Promise.race([nextLine(promptFor(client)), stopped]);
      if (typeof line === "number") return line;
      if (line === undefined) break;
      const command = parseCommand(line, client.users);
      const result = runCommand(client, command, t);
      if (command.kind === "say" || command.kind === "private") {
        eraseTyped(line);
        // Not sent at all (not connected, too long): not delivered either.
        const refusal = result.lines.find((l) => l.kind === "error");
        if (refusal) undelivered.push(t.notDelivered(sanitize(command.text), refusal.text));
      }
      result.lines.filter((l) => l.pending === undefined).forEach(show); // a pending line shows when its echo comes
      if (result.askPassword) await registerInteractively(client, nextSecret, show, t);
      if (result.quit) break;
    }
    const code = await Promise.race([client.settled().then(() => 0), stopped]);
    if (code !== 0) return code;
    if (undelivered.length > 0) {
      show({ kind: "error", text: t.undeliveredSummary(undelivered.length) });
      undelivered.forEach((text) => show({ kind: "error", text: `  ${text}` }));
      return EXIT_UNDELIVERED;
    }
    return 0;
  } finally {
    rl.close();
    await client.quit();
  }
}

/** The line mode's prompt: the current room, when it is not the lobby. */
export function promptFor(client: ChatClient): string {
  return sameRoom(client.room, LOBBY) ? "> " : `${sanitize(client.room)}> `;
}

/** Asks for a new password twice, hidden, and registers the name with it. */
async function registerInteractively(
  client: ChatClient,
  nextSecret: (prompt: string) => Promise<string | undefined>,
  show: (line: DisplayLine) => void,
  t: Texts,
): Promise<void> {
  const first = await nextSecret(t.newPassword);
  if (first === undefined) return show({ kind: "error", text: t.noPassword });
  const second = await nextSecret(t.repeatPassword);
  if (second === undefined) return show({ kind: "error", text: t.noPassword });
  if (first !== second) return show({ kind: "error", text: t.passwordsDiffer });
  const answer = await client.register(first);
  show(describe(answer, client.name, t) ?? { kind: "error", text: t.error(sanitize(answer.message)) });
}

/** Joins under `name`, then under names read from input until one is accepted; asks for the password of a registered name. */
async function joinInteractively(
  client: ChatClient,
  name: string | undefined,
  nextLine: (prompt: string) => Promise<string | undefined>,
  nextSecret: (prompt: string) => Promise<string | undefined>,
  show: (line: DisplayLine) => void,
  t: Texts,
): Promise<Message | undefined> {
  if (name === undefined) show({ kind: "info", text: t.nameRules });
  let password = client.password;
  for (let candidate = name; ; ) {
    candidate ??= (await nextLine(t.namePrompt))?.trim();
    if (candidate === undefined) {
      show({ kind: "error", text: t.noName });
      return undefined;
    }
    try {
      return await client.join(candidate, password);
    } catch (error) {
      if (error instanceof JoinError && error.needsPassword) {
        if (error.code === "bad_password") show({ kind: "error", text: refusalText(error, t) });
        password = await nextSecret(t.passwordPrompt(sanitize(candidate)));
        if (password !== undefined) continue; // the same name, with this password
      }
      if (error instanceof JoinError && error.refusesName) {
        show({ kind: "error", text: t.nameRefused(refusalText(error, t)) });
        candidate = undefined;
        password = undefined;
        continue;
      }
      show({ kind: "error", text: joinFailureText(error, client.address, t) }); // the server full, gone, ...
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

export const USAGE = `Usage: npx tsx client.ts [options]

Joins the chat server. Type /help once joined for the commands.

Options:
  --host H        server address (default ${DEFAULT_HOST})
  --port P        server port (default ${DEFAULT_PORT})
  --name N        join under this name instead of asking
  --password P    password of that name, if registered (or set ${PASSWORD_ENV})
  --lang en|pt    language (default: Portuguese if LANG starts with "pt", else English)
  --plain         line mode even in a terminal (no full-screen interface)
  --tls           connect over TLS (a server started with --tls-cert/--tls-key)
  --ca FILE       also trust this certificate (a self-signed server's); implies --tls
  --insecure      accept a certificate that cannot be verified; implies --tls
  --supervised    line mode, plus a line "${STATUS_PREFIX}{...}" on each change of state
  -h, --help      show this help

In a terminal it opens a full-screen interface. With standard input from a
pipe, each line is read as if typed; the client leaves when the input ends,
once the server has taken every line (exit code ${EXIT_UNDELIVERED} if one was not delivered).`;

/** The machine-readable line `--supervised` prints when the connection's state changes. */
export function statusLine(state: ConnectionState, name: string | undefined): string {
  return `${STATUS_PREFIX}${JSON.stringify({ state, name: name ?? null })}`;
}

async function main(): Promise<number> {
  const values = parseOptions(process.argv.slice(2), {
    host: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    password: { type: "string" },
    lang: { type: "string" },
    plain: { type: "boolean" },
    tls: { type: "boolean" },
    ca: { type: "string" },
    insecure: { type: "boolean" },
    supervised: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.lang !== undefined && !LANGS.includes(values.lang as never)) {
    throw new UsageError(`--lang must be one of ${LANGS.join(", ")}, not "${values.lang}"`);
  }
  const t = TEXTS[detectLang(values.lang)];
  const client = new ChatClient({
    host: values.host ?? DEFAULT_HOST,
    port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
    password: values.password ?? (process.env[PASSWORD_ENV] || undefined),
    tls: values.tls || values.ca || values.insecure ? { ca: values.ca ? readFileSync(values.ca) : undefined, insecure: values.insecure } : undefined,
  });
  if (values.supervised) {
    // The name is the one joined under (kept while rejoining), null before any join.
    client.on("state", (state) => process.stdout.write(`${statusLine(state, state === "connecting" ? undefined : client.name)}\n`));
  }
  try {
    await client.connect();
  } catch (error) {
    process.stderr.write(`${t.cannotConnect(client.address, socketErrorText(error, t))}\n`);
    client.close();
    return EXIT_FAILURE;
  }
  const ascii = !isUtf8Locale();
  if (process.stdin.isTTY && process.stdout.isTTY && !values.plain && !values.supervised) {
    const { runFullScreen } = await import("./client/view.js");
    return runFullScreen(client, t, values.name, ascii);
  }
  process.on("SIGTERM", () => void client.quit().then(() => process.exit(0)));
  return runLineMode(client, { input: process.stdin, output: process.stdout, t, name: values.name, ascii });
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    process.exitCode = await main();
  }, "Run with --help for the options.");
}
