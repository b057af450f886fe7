/**
 * The chat's rules, apart from any transport: who is joined under which
 * name, accounts, delivery, history. Sessions (session.ts) hand it decoded
 * messages; it answers through them. No sockets, no SQL: the store
 * (store.ts) is behind an interface, and fan-out never waits on it.
 */
import {
  DEFAULT_NAME_PREFIX,
  FEATURES,
  LOBBY,
  MAX_BODY_BYTES,
  Message,
  nameKey,
  nameProblem,
  quote,
  SERVER_NAME,
  encode,
  type ErrorCode,
  type Feature,
  type LeaveReason,
  type MessageFields,
  type MessageType,
  type ProtocolError,
} from "./protocol.js";
import { hashPassword, LoginAttempts, PASSWORD_COST_LOG2, passwordProblem, verifyPassword } from "./passwords.js";
import { Outgoing, type Session, type SessionHandler } from "./session.js";
import { chatId, privateConversation, type Store, type StoredChat } from "./store.js";

/** Chats replayed after `welcome` to a client with the `history` feature. */
export const HISTORY_REPLAY = 50;
/** Most chats one `history` request returns. */
export const MAX_HISTORY_PAGE = 200;

export interface HubOptions {
  store: Store;
  /** @default HISTORY_REPLAY */
  historyReplay?: number;
  /** log2 of scrypt's cost for new passwords (tests lower it). @default PASSWORD_COST_LOG2 */
  passwordCostLog2?: number;
  /** Receives one line per event. Undefined: no line is even built. */
  log?: (line: string) => void;
}

type Handler = (session: Session, msg: Message) => void | Promise<void>;

/** A name granted by a join: the name, whether it is an account's, and why the asked one was refused (implicit joins). */
interface Grant {
  name: string;
  account: boolean;
  refusal?: string;
}

export class Hub implements SessionHandler {
  /** Joined sessions by name key. */
  private readonly clients = new Map<string, Session>();
  private readonly store: Store;
  private readonly historyReplay: number;
  private readonly passwordCostLog2: number;
  private readonly log: ((line: string) => void) | undefined;
  private readonly attempts = new LoginAttempts();
  private chatNumber = 0;
  /** Set when the server shuts down: leaves are then not announced. */
  closing = false;

  /** What a joined session may send, by type. */
  private readonly commands: Partial<Record<MessageType, Handler>> = {
    chat: (session, msg) => this.chat(session, msg),
    list: (session, msg) => this.sendList(session, "list", msg.ref),
    ping: (session, msg) => this.pong(session, msg),
    pong: () => {}, // the answer to our ping: receiving it was the point
    quit: (session) => session.disconnect("quit"),
    join: (session, msg) => this.error(session, msg, "bad_message", `Already joined as ${session.name}`),
    register: (session, msg) => this.register(session, msg),
    history: (session, msg) => this.history(session, msg),
  };

  private constructor(options: HubOptions) {
    this.store = options.store;
    this.historyReplay = options.historyReplay ?? HISTORY_REPLAY;
    this.passwordCostLog2 = options.passwordCostLog2 ?? PASSWORD_COST_LOG2;
    this.log = options.log;
  }

  static async create(options: HubOptions): Promise<Hub> {
    const hub = new Hub(options);
    hub.chatNumber = await options.store.lastChatNumber();
    return hub;
  }

  /** Names of the joined clients, sorted. */
  get users(): string[] {
    // Sorted by key in code-unit order: localeCompare was a thousand times slower in a burst of joins.
    return [...this.clients.keys()].sort().map((key) => this.clients.get(key)!.name!);
  }

  // -------------------------------------------------------------------------
  // SessionHandler
  // -------------------------------------------------------------------------

  handle(session: Session, msg: Message): void | Promise<void> {
    if (!session.joined) return this.beforeJoin(session, msg);
    const handler = this.commands[msg.type];
    if (handler) return handler(session, msg);
    this.error(session, msg, "unknown_type", `A client cannot send ${quote(msg.type)}`);
  }

  badFrame(session: Session, error: ProtocolError): void {
    this.log?.(`${session.label}: error ${error.code}: ${error.message}`);
    const out = Outgoing.of({ type: "error", code: error.code, message: error.message });
    if (error.fatal) session.disconnect("protocol_error", out);
    else session.deliver(out);
  }

  left(session: Session, reason: LeaveReason): void {
    const { name, key } = session;
    if (key === undefined || this.clients.get(key) !== session) return;
    this.clients.delete(key);
    this.log?.(`${name} left (${reason})`);
    if (this.closing) return;
    this.broadcast(Outgoing.of({ type: "leave", client_name: name, reason, message: `${name} left (${reason})` }));
  }

  private beforeJoin(session: Session, msg: Message): void | Promise<void> {
    if (msg.type === "join") return this.join(session, msg, false);
    if (msg.bare) return this.join(session, msg, true);
    if (msg.type === "ping") return this.pong(session, msg);
    if (msg.type === "quit") return session.disconnect("quit");
    if (msg.type === "pong") return;
    this.error(session, msg, "not_joined", `Join first: send a "join" with your name before "${msg.type}"`);
  }

  // -------------------------------------------------------------------------
  // Joining
  // -------------------------------------------------------------------------

  /**
   * Joins `session` under the name asked for, an account's after its
   * password, or the next free Usuario<N> when the name is empty. A refused
   * name is an error, except for a seed client joining implicitly, which
   * gets a default name and is told so.
   */
  private async join(session: Session, msg: Message, implicit: boolean): Promise<void> {
    const grant = await this.grant(session, msg, implicit);
    if (!grant || !session.open) return;
    const key = nameKey(grant.name);
    const wantsHistory = !implicit && msg.features?.includes("history") === true;
    // Everything the store must say is read before the session is registered, so nothing live can slip in between.
    const replay = wantsHistory ? await this.store.chatsBefore(LOBBY, this.historyReplay) : undefined;
    const offline = grant.account ? await this.store.takeOffline(key) : [];
    if (!session.open) return;
    const holder = this.clients.get(key);
    if (holder && !grant.account) {
      this.error(session, msg, "name_taken", `The name ${quote(grant.name)} is already in use`);
      return;
    }
    if (holder) this.takeOver(holder);

    session.state = "joined";
    session.name = grant.name;
    session.key = key;
    session.account = grant.account;
    session.echoOwn = implicit;
    session.features = new Set((msg.features ?? []).filter((f): f is Feature => (FEATURES as readonly string[]).includes(f)));
    this.clients.set(key, session);
    this.log?.(`${grant.name} joined from ${session.transport.peer}${implicit ? " (seed client)" : ""}${grant.account ? " (account)" : ""}`);
    this.sendList(session, "welcome", msg.ref, (online) =>
      grant.refusal ? `${grant.refusal}; you are ${grant.name}` : `Welcome, ${grant.name}! ${online}`,
    );
    if (!holder) this.broadcast(Outgoing.of({ type: "join", client_name: grant.name, message: `${grant.name} joined` }), session);
    if (replay) this.replay(session, replay.chats, replay.more, { room: LOBBY });
    if (grant.account) this.deliverOffline(session, offline);
    if (implicit) this.chat(session, msg);
  }

  /** The name this join may have, or undefined once the refusal has been sent. */
  private async grant(session: Session, msg: Message, implicit: boolean): Promise<Grant | undefined> {
    const requested = msg.client_name;
    if (requested === "") return { name: await this.nextDefaultName(), account: false };
    const refuse = async (code: ErrorCode, text: string): Promise<Grant | undefined> => {
      if (implicit) return { name: await this.nextDefaultName(), account: false, refusal: text };
      this.error(session, msg, code, text);
      return undefined;
    };
    const problem = nameProblem(requested);
    if (problem !== undefined) return refuse("name_invalid", `${problem}: ${quote(requested)}`);
    const key = nameKey(requested);
    const account = await this.store.getAccount(key);
    if (!account) {
      if (this.clients.has(key)) return refuse("name_taken", `The name ${quote(requested)} is already in use`);
      return { name: requested, account: false };
    }
    if (implicit) return refuse("password_required", `The name ${quote(requested)} is registered`);
    const address = session.transport.address;
    if (this.attempts.blocked(key, address)) {
      return refuse("too_many_attempts", `Too many wrong passwords for ${quote(account.name)}; try again in a few minutes`);
    }
    if (msg.password === undefined) {
      return refuse("password_required", `The name ${quote(account.name)} is registered: its password is needed`);
    }
    if (!(await verifyPassword(msg.password, account.passwordHash))) {
      this.attempts.fail(key, address);
      this.log?.(`${session.transport.peer}: wrong password for ${account.name}`);
      return refuse("bad_password", `Wrong password for ${quote(account.name)}`);
    }
    this.attempts.succeed(key, address);
    return { name: account.name, account: true };
  }

  /** A right password for a name in use: the stale connection is closed, and the others see no leave and no join. */
  private takeOver(stale: Session): void {
    this.log?.(`${stale.name}: taken over by a new login`);
    this.clients.delete(stale.key!);
    stale.disconnect(
      "quit",
      Outgoing.of({ type: "error", code: "logged_in_elsewhere", message: "You logged in from somewhere else; this connection is closed" }),
    );
  }

  /** The first Usuario<N> that is neither online nor registered. */
  private async nextDefaultName(): Promise<string> {
    for (let n = 0; ; n++) {
      const name = `${DEFAULT_NAME_PREFIX}${n}`;
      const key = nameKey(name);
      if (!this.clients.has(key) && !(await this.store.getAccount(key))) return name;
    }
  }

  // -------------------------------------------------------------------------
  // Accounts
  // -------------------------------------------------------------------------

  private async register(session: Session, msg: Message): Promise<void> {
    if (session.account) {
      this.error(session, msg, "name_registered", `The name ${quote(session.name!)} is already registered`);
      return;
    }
    const problem = passwordProblem(msg.password ?? "");
    if (problem !== undefined) {
      this.error(session, msg, "weak_password", problem);
      return;
    }
    const passwordHash = await hashPassword(msg.password!, this.passwordCostLog2);
    const created = await this.store.createAccount({
      key: session.key!,
      name: session.name!,
      passwordHash,
      created: new Date().toISOString(),
    });
    if (!created) {
      this.error(session, msg, "name_registered", `The name ${quote(session.name!)} is already registered`);
      return;
    }
    session.account = true;
    this.log?.(`${session.name} registered`);
    this.reply(session, msg, {
      type: "registered",
      client_name: session.name,
      message: `The name ${session.name} is now yours: join with your password to use it`,
    });
  }

  // -------------------------------------------------------------------------
  // Chats
  // -------------------------------------------------------------------------

  private chat(session: Session, msg: Message): void | Promise<void> {
    if (msg.room !== undefined && msg.to !== undefined && msg.to !== "") {
      return this.error(session, msg, "bad_message", 'A chat goes to a "room" or "to" someone, not both');
    }
    if (msg.room !== undefined && nameKey(msg.room) !== LOBBY) {
      return this.error(session, msg, "not_in_room", `You are not in ${quote(msg.room)}`);
    }
    const to = msg.to ?? "";
    if (to === "") return this.chatToLobby(session, msg);
    const recipient = this.clients.get(nameKey(to));
    if (recipient) return this.chatToOnline(session, msg, recipient);
    return this.chatToOffline(session, msg, to);
  }

  private chatToLobby(session: Session, msg: Message): void {
    const sent = this.accept(session, msg, { room: LOBBY }, LOBBY);
    if (!sent) return;
    this.log?.(`${session.name}${sent.chat.subject ? ` [${printable(sent.chat.subject)}]` : ""}: ${printable(sent.chat.message)}`);
    this.broadcast(sent.out, session.echoOwn ? undefined : session, session);
    this.echo(session, msg, sent);
  }

  private chatToOnline(session: Session, msg: Message, recipient: Session): void {
    const sent = this.accept(session, msg, { to: recipient.name }, privateConversation(session.key!, recipient.key!));
    if (!sent) return;
    this.log?.(`${session.name} → ${recipient.name} (private, ${sent.chat.message.length} characters)`);
    const toSelf = recipient === session;
    if (!(toSelf && session.features.has("echo"))) recipient.deliver(sent.out, session);
    if (session.echoOwn && !toSelf) session.deliver(sent.out);
    this.echo(session, msg, sent);
  }

  /** A private chat to a registered name that is offline is kept for its next login. */
  private async chatToOffline(session: Session, msg: Message, to: string): Promise<void> {
    const key = nameKey(to);
    const account = await this.store.getAccount(key);
    const online = this.clients.get(key);
    if (!session.open) return;
    if (online) return this.chatToOnline(session, msg, online); // it logged in while we looked
    if (!account) {
      this.error(session, msg, "unknown_recipient", `No user named ${quote(to)} is online`);
      return;
    }
    const sent = this.accept(session, msg, { to: account.name }, privateConversation(session.key!, key), key);
    if (!sent) return;
    this.log?.(`${session.name} → ${account.name} (private, offline, ${sent.chat.message.length} characters)`);
    if (session.echoOwn) session.deliver(sent.out);
    this.echo(session, msg, sent);
  }

  /**
   * Stamps a chat with the sender's name, the server's clock and the next id,
   * encodes it once and queues it for the store; undefined (and an error
   * sent) when it is too long to deliver.
   */
  private accept(
    session: Session,
    msg: Message,
    where: { room?: string; to?: string },
    conversation: string,
    offlineFor?: string,
  ): { chat: Message; out: Outgoing } | undefined {
    const chat = new Message({
      type: "chat",
      client_name: session.name,
      subject: msg.subject,
      message: msg.message,
      id: chatId(this.chatNumber + 1),
      ...where,
    });
    let out: Outgoing;
    try {
      out = new Outgoing(chat, encode(chat, MAX_BODY_BYTES));
    } catch (error) {
      this.error(session, msg, "bad_message", `Message too long to deliver: ${(error as Error).message}`);
      return undefined;
    }
    this.chatNumber++;
    this.store.appendChat(storedChat(chat, conversation), offlineFor);
    return { chat, out };
  }

  /** With the `echo` feature the sender gets its accepted chat back, with its `ref`. */
  private echo(session: Session, msg: Message, sent: { chat: Message }): void {
    if (!session.features.has("echo")) return;
    session.deliver(new Outgoing(new Message({ ...sent.chat, ref: msg.ref })));
  }

  // -------------------------------------------------------------------------
  // History
  // -------------------------------------------------------------------------

  private async history(session: Session, msg: Message): Promise<void> {
    const limit = Math.min(Math.max(msg.limit ?? this.historyReplay, 1), MAX_HISTORY_PAGE);
    let conversation: string;
    let about: { room?: string; with?: string };
    if (msg.with !== undefined) {
      conversation = privateConversation(session.key!, nameKey(msg.with));
      about = { with: msg.with };
    } else {
      const room = msg.room ?? LOBBY;
      if (nameKey(room) !== LOBBY) return this.error(session, msg, "not_in_room", `You are not in ${quote(room)}`);
      conversation = LOBBY;
      about = { room: LOBBY };
    }
    const { chats, more } = await this.store.chatsBefore(conversation, limit, msg.before);
    this.replay(session, chats, more, about, msg.ref);
  }

  /** Stored chats, oldest first, marked `history`, then the marker that ends them. */
  private replay(session: Session, chats: StoredChat[], more: boolean, about: { room?: string; with?: string }, ref?: string): void {
    for (const chat of chats) session.deliver(new Outgoing(historyChat(chat)));
    const where = about.room ?? (about.with !== undefined ? `your conversation with ${about.with}` : "messages kept for you");
    session.send({
      type: "history",
      ...about,
      count: chats.length,
      more,
      message: `${chats.length} earlier ${chats.length === 1 ? "message" : "messages"} in ${where}${more ? "; more before" : ""}`,
      ...(ref !== undefined && { ref }),
    });
  }

  /** Private chats kept while the account was away: replayed for the `history` feature, else as ordinary chats. */
  private deliverOffline(session: Session, chats: StoredChat[]): void {
    if (session.features.has("history")) {
      this.replay(session, chats, false, {});
      return;
    }
    for (const chat of chats) session.deliver(new Outgoing(new Message({ type: "chat", ...chat })));
  }

  // -------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------

  private pong(session: Session, msg: Message): void {
    if (session.pongQueued) return; // a flood of pings gets one answer per turn
    session.pongQueued = true;
    setImmediate(() => (session.pongQueued = false));
    this.reply(session, msg, { type: "pong", message: "pong" });
  }

  /** A `list` or `welcome`: who is online, as a field and as a sentence. */
  private sendList(session: Session, type: "list" | "welcome", ref?: string, sentence = (online: string) => online): void {
    const everyone = this.users;
    const users = fittingNames(everyone, MAX_BODY_BYTES - 1024);
    const more = everyone.length - users.length;
    const online = `Online (${everyone.length}): ${users.join(", ")}${more > 0 ? `, and ${more} more` : ""}`;
    const welcome = type === "welcome" ? { features: [...session.features], account: session.account } : {};
    session.send({
      type,
      client_name: type === "welcome" ? session.name : SERVER_NAME,
      users,
      message: sentence(online),
      ...(more > 0 && { count: everyone.length }),
      ...welcome,
      ...(ref !== undefined && { ref }),
    });
  }

  /** An answer to `msg`: it carries msg's `ref`. */
  private reply(session: Session, msg: Message, fields: MessageFields): void {
    session.send(msg.ref === undefined ? fields : { ...fields, ref: msg.ref });
  }

  private error(session: Session, msg: Message, code: ErrorCode, text: string): void {
    this.log?.(`${session.label}: error ${code}: ${text}`);
    this.reply(session, msg, { type: "error", code, message: text });
  }

  /** One encoded frame to every joined client but `except`. */
  private broadcast(out: Outgoing, except?: Session, talker?: Session): void {
    for (const session of this.clients.values()) {
      if (session !== except) session.deliver(out, talker);
    }
  }
}

function storedChat(chat: Message, conversation: string): StoredChat {
  const { id, client_name, to, room, subject, message, date } = chat;
  return { id: id!, conversation, client_name, subject, message, date, ...(to !== undefined && { to }), ...(room !== undefined && { room }) };
}

function historyChat(chat: StoredChat): Message {
  const { conversation: _, ...fields } = chat;
  return new Message({ type: "chat", ...fields, history: true });
}

/** Text for the log: control characters, C1 controls and bidi overrides shown as escapes, so a message cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c < " " ? JSON.stringify(c).slice(1, -1) : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The first names of a sorted list that fit in about `budgetBytes` of a
 * frame, where each appears twice (in `users` and in the sentence).
 */
export function fittingNames(names: string[], budgetBytes: number): string[] {
  let used = 0;
  for (let i = 0; i < names.length; i++) {
    used += 2 * Buffer.byteLength(JSON.stringify(names[i])) + 2;
    if (used > budgetBytes) return names.slice(0, i);
  }
  return names;
}
