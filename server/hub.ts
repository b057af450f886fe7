/**
 * The chat's rules, apart from any transport: who is joined under which
 * name, accounts, delivery, history. Sessions (session.ts) hand it decoded
 * messages; it answers through them. No sockets, no SQL: the store
 * (store.ts) is behind an interface, and fan-out never waits on it.
 *
 * Frames are dispatched through one table (`commands`): for each type a
 * client may send, what the session must be first (joined, an account...)
 * and its handler. The need is checked once, in `handle()`, as ergo's
 * command table does (`irc/commands.go`, `usablePreReg`).
 */
import {
  DEFAULT_NAME_PREFIX,
  FEATURES,
  LOBBY,
  MAX_BODY_BYTES,
  Message,
  MODERATION_TYPES,
  nameKey,
  nameProblem,
  quote,
  SERVER_NAME,
  sortNames,
  encode,
  type ClientType,
  type ErrorCode,
  type Feature,
  type LeaveReason,
  type MessageFields,
  type ModerationType,
  type ProtocolError,
  type RoomSummary,
  roomKey,
  roomProblem,
} from "../protocol.js";
import { Room } from "./rooms.js";
import { HashBusy, hashPassword, LoginAttempts, NamePacing, PASSWORD_COST_LOG2, passwordProblem, Registrations, verifyPassword } from "./passwords.js";
import { Outgoing, type Session, type SessionHandler } from "./session.js";
import { chatId, privateConversation, StoreUnavailableError, type Friendship, type Page, type Store, type StoredChat } from "./store.js";
import { GuestShares, MAILBOX_PAGE, MAILBOX_PAGE_BYTES, mailboxRefusal } from "./mailbox.js";
import { HISTORY_REPLAY } from "./limits.js";
import type { ChangeEvent, ClusterPort, LoggedEvent, RosterEntry } from "./cluster/events.js";
import { RemoteTransport, remoteSession, serverOf } from "./cluster/remote-member.js";
import { RecentChats } from "./cluster/recent-chats.js";
import type { LogEntry } from "./cluster/shared-log.js";

/** Usuario<N> names looked up in the store at once when a client joins without a name. */
export const DEFAULT_NAME_BATCH = 500;

/** Chat numbers the hub reserves from the store at a time: a crash skips at most this many. */
export const CHAT_NUMBER_BLOCK = 10_000;

/** Most chats one `history` request returns. */
export const MAX_HISTORY_PAGE = 200;
/** Longest subject or room topic, in characters: it is repeated on every line that shows it. */
export const MAX_SUBJECT_CHARS = 200;
/**
 * Bytes of chats one replay may queue for a client (a login's replays share
 * it): well under what the server holds for a reader, so a lobby of long
 * messages cannot get every newcomer cut off as slow. Older ones are a
 * `history` request away (`more: true`).
 */
export const REPLAY_BUDGET_BYTES = 256 * 1024;
/**
 * Bytes of a `history` reply that count as one frame against the asker's
 * rate (on top of the request's own): a full reply costs what 32 chats
 * would, so a client looping requests is paced, not the server.
 */
export const HISTORY_BYTES_PER_FRAME = 8 * 1024;
/** Rooms one client may be in at once, the lobby aside. */
export const MAX_ROOMS_PER_CLIENT = 100;
/** Rooms one name may own: an account's rooms outlive it, so without a cap one account could fill the store with them. */
export const MAX_ROOMS_OWNED = 50;
/** Bytes of room summaries in one `rooms` answer (each also in its sentence): well under a frame; the rest a request with `after` away. */
export const ROOMS_PAGE_BYTES = 24 * 1024;

export interface HubOptions {
  store: Store;
  /** @default HISTORY_REPLAY */
  historyReplay?: number;
  /** log2 of scrypt's cost for new passwords (tests lower it). @default PASSWORD_COST_LOG2 */
  passwordCostLog2?: number;
  /** Names of the server's admins: registered accounts, operators of every room once logged in. */
  admins?: string[];
  /** Receives one line per event. Undefined: no line is even built. */
  log?: (line: string) => void;
  /** The shared log of a chat of several servers (`--redis`); undefined: this server is the whole chat. */
  cluster?: ClusterPort;
}

/** Times a join without a name asks again when the Usuario<N> it chose was taken on another server meanwhile. */
export const MAX_DEFAULT_NAME_TRIES = 20;
/** Departures remembered against stale rosters: more than can happen between a roster's making and its reading. */
export const MAX_DEPARTED = 10_000;
/** Chat ids asked of the store at once when storing a dead server's chats. */
export const LOST_CHATS_CHUNK = 1_000;
/** The wait before appending a leave again while Redis is away: every server must hear of it. */
export const LEAVE_RETRY_MS = 500;

type Handler = (session: Session, msg: Message) => void | Promise<void>;

/**
 * What a session must be before a type's handler runs (ergo's
 * `usablePreReg`, made a little finer):
 * - `anyone`: at any time (ping, pong, quit);
 * - `greeting`: before joining only (join);
 * - `joined`: after joining;
 * - `guest`: joined under a name no account holds yet (register);
 * - `account`: joined to a registered account (friends).
 */
export type Need = "anyone" | "greeting" | "joined" | "guest" | "account";

/** One row of the hub's table. */
interface Command {
  needs: Need;
  run: Handler;
}

/** The error a session gets for a frame it may not send now. */
interface Refusal {
  code: ErrorCode;
  text: string;
}

/** Why `session` may not send a frame of `type` that needs `needs`; undefined when it may. */
function refusalOf(needs: Need, session: Session, type: string): Refusal | undefined {
  if (needs === "anyone") return undefined;
  if (needs === "greeting") return session.joined ? { code: "bad_message", text: `Already joined as ${session.name}` } : undefined;
  if (!session.joined) return { code: "not_joined", text: `Join first: send a "join" with your name before "${type}"` };
  if (needs === "guest" && session.account) {
    return { code: "name_registered", text: `The name ${quote(session.name!)} is already registered` };
  }
  // Only the friendship types need an account: the sentence clients have always read names them.
  if (needs === "account" && !session.account) return { code: "not_registered", text: "Only registered accounts have friends: /register first" };
  return undefined;
}

/** A frame answering `msg`: with its ref, when it has one. */
function answerFields(msg: Message, fields: MessageFields): MessageFields {
  return msg.ref === undefined ? fields : { ...fields, ref: msg.ref };
}

/** The `entered` frame: a room's members, topic, owner and operators, as one who enters it (or is back in it at login) learns them. */
function enteredFields(room: Room, operators: string[]): MessageFields {
  return {
    type: "entered",
    room: room.name,
    users: room.users,
    topic: room.topic,
    owner: room.owner,
    operators,
    private: room.isPrivate,
    message: `You are in ${room.name}${room.topic ? ` (${room.topic})` : ""}. Members (${room.online.size}): ${room.users.join(", ")}`,
  };
}

/** What a `banned` error is about: the name, a guest's address, or a room (named). */
type BanScope = { reason: "name" | "address" } | { reason: "room"; room: string };

/** A friendship change its asker's server has stored. */
interface FriendshipChange {
  other: { key: string; name: string };
  status: "requested" | "accepted" | "removed";
}

/** A name granted by a join: the name, whether it is an account's, and why the asked one was refused (implicit joins). */
interface Grant {
  name: string;
  account: boolean;
  refusal?: string;
  /** A Usuario<N> the server chose. */
  byDefault?: boolean;
}

/**
 * Chats to some rooms applied while a client of this server waits to join
 * or enter them (its replay read, its change on its way through the log):
 * delivered after its replay, so that none falls between the replay and the
 * live frames.
 */
interface Catchup {
  rooms: Set<string>;
  chats: Outgoing[];
}

/** What an enter read before the client is in the room: its replay, and the chats applied since. */
interface EnterReady {
  replay: Page;
  catchup?: Catchup;
}

/** What a join read before the session is registered: its name, and what its client is told once it is. */
interface JoinReady {
  /** Chats applied to those rooms since the replays were read. */
  catchup?: Catchup;
  grant: Grant;
  /** The account's accepted friends (keys). */
  friends: Set<string>;
  /** The latest chats of the lobby and of the account's rooms, by room key (the `history` feature). */
  replays: Map<string, Page>;
  notices: Outgoing[];
  /** The first page of the account's mailbox. */
  mailbox?: Page;
}

/** The log entry being applied: its number, and whether another server appended it (then its writes are that server's to make). */
interface Applying {
  seq: number;
  /** The server that appended it. */
  server: string;
  remote: boolean;
  /** The clock of the server that appended a chat, so that every server stamps it alike. */
  date?: string;
}

/** An event this server appended and has not yet read back: what only it knows, and who waits for it. */
interface OwnEvent {
  /** The client whose frame it is, and the frame. */
  session: Session;
  msg: Message;
  ready?: JoinReady;
  enter?: EnterReady;
  applied: (outcome: Outcome) => void;
}

/** What became of an event this server appended: applied, a join whose name was taken meanwhile, or lost with the log. */
type Outcome = "done" | "taken" | "lost";

/** Frames whose change needs nothing from the store: in a cluster they go through the log as sent (applyFrame). */
const APPLIED_AS_SENT: ReadonlySet<string> = new Set(["part", "topic", ...MODERATION_TYPES]);

/** The error a change gets while the shared log cannot be reached. */
const UNAVAILABLE_TEXT = "The chat is reconnecting; try again in a moment";

export class Hub implements SessionHandler {
  /** The lobby: every joined session is in it. */
  private readonly lobby = new Room(LOBBY, "", false, false);
  /** Joined sessions by name key: the lobby's members. */
  private readonly clients = this.lobby.online;
  /** Every other room, by room key. */
  private readonly rooms = new Map<string, Room>();
  private readonly admins: ReadonlySet<string>;
  /** Addresses of guests banned from the lobby, with the banned name's key (unbanning the name frees them). */
  private readonly bannedAddresses = new Map<string, string>();
  /** The accepted friends of each online account, by key: presence is told to them. */
  private readonly friendsOf = new Map<string, Set<string>>();
  private readonly store: Store;
  private readonly historyReplay: number;
  private readonly passwordCostLog2: number;
  private readonly log: ((line: string) => void) | undefined;
  private readonly attempts = new LoginAttempts();
  private readonly namePacing = new NamePacing();
  private readonly guestShares = new GuestShares();
  private readonly registrations = new Registrations();
  /** Every Usuario<N> below this number is an account. */
  private defaultNameFloor = 0;
  /** The next chat's number, and the end (exclusive) of the block the store reserved for this hub. */
  private nextChatNumber = 1;
  private reservedEnd = 1;
  /** The next block has been asked for (once half of the current one is used) and not yet given. */
  private reservingBlock = false;
  /** Set when the server shuts down: leaves are then not announced. */
  closing = false;
  /** With several servers: the shared log every change goes through. */
  private readonly cluster: ClusterPort | undefined;
  /** Every session of the chat by its id (`SERVER/N`), this server's and the others' (cluster only). */
  private readonly sessionsById = new Map<string, Session>();
  private readonly idOf = new WeakMap<Session, string>();
  private nextSessionNumber = 0;
  private nextToken = 0;
  /** Events appended here and not yet read back, by token. */
  private readonly ownEvents = new Map<string, OwnEvent>();
  /** Other servers' chats of the last seconds, for storing a dead one's (see storeLostChats). */
  private readonly recentChats = new RecentChats();
  /** Replays under way: the chats applied meanwhile, per client waiting (see Catchup). */
  private readonly catchups = new Set<Catchup>();
  /** The log position of each client's last change of presence or rooms, and of recent departures (see applyRoster). */
  private readonly changedAt = new WeakMap<Session, number>();
  private readonly departed = new Map<string, number>();
  /** The entry being applied; undefined outside the log's turn. */
  private applying: Applying | undefined;
  /** The highest change number applied: a restored log continues above it. */
  lastApplied = 0;
  /**
   * Caught up with what the shared log held when this server joined: until
   * then its old chats are skipped (they change nothing and reach no one
   * here), and a newcomer's `hello` is not answered (this server has no
   * clients yet).
   */
  private live = false;

  /**
   * Every type a client may send: what the session must be first, and its
   * handler. `handle()` checks the need once, before any handler runs, so
   * the handlers assume it. Operator rights depend on the room: the
   * handlers check those.
   */
  private readonly commands: Record<ClientType, Command> = {
    join: { needs: "greeting", run: (session, msg) => this.join(session, msg, false) },
    chat: { needs: "joined", run: (session, msg) => this.chat(session, msg) },
    list: { needs: "joined", run: (session, msg) => this.list(session, msg) },
    quit: { needs: "anyone", run: (session) => session.disconnect("quit") },
    ping: { needs: "anyone", run: (session, msg) => this.pong(session, msg) },
    pong: { needs: "anyone", run: () => {} }, // the answer to our ping: receiving it was the point
    register: { needs: "guest", run: (session, msg) => this.register(session, msg) },
    history: { needs: "joined", run: (session, msg) => this.history(session, msg) },
    enter: { needs: "joined", run: (session, msg) => this.enter(session, msg) },
    part: { needs: "joined", run: (session, msg) => this.part(session, msg) },
    rooms: { needs: "joined", run: (session, msg) => this.listRooms(session, msg) },
    topic: { needs: "joined", run: (session, msg) => this.setTopic(session, msg) },
    ...(Object.fromEntries(
      MODERATION_TYPES.map((action) => [action, { needs: "joined", run: (session: Session, msg: Message) => this.moderate(session, msg, action) }]),
    ) as Record<ModerationType, Command>),
    friend: { needs: "account", run: (session, msg) => this.friend(session, msg) },
    unfriend: { needs: "account", run: (session, msg) => this.unfriend(session, msg) },
    friends: { needs: "account", run: (session, msg) => this.listFriends(session, msg) },
  };

  /**
   * The seed's bare Message (no `type`) before joining: it joins under its
   * name, or a default one, and its text goes out as a chat. After joining
   * a bare Message is a chat (its row above).
   */
  private readonly seedJoin: Command = { needs: "greeting", run: (session, msg) => this.join(session, msg, true) };

  /** A type only the server sends: the decoder lets through every type the protocol names, the server's too. */
  private readonly serverOnly: Command = {
    needs: "joined",
    run: (session, msg) => this.error(session, msg, "unknown_type", `A client cannot send ${quote(msg.type)}`),
  };

  private constructor(options: HubOptions) {
    this.store = options.store;
    this.historyReplay = options.historyReplay ?? HISTORY_REPLAY;
    this.passwordCostLog2 = options.passwordCostLog2 ?? PASSWORD_COST_LOG2;
    this.admins = new Set((options.admins ?? []).map(nameKey));
    this.log = options.log;
    this.cluster = options.cluster;
  }

  /** A hub with what the store remembers: a block of chat numbers no one had, rooms owned by accounts, lobby bans. */
  static async create(options: HubOptions): Promise<Hub> {
    const hub = new Hub(options);
    const { store } = options;
    hub.nextChatNumber = await store.reserveChatNumbers(CHAT_NUMBER_BLOCK);
    hub.reservedEnd = hub.nextChatNumber + CHAT_NUMBER_BLOCK;
    for (const record of await store.loadRooms()) hub.rooms.set(roomKey(record.name), Room.fromRecord(record));
    for (const ban of await store.loadBans()) if (ban.kind === "name") hub.lobby.banned.set(ban.value, ban.value);
    return hub;
  }

  /** The highest number this server knows was given (a change applied, a chat stored): a shared log numbers above it. */
  async numberFloor(): Promise<number> {
    return Math.max(this.lastApplied, this.nextChatNumber - 1, await this.store.lastChatNumber());
  }

  caughtUp(): void {
    this.live = true;
  }

  /** The shared log started again (Redis lost it): what this server appended and has not read back never will be. */
  logLost(): void {
    for (const own of this.ownEvents.values()) {
      if (own.enter?.catchup) this.catchups.delete(own.enter.catchup);
      // Its client is told, as when Redis refuses an append: it may send it again.
      if (own.session.open) this.error(own.session, own.msg, "unavailable", UNAVAILABLE_TEXT);
      own.applied("lost");
    }
    this.ownEvents.clear();
  }

  /** Names of the joined clients, sorted. */
  get users(): string[] {
    return sortNames([...this.clients.values()].map((session) => session.name!));
  }

  // -------------------------------------------------------------------------
  // SessionHandler
  // -------------------------------------------------------------------------

  handle(session: Session, msg: Message): void | Promise<void> {
    const command = this.commandFor(session, msg);
    const refusal = refusalOf(command.needs, session, msg.type);
    if (refusal) return this.error(session, msg, refusal.code, refusal.text);
    if (this.cluster) {
      const ask = this.askFor(session, msg);
      if (ask) return ask(session, msg);
    }
    return command.run(session, msg);
  }

  // -------------------------------------------------------------------------
  // Several servers: ask, append, apply (docs/cluster.md)
  // -------------------------------------------------------------------------

  /**
   * How a frame that changes the shared chat goes through the log: the
   * client's server checks what needs the store (a password, an account, a
   * replay) and appends an event; every server applies it in the log's order
   * (`applyEntries`). Undefined for what changes nothing shared (list,
   * history, ping...): answered here as on one server.
   */
  private askFor(session: Session, msg: Message): Handler | undefined {
    if (msg.bare && !session.joined) return (s, m) => this.askJoin(s, m, true);
    switch (msg.type as ClientType) {
      case "join":
        return (s, m) => this.askJoin(s, m, false);
      case "chat":
        return (s, m) => this.askChat(s, m);
      case "enter":
        return (s, m) => this.askEnter(s, m);
      case "register":
        return async (s, m) => {
          if (await this.storeAccount(s, m)) await this.publish(s, m, { kind: "registered", sid: this.idOf.get(s)!, frame: fieldsOf(m) });
        };
      case "friend":
      case "unfriend":
        return async (s, m) => {
          const change = m.type === "friend" ? await this.storeFriendship(s, m) : await this.storeUnfriend(s, m);
          if (change) await this.publish(s, m, { kind: "friendship", sid: this.idOf.get(s)!, frame: fieldsOf(m), ...change });
        };
      default:
        if (!APPLIED_AS_SENT.has(msg.type)) return undefined;
        return (s, m) => void this.publish(s, m, { kind: "frame", sid: this.idOf.get(s)!, frame: fieldsOf(m), date: new Date().toISOString() });
    }
  }

  private async askJoin(session: Session, msg: Message, implicit: boolean): Promise<void> {
    for (let attempt = 0; attempt < MAX_DEFAULT_NAME_TRIES; attempt++) {
      const ready = await this.prepareJoin(session, msg, implicit);
      if (!ready || !session.open) return;
      let sid = this.idOf.get(session);
      if (sid === undefined) {
        sid = `${this.cluster!.server}/${(this.nextSessionNumber++).toString(36)}`;
        this.idOf.set(session, sid);
        this.sessionsById.set(sid, session);
      }
      const { grant } = ready;
      const event: ChangeEvent = {
        kind: "join",
        sid,
        name: grant.name,
        account: grant.account,
        implicit,
        byDefault: grant.byDefault === true,
        ...(grant.refusal !== undefined && { refusal: grant.refusal }),
        features: msg.features ?? [],
        address: session.transport.address,
        friends: [...ready.friends],
        frame: fieldsOf(msg),
        date: new Date().toISOString(),
      };
      // A Usuario<N> chosen here can have been taken on another server meanwhile: choose again.
      const outcome = await this.publish(session, msg, event, { ready });
      if (ready.catchup) this.catchups.delete(ready.catchup); // applied (delivered), refused, or lost: it stops either way
      if (outcome !== "taken" || !grant.byDefault) return;
    }
    this.error(session, msg, "busy", "No free name could be found just now; try again in a moment");
  }

  private askChat(session: Session, msg: Message): void | Promise<void> {
    const to = msg.to ?? "";
    const event: ChangeEvent = { kind: "frame", sid: this.idOf.get(session)!, frame: fieldsOf(msg), date: new Date().toISOString() };
    if (to === "" || msg.room !== undefined || this.clients.has(nameKey(to))) return void this.publish(session, msg, event);
    // To someone not online: the store says whether it may be kept for them (the client's next frames wait).
    return this.mailboxFor(session, msg, to).then((box) => {
      if (!box) return;
      if (box !== "online") event.offline = box;
      void this.publish(session, msg, event);
    });
  }

  private async askEnter(session: Session, msg: Message): Promise<void> {
    const enter = await this.prepareEnter(session, msg);
    if (enter === undefined) return;
    await this.publish(session, msg, { kind: "enter", sid: this.idOf.get(session)!, frame: fieldsOf(msg) }, { enter });
  }

  /**
   * Appends an event for `session`'s frame `msg`. The append is sent at once
   * (before this returns), and one connection's commands reach Redis in
   * order, so a client's next frame need not wait for this one's answer: it
   * is appended after it all the same. A join's promise resolves once it is
   * applied (the session's next frame needs it joined). While the log cannot
   * be reached the client is told `unavailable`: nothing is kept to be
   * appended later.
   */
  private publish(session: Session, msg: Message, event: ChangeEvent, known: Pick<OwnEvent, "ready" | "enter"> = {}): Promise<Outcome | undefined> {
    const token = (this.nextToken++).toString(36);
    const applied = new Promise<Outcome>((resolve) => this.ownEvents.set(token, { ...known, session, msg, applied: resolve }));
    return this.cluster!.append({ ...event, token }).then(
      () => (event.kind === "join" ? applied : undefined),
      (error: unknown) => {
        if (known.enter?.catchup) this.catchups.delete(known.enter.catchup); // never to be applied
        this.ownEvents.delete(token);
        this.error(session, msg, "unavailable", UNAVAILABLE_TEXT);
        this.log?.(`shared log: ${(error as Error).message}`);
        return undefined;
      },
    );
  }

  /** Applies entries of the shared log, in its order: the same state, and the same frames to each server's clients, everywhere. */
  applyEntries(entries: Array<LogEntry<LoggedEvent>>): void {
    for (const entry of entries) {
      const ownServer = entry.server === this.cluster?.server;
      const own = ownServer ? this.ownEvents.get(entry.event.token) : undefined;
      if (own) this.ownEvents.delete(entry.event.token);
      const { event } = entry;
      const date = event.kind === "frame" || event.kind === "join" ? event.date : undefined;
      this.applying = { seq: entry.seq, server: entry.server, remote: !ownServer, ...(date !== undefined && { date }) };
      let outcome: Outcome = "done";
      try {
        outcome = this.apply(entry.event, own) ?? "done";
      } catch (error) {
        process.stderr.write(`Error applying ${entry.event.kind} ${entry.seq}: ${(error as Error).stack ?? String(error)}\n`);
      } finally {
        this.applying = undefined;
        this.lastApplied = Math.max(this.lastApplied, entry.seq);
        own?.applied(outcome);
      }
    }
  }

  private apply(event: LoggedEvent, own: OwnEvent | undefined): Outcome | void {
    if (event.kind === "gone") {
      // The survivor that found it dead also stores what it may not have: its chats delivered but perhaps never stored.
      if (event.reason === "lost" && this.applying?.server === this.cluster?.server) void this.storeLostChats(event.server);
      else this.recentChats.forget(event.server);
      return this.serverGone(event.server, event.reason);
    }
    if (event.kind === "hello") return this.answerHello(event.server);
    if (event.kind === "roster") return this.applyRoster(event.server, event.sessions, event.asOf);
    if (event.kind === "join") return this.applyJoin(event, own);
    const session = this.sessionsById.get(event.sid);
    // A connection that ended (closed by now, joined or not): out of the chat, and forgotten.
    if (event.kind === "leave") return session && this.removeJoined(session, event.reason);
    // Whether its client is in the chat is what the log built, the same everywhere; not whether its connection is
    // still open (a client that sent and quit at once: its frames come back after its connection closed).
    if (!session || session.key === undefined || this.clients.get(session.key) !== session) return;
    const msg = new Message(event.frame);
    switch (event.kind) {
      case "frame":
        return this.applyFrame(session, msg, event.offline);
      case "enter":
        return this.enterNow(session, msg, own?.enter);
      case "registered":
        return this.registered(session, msg);
      case "friendship":
        return this.friendshipChanged(session, msg, event.other, event.status);
    }
  }

  private applyJoin(event: Extract<ChangeEvent, { kind: "join" }>, own: OwnEvent | undefined): "taken" | void {
    const local = this.sessionsById.get(event.sid);
    if (local && !own) return; // appended here, but its answer was lost: the client was told unavailable
    // A client of ours that left before its join came back joins all the same, as on every other server, through a
    // stand-in that sends nothing; the leave that follows removes it.
    const session = local?.open ? local : remoteSession(event.sid, event.address, this);
    const msg = new Message(event.frame);
    msg.bare = event.implicit;
    const grant: Grant = { name: event.name, account: event.account, byDefault: event.byDefault, ...(event.refusal !== undefined && { refusal: event.refusal }) };
    const ready = session === local ? own!.ready! : { grant, friends: new Set(event.friends), replays: new Map<string, Page>(), notices: [] };
    if (this.admit(session, msg, event.implicit, ready) === "taken") return "taken";
    if (session !== local) {
      this.idOf.set(session, event.sid);
      this.sessionsById.set(event.sid, session);
    }
    // The seed's bare Message: its text goes out as a chat (stamped with its server's clock, as every chat is).
    if (event.implicit && this.live) this.chatNow(session, msg);
  }

  private applyFrame(session: Session, msg: Message, offline: { key: string; name: string } | undefined): void {
    const type = msg.type as ClientType;
    if (type === "chat") return this.live ? this.chatNow(session, msg, offline) : undefined;
    if (type === "part") return this.part(session, msg);
    if (type === "topic") return this.setTopic(session, msg);
    if ((MODERATION_TYPES as readonly string[]).includes(type)) return this.moderate(session, msg, type as ModerationType);
  }

  /**
   * A server stopped (`shutdown`) or was found dead (`lost`): its clients
   * leave everywhere. Found dead ourselves (paused past our heartbeat, cut
   * off), our clients leave as everywhere else, but keep their connections:
   * their roster goes back into the log and they are back (a guest whose
   * name was taken meanwhile is told `name_taken` and closed).
   */
  private serverGone(server: string, reason: LeaveReason): void {
    const ours = server === this.cluster!.server;
    if (ours && this.closing) return;
    const roster = ours ? this.rosterEvent() : undefined;
    for (const [sid, session] of [...this.sessionsById]) {
      if (serverOf(sid) !== server) continue;
      this.removeJoined(session, reason);
      if (ours && session.open) this.sessionsById.set(sid, session); // still this server's client: its roster brings it back
    }
    if (roster) {
      this.log?.("this server was taken for dead: its clients go back into the chat");
      this.cluster!.append(roster).catch((error: unknown) => this.log?.(`shared log: roster not sent: ${(error as Error).message}`));
    }
  }

  /** Stores the chats a dead server appended that the store lacks (it died before its commit). */
  private async storeLostChats(server: string): Promise<void> {
    const kept = this.recentChats.take(server);
    let stored = 0;
    try {
      for (let i = 0; i < kept.length; i += LOST_CHATS_CHUNK) {
        const chunk = kept.slice(i, i + LOST_CHATS_CHUNK);
        const present = await this.store.chatIdsAmong(chunk.map(({ chat }) => chat.id));
        for (const { chat, offlineFor } of chunk) {
          if (present.has(chat.id)) continue;
          this.store.appendChat(chat, offlineFor);
          stored++;
        }
      }
    } catch (error) {
      this.log?.(`chats of server ${server} not checked: ${(error as Error).message}`);
    }
    if (stored > 0) this.log?.(`stored ${stored} chats of server ${server} that it had not stored before it died`);
  }

  /** Another server joined the chat: it learns who is here from this server's roster. */
  private answerHello(server: string): void {
    if (!this.live || server === this.cluster!.server) return;
    this.cluster!.append(this.rosterEvent()).catch((error: unknown) => this.log?.(`shared log: roster not sent: ${(error as Error).message}`));
  }

  /**
   * This server's clients and their rooms, as a roster for the others: as of
   * the entry being applied, or the last one applied.
   */
  rosterEvent(): LoggedEvent {
    const server = this.cluster!.server;
    const sessions: RosterEntry[] = [];
    for (const [sid, session] of this.sessionsById) {
      if (serverOf(sid) !== server || !session.joined || this.clients.get(session.key!) !== session) continue;
      sessions.push({
        sid,
        name: session.name!,
        account: session.account,
        features: [...session.features],
        address: session.transport.address,
        friends: [...(this.friendsOf.get(session.key!) ?? [])],
        rooms: this.roomsOf(session.key!).map((room) => room.name),
      });
    }
    return { kind: "roster", server, sessions, asOf: this.applying?.seq ?? this.lastApplied, token: (this.nextToken++).toString(36) };
  }

  /**
   * Makes this server's picture of `server`'s clients match its roster: those
   * it no longer has leave, those missing join (a name held meanwhile by
   * someone else: that client is told `name_taken` by its server and
   * closed), and each is in the rooms it says.
   */
  private applyRoster(server: string, entries: RosterEntry[], asOf: number): void {
    // What changed after the roster was made is newer than it: those clients are left as the log has them.
    const newer = (session: Session | undefined) => session !== undefined && (this.changedAt.get(session) ?? 0) > asOf;
    const listed = new Set(entries.map((entry) => entry.sid));
    for (const [sid, session] of [...this.sessionsById]) {
      if (serverOf(sid) === server && !listed.has(sid) && this.isMember(session) && !newer(session)) this.removeJoined(session, "lost");
    }
    for (const entry of entries) {
      let session = this.sessionsById.get(entry.sid);
      if (newer(session) || (this.departed.get(entry.sid) ?? 0) > asOf) continue;
      const key = nameKey(entry.name);
      const holder = this.clients.get(key);
      if (holder && holder !== session) {
        // A name two clients came back with: the one already in the chat keeps it.
        if (session && this.isLocal(session)) {
          session.disconnect("quit", Outgoing.of({ type: "error", code: "name_taken", message: `The name ${quote(entry.name)} was taken while the chat was reconnecting` }));
        } else if (session) this.sessionsById.delete(entry.sid);
        continue;
      }
      if (!session || !session.open) {
        // Another server's client, or ours that has closed since (its leave follows): a stand-in that sends nothing.
        session = remoteSession(entry.sid, entry.address, this);
        this.idOf.set(session, entry.sid);
        this.sessionsById.set(entry.sid, session);
      }
      if (!holder) this.rejoin(session, entry);
      for (const name of entry.rooms) {
        let room = this.findRoom(name);
        if (!room) {
          room = new Room(name, "", false, false, `${server} ${this.applying?.seq ?? 0}`);
          this.rooms.set(room.key, room);
        }
        if (!room.online.has(key)) this.enterRoom(session, room);
      }
    }
  }

  /** Whether `session` is in the chat as the log built it (whatever its connection's state). */
  private isMember(session: Session): boolean {
    return session.key !== undefined && this.clients.get(session.key) === session;
  }

  /** Notes the log position of a change to a client's presence or rooms: a roster made before it is older. */
  private noteChange(session: Session): void {
    if (this.applying) this.changedAt.set(session, this.applying.seq);
  }

  /** Notes when a client left, so that a roster made before cannot bring it back (the latest MAX_DEPARTED kept). */
  private noteDeparture(sid: string, session: Session): void {
    this.noteChange(session);
    if (!this.applying) return;
    this.departed.delete(sid);
    this.departed.set(sid, this.applying.seq);
    if (this.departed.size > MAX_DEPARTED) this.departed.delete(this.departed.keys().next().value!);
  }

  /** A client back in the chat from a roster: the others see it join (its own connection never closed, or is another server's). */
  private rejoin(session: Session, entry: RosterEntry): void {
    const key = nameKey(entry.name);
    session.state = "joined";
    session.name = entry.name;
    session.key = key;
    session.account = entry.account;
    session.features = new Set(entry.features.filter((f): f is Feature => (FEATURES as readonly string[]).includes(f)));
    this.clients.set(key, session);
    this.noteChange(session);
    if (entry.account) this.friendsOf.set(key, new Set(entry.friends));
    this.log?.(`${entry.name} is back (${session.transport.peer})`);
    this.broadcast(Outgoing.of({ type: "join", client_name: entry.name, message: `${entry.name} joined` }), session);
    if (entry.account) this.tellPresence(session, true);
  }

  /** A connection of this server ended: every server removes its client when the log says so, retried while Redis is away. */
  private appendLeave(sid: string, reason: LeaveReason): void {
    this.cluster!.append({ kind: "leave", sid, reason, token: (this.nextToken++).toString(36) }).catch((error: unknown) => {
      if (this.closing) return;
      this.log?.(`shared log: leave of ${sid} not yet told: ${(error as Error).message}`);
      setTimeout(() => this.appendLeave(sid, reason), LEAVE_RETRY_MS).unref();
    });
  }

  /** Whether `session` is this server's client (not one of another server's). */
  private isLocal(session: Session): boolean {
    return !(session.transport instanceof RemoteTransport);
  }

  /** The store for a write: none while applying another server's change (that server makes it). */
  private get writer(): Store | undefined {
    return this.applying?.remote ? undefined : this.store;
  }

  /** What a frame asks for: its type's row, the seed's implicit join, or a refusal of a server-only type. */
  private commandFor(session: Session, msg: Message): Command {
    if (msg.bare && !session.joined) return this.seedJoin;
    return Object.hasOwn(this.commands, msg.type) ? this.commands[msg.type as ClientType] : this.serverOnly;
  }

  badFrame(session: Session, error: ProtocolError): void {
    this.log?.(`${session.label}: error ${error.code}: ${error.message}`);
    const out = Outgoing.of({ type: "error", code: error.code, message: error.message });
    if (error.fatal) session.disconnect("protocol_error", out);
    else session.deliver(out);
  }

  failed(session: Session, msg: Message, error: unknown): void {
    if (this.closing) return; // the store is closing with the server: a join in progress cannot finish
    // A networked store that cannot reach its database: nothing was done, and the client may try again.
    if (error instanceof StoreUnavailableError) {
      return this.error(session, msg, "unavailable", "The chat's database cannot be reached; try again in a moment");
    }
    // Several servers: Redis (the shared log, the shared counts) cannot be reached.
    if (error instanceof Error && error.name === "RedisUnavailable") return this.error(session, msg, "unavailable", UNAVAILABLE_TEXT);
    // Not the client's fault (the store failed, or closed at shutdown; a bug): the operator sees it on stderr.
    process.stderr.write(`Error handling ${msg.type} from ${session.label}: ${(error as Error).stack ?? String(error)}\n`);
  }

  left(session: Session, reason: LeaveReason): void {
    const sid = this.idOf.get(session);
    if (this.cluster && sid !== undefined && !this.closing && this.isLocal(session) && !this.endedByChange(reason)) {
      // With several servers a connection of ours that ended leaves when the log says so, on every server alike.
      return this.appendLeave(sid, reason);
    }
    this.removeJoined(session, reason);
  }

  /**
   * Whether a session ended because of the change being applied (a kick, a
   * ban, a take-over, a name taken): every server ends it at that same change.
   * A reader cut off as slow while a change is delivered is this server's
   * doing alone: it leaves through the log like any other connection.
   */
  private endedByChange(reason: LeaveReason): boolean {
    return this.applying !== undefined && reason !== "slow";
  }

  /** Takes a joined session out of the chat and tells the others. */
  private removeJoined(session: Session, reason: LeaveReason): void {
    const { name, key } = session;
    const sid = this.idOf.get(session);
    if (sid !== undefined && this.sessionsById.get(sid) === session) this.sessionsById.delete(sid);
    if (key === undefined || this.clients.get(key) !== session) return;
    this.clients.delete(key);
    if (sid !== undefined && this.cluster) this.noteDeparture(sid, session);
    for (const room of this.roomsOf(key)) {
      room.remove(key, false);
      if (room.abandoned) this.rooms.delete(room.key);
    }
    this.log?.(`${name} left (${reason})`);
    if (this.closing) return;
    this.broadcast(Outgoing.of({ type: "leave", client_name: name, reason, message: `${name} left (${reason})` }));
    if (session.account) this.tellPresence(session, false);
    this.friendsOf.delete(key);
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
    const ready = await this.prepareJoin(session, msg, implicit);
    if (ready?.catchup) this.catchups.delete(ready.catchup); // admit is in this same turn: nothing more can be applied before it
    if (!ready || !session.open || this.admit(session, msg, implicit, ready) === "taken") return;
    // The seed's bare Message: its text goes out as a chat once it has joined.
    if (implicit) return this.chat(session, msg);
  }

  /** The name a join may have and what its client is to be told, read before the session is registered (so nothing live slips in between). */
  private async prepareJoin(session: Session, msg: Message, implicit: boolean): Promise<JoinReady | undefined> {
    const grant = await this.grant(session, msg, implicit);
    if (!grant || !session.open) return undefined;
    const key = nameKey(grant.name);
    const wantsHistory = !implicit && msg.features?.includes("history") === true;
    const rooms = grant.account ? this.accountRooms(key) : [];
    // What is applied to these rooms from now on is caught up after the replays (the session joins only later).
    const catchup = wantsHistory ? this.watch([LOBBY, ...rooms.map((room) => room.key)]) : undefined;
    try {
      const pages = wantsHistory ? await this.latestOf([this.lobby, ...rooms]) : [];
      const friendships = grant.account ? await this.store.friendships(key) : [];
      const notices = grant.account ? (await this.store.takeNotices(key)).map((fields) => Outgoing.of(fields as unknown as MessageFields)) : [];
      // Last: a private chat kept for the account while the reads above waited is then on this page (or the next).
      const mailbox = grant.account ? await this.store.offlineChats(key, MAILBOX_PAGE, MAILBOX_PAGE_BYTES) : undefined;
      if (grant.account) this.guestShares.clear(key);
      const replays = new Map(pages.map((page, i) => [i === 0 ? LOBBY : rooms[i - 1]!.key, page]));
      return { grant, friends: acceptedFriends(key, friendships), replays, notices, ...(mailbox && { mailbox }), ...(catchup && { catchup }) };
    } catch (error) {
      if (catchup) this.catchups.delete(catchup);
      throw error;
    }
  }

  /** The rooms an account is a member of (it is back in them at login). */
  private accountRooms(key: string): Room[] {
    return [...this.rooms.values()].filter((room) => room.accountMembers.has(key));
  }

  /** Registers a session under its granted name and tells it and the others; "taken" when a guest's name was taken meanwhile. */
  private admit(session: Session, msg: Message, implicit: boolean, ready: JoinReady): "taken" | void {
    const { grant } = ready;
    const key = nameKey(grant.name);
    const holder = this.clients.get(key);
    if (holder && !grant.account) {
      // A Usuario<N> taken on another server meanwhile: its server chooses again (askJoin), the client need not know.
      if (!(grant.byDefault && this.cluster)) this.error(session, msg, "name_taken", `The name ${quote(grant.name)} is already in use`);
      return "taken";
    }
    const rooms = grant.account ? this.accountRooms(key) : [];
    // A take-over keeps the stale connection's rooms: welcome.rooms names them too.
    for (const room of holder ? this.roomsOf(key) : []) if (!rooms.includes(room)) rooms.push(room);
    if (holder) this.takeOver(holder, session);

    session.state = "joined";
    session.name = grant.name;
    session.key = key;
    session.account = grant.account;
    session.echoOwn = implicit;
    session.features = new Set((msg.features ?? []).filter((f): f is Feature => (FEATURES as readonly string[]).includes(f)));
    this.clients.set(key, session);
    this.noteChange(session);
    if (grant.account) this.friendsOf.set(key, ready.friends);
    const local = this.isLocal(session);
    const from = local ? `from ${session.transport.peer}` : `on server ${serverOf(session.transport.peer)}`;
    this.log?.(`${grant.name} joined ${from}${implicit ? " (seed client)" : ""}${grant.account ? " (account)" : ""}`);
    if (local) {
      this.sendList(session, "welcome", msg.ref, (online) =>
        grant.refusal ? `${grant.refusal}; you are ${grant.name}` : `Welcome, ${grant.name}! ${online}`,
        rooms.map((room) => room.name),
      );
    }
    if (!holder) {
      this.broadcast(Outgoing.of({ type: "join", client_name: grant.name, message: `${grant.name} joined` }), session);
      for (const room of rooms) this.enterRoom(session, room);
    }
    if (local) this.welcomeBack(session, rooms, ready);
    if (grant.account && !holder) this.tellPresence(session, true);
  }

  /** What a client just joined is told after `welcome`: its rooms as entered, their replays, and an account's mailbox and notices. */
  private welcomeBack(session: Session, rooms: Room[], ready: JoinReady): void {
    // Notices are few and small (capped by the store): they always come, and the replays get what they leave.
    const budget = { bytes: REPLAY_BUDGET_BYTES - ready.notices.reduce((bytes, out) => bytes + out.framed().length, 0) };
    // Each room it is back in is told as a room entered live: members, topic, operators (before its replay).
    for (const room of rooms) session.send(enteredFields(room, this.operatorsOf(room)));
    for (const room of [this.lobby, ...rooms]) {
      const replay = ready.replays.get(room.key);
      if (replay) this.replay(session, replay.chats, replay.more, { room: room.name }, undefined, budget);
    }
    this.deliverCatchup(session, ready.catchup, [...ready.replays.values()]);
    if (ready.mailbox) this.deliverMailbox(session, ready.mailbox);
    for (const out of ready.notices) session.deliver(out);
  }

  /** The latest chats of each room, for a replay. */
  private latestOf(rooms: Room[]): Promise<Page[]> {
    return Promise.all(rooms.map((room) => this.store.chatsBefore(room.conversation, this.historyReplay, undefined, REPLAY_BUDGET_BYTES)));
  }

  /** The name this join may have, or undefined once the refusal has been sent. */
  private async grant(session: Session, msg: Message, implicit: boolean): Promise<Grant | undefined> {
    const requested = msg.client_name;
    // An address ban refuses guests only: on a shared address (127.0.0.1 itself) accounts, admins first, still log in.
    const addressBanned = () => {
      if (!this.bannedAddresses.has(session.transport.address)) return false;
      this.error(session, msg, "banned", "Guests from this address are banned from the server", { reason: "address" });
      return true;
    };
    if (requested === "") return addressBanned() ? undefined : { name: await this.nextDefaultName(), account: false, byDefault: true };
    const refuse = async (code: ErrorCode, text: string, extra?: BanScope): Promise<Grant | undefined> => {
      if (implicit) return { name: await this.nextDefaultName(), account: false, refusal: text, byDefault: true };
      this.error(session, msg, code, text, extra);
      return undefined;
    };
    const problem = nameProblem(requested);
    if (problem !== undefined) return refuse("name_invalid", `${problem}: ${quote(requested)}`);
    const key = nameKey(requested);
    if (this.lobby.banned.has(key)) return refuse("banned", `The name ${quote(requested)} is banned from the server`, { reason: "name" });
    const account = await this.store.getAccount(key);
    if (!account) {
      if (addressBanned()) return undefined;
      if (this.clients.has(key)) return refuse("name_taken", `The name ${quote(requested)} is already in use`);
      return { name: requested, account: false };
    }
    if (implicit) return refuse("password_required", `The name ${quote(requested)} is registered`);
    const address = session.transport.address;
    // With several servers the wrong passwords tried on all of them count together.
    if (this.attempts.blocked(key, address) || (await this.cluster?.attempts.blocked(key, address))) {
      return refuse("too_many_attempts", `Too many wrong passwords for ${quote(account.name)}; try again in a few minutes`);
    }
    if (msg.password === undefined) {
      return refuse("password_required", `The name ${quote(account.name)} is registered: its password is needed`);
    }
    const turn = this.namePacing.turn(key, address);
    if (turn === undefined) return refuse("busy", `Many wrong passwords were tried for ${quote(account.name)} lately; try again in a moment`);
    if (turn > 0) await new Promise((resolve) => setTimeout(resolve, turn).unref()); // unref: a server may close meanwhile
    if (!session.open) return undefined;
    // Counted as a failure before the slow check, so parallel guesses are limited too; a right one clears it.
    this.attempts.fail(key, address);
    let right: boolean;
    try {
      right = await verifyPassword(msg.password, account.passwordHash, address);
    } catch (error) {
      if (!(error instanceof HashBusy)) throw error;
      this.attempts.retract(key, address); // no check was made: not a wrong password
      return refuse("busy", error.message);
    }
    if (!right) {
      this.namePacing.fail(key);
      await this.cluster?.attempts.fail(key, address);
      this.log?.(`${session.transport.peer}: wrong password for ${account.name}`);
      return refuse("bad_password", `Wrong password for ${quote(account.name)}`);
    }
    this.attempts.succeed(key, address);
    this.namePacing.succeed(key, address);
    await this.cluster?.attempts.succeed(key, address);
    return { name: account.name, account: true };
  }

  /**
   * A right password for a name in use: the stale connection is closed, the
   * fresh one takes its place in every room, and the others see no leave and
   * no join.
   */
  private takeOver(stale: Session, fresh: Session): void {
    this.log?.(`${stale.name}: taken over by a new login`);
    for (const room of this.roomsOf(stale.key!)) room.online.set(stale.key!, fresh);
    this.clients.delete(stale.key!);
    stale.disconnect(
      "quit",
      Outgoing.of({ type: "error", code: "logged_in_elsewhere", message: "You logged in from somewhere else; this connection is closed" }),
    );
  }

  /**
   * The first Usuario<N> that is neither online nor registered. The store is
   * asked about DEFAULT_NAME_BATCH names at a time, from the first number
   * not known to be an account (accounts are never removed, so that floor
   * only rises): with thousands of such accounts, a join without a name
   * costs one read, not one per name.
   */
  private async nextDefaultName(): Promise<string> {
    for (let start = this.defaultNameFloor; ; start += DEFAULT_NAME_BATCH) {
      const names = Array.from({ length: DEFAULT_NAME_BATCH }, (_, i) => `${DEFAULT_NAME_PREFIX}${start + i}`);
      const registered = await this.store.accountKeysAmong(names.map(nameKey));
      for (const [i, name] of names.entries()) {
        const key = nameKey(name);
        if (registered.has(key)) {
          if (start + i === this.defaultNameFloor) this.defaultNameFloor++;
        } else if (!this.clients.has(key)) return name;
      }
    }
  }

  // -------------------------------------------------------------------------
  // Accounts
  // -------------------------------------------------------------------------

  private async register(session: Session, msg: Message): Promise<void> {
    if (await this.storeAccount(session, msg)) this.registered(session, msg);
  }

  /** Stores the account a guest asks to register; false once refused (or the client left). */
  private async storeAccount(session: Session, msg: Message): Promise<boolean> {
    const problem = passwordProblem(msg.password ?? "");
    if (problem !== undefined) {
      this.error(session, msg, "weak_password", problem);
      return false;
    }
    const address = session.transport.address;
    if (!this.registrations.allowed(address)) {
      this.error(session, msg, "too_many_attempts", "Too many accounts were registered from your address lately; try again later");
      return false;
    }
    let passwordHash: string;
    try {
      passwordHash = await hashPassword(msg.password!, this.passwordCostLog2, address);
    } catch (error) {
      if (!(error instanceof HashBusy)) throw error;
      this.error(session, msg, "busy", error.message);
      return false;
    }
    if (!session.joined) return false; // it left while its password was hashed
    const created = await this.store.createAccount({
      key: session.key!,
      name: session.name!,
      passwordHash,
      created: new Date().toISOString(),
    });
    if (!created) {
      this.error(session, msg, "name_registered", `The name ${quote(session.name!)} is already registered`);
      return false;
    }
    this.registrations.add(address);
    return session.joined;
  }

  /** A guest's name is now an account's. */
  private registered(session: Session, msg: Message): void {
    session.account = true;
    this.friendsOf.set(session.key!, new Set());
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
    const to = msg.to ?? "";
    if (to !== "" && msg.room === undefined && !this.clients.has(nameKey(to))) return this.chatToOffline(session, msg, to);
    this.chatNow(session, msg);
  }

  /** A chat checked and delivered now; `offline`: to an absent account whose mailbox was checked (or the recipient is gone: refused). */
  private chatNow(session: Session, msg: Message, offline?: { key: string; name: string }): void {
    if (msg.room !== undefined && msg.to !== undefined && msg.to !== "") {
      return this.error(session, msg, "bad_message", 'A chat goes to a "room" or "to" someone, not both');
    }
    if ([...msg.subject].length > MAX_SUBJECT_CHARS) {
      return this.error(session, msg, "bad_message", `A subject has at most ${MAX_SUBJECT_CHARS} characters`);
    }
    const to = msg.to ?? "";
    if (to === "") {
      const room = this.memberRoom(session, msg, msg.room ?? LOBBY);
      if (!room) return;
      if (room.muted.has(session.key!)) return this.error(session, msg, "muted", `You are muted in ${room.name}`, { room: room.name });
      return this.chatToRoom(session, msg, room);
    }
    const recipient = this.clients.get(nameKey(to));
    // A client of version 2 (echo) writing to itself has mistyped a name; version 1 keeps its old answer (its own line back).
    if (recipient === session && session.features.has("echo")) return this.error(session, msg, "to_self", "A private message to yourself is not sent");
    if (recipient) return this.chatToOnline(session, msg, recipient);
    if (offline) return this.keepOffline(session, msg, offline);
    this.error(session, msg, "unknown_recipient", `No user named ${quote(to)} is online`);
  }

  private chatToRoom(session: Session, msg: Message, room: Room): void {
    const sent = this.accept(session, msg, { room: room.name }, room.conversation);
    if (!sent) return;
    for (const catchup of this.catchups) if (catchup.rooms.has(room.key)) catchup.chats.push(sent.out);
    const where = room.isLobby ? "" : ` ${room.name}`;
    this.log?.(`${session.name}${where}${sent.chat.subject ? ` [${printable(sent.chat.subject)}]` : ""}: ${printable(sent.chat.message)}`);
    this.tellRoom(room, sent.out, session.echoOwn ? undefined : session, session);
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
    const box = await this.mailboxFor(session, msg, to);
    if (box === "online") this.chatNow(session, msg); // it logged in while we looked
    else if (box) this.keepOffline(session, msg, box);
  }

  /**
   * Whether a private chat to `to`, who is not online, may be kept for its
   * next login: its account, "online" if it logged in while the store was
   * read, or undefined once the refusal is sent.
   */
  private async mailboxFor(session: Session, msg: Message, to: string): Promise<{ key: string; name: string } | "online" | undefined> {
    const key = nameKey(to);
    const account = await this.store.getAccount(key);
    const mailbox = account && (await this.store.mailboxCount(key, privateConversation(session.key!, key)));
    if (!session.open) return undefined;
    if (this.clients.has(key)) return "online";
    if (!account || !mailbox) {
      this.error(session, msg, "unknown_recipient", `No user named ${quote(to)} is online`);
      return undefined;
    }
    const chat = { subject: msg.subject ?? "", message: msg.message ?? "" };
    const full = mailboxRefusal(mailbox, chat, account.name, session.account ? 0 : this.guestShares.count(key, session.transport.address));
    if (full) {
      this.error(session, msg, "mailbox_full", full);
      return undefined;
    }
    return { key, name: account.name };
  }

  private keepOffline(session: Session, msg: Message, account: { key: string; name: string }): void {
    const sent = this.accept(session, msg, { to: account.name }, privateConversation(session.key!, account.key), account.key);
    if (!sent) return;
    if (!session.account && this.isLocal(session)) this.guestShares.add(account.key, session.transport.address);
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
      id: chatId(this.applying?.seq ?? this.nextChatNumber),
      ...(this.applying?.date !== undefined && { date: this.applying.date }),
      ...where,
    });
    let out: Outgoing;
    try {
      out = new Outgoing(chat, encode(chat, MAX_BODY_BYTES));
    } catch (error) {
      this.error(session, msg, "bad_message", `Message too long to deliver: ${(error as Error).message}`);
      return undefined;
    }
    if (!this.cluster) this.takeChatNumber(); // in a cluster the log's number is the id
    const stored = storedChat(chat, conversation);
    if (this.writer) this.writer.appendChat(stored, offlineFor);
    else this.recentChats.add(this.applying!.server, stored, offlineFor); // its own server stores it, unless it dies first
    return { chat, out };
  }

  /**
   * Moves to the next chat number. Numbers come from blocks the store has
   * reserved (committed before use), so a number handed out before a crash
   * is never handed out again after it; the next block is asked for when
   * half of this one is used, and is there long before it is needed.
   */
  private takeChatNumber(): void {
    this.nextChatNumber++;
    if (this.reservingBlock || this.reservedEnd - this.nextChatNumber >= CHAT_NUMBER_BLOCK / 2) return;
    this.reservingBlock = true;
    this.store.reserveChatNumbers(CHAT_NUMBER_BLOCK).then(
      (first) => {
        this.reservingBlock = false;
        // One writer per database: the next block follows this one. Were there a gap, numbering jumps it.
        if (first > this.reservedEnd) this.nextChatNumber = Math.max(this.nextChatNumber, first);
        this.reservedEnd = first + CHAT_NUMBER_BLOCK;
      },
      (error: unknown) => {
        this.reservingBlock = false; // asked again with the next chat
        this.log?.(`cannot reserve chat numbers: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  /**
   * With the `echo` feature the sender gets its accepted chat back, with its
   * `ref`, once the store has committed it: an echoed chat survives a crash.
   * The other receivers had it at once.
   */
  private echo(session: Session, msg: Message, sent: { chat: Message }): void {
    if (!session.features.has("echo") || !this.isLocal(session)) return;
    session.deliverWhenStored(
      new Outgoing(new Message({ ...sent.chat, ref: msg.ref })),
      (done) => this.store.afterCommit(done),
      () => Outgoing.of(this.errorFields(session, msg, "unavailable", `Your message ${sent.chat.id} could not be stored; try again in a moment`)),
    );
  }

  // -------------------------------------------------------------------------
  // Rooms
  // -------------------------------------------------------------------------

  /** The rooms `key` is in now, the lobby excepted. */
  private roomsOf(key: string): Room[] {
    return [...this.rooms.values()].filter((room) => room.online.has(key));
  }

  private findRoom(name: string): Room | undefined {
    const key = roomKey(name);
    return key === LOBBY ? this.lobby : this.rooms.get(key);
  }

  /** The room named in `name` if the session is in it; otherwise the error is sent. */
  private memberRoom(session: Session, msg: Message, name: string): Room | undefined {
    const room = this.findRoom(name);
    if (!room || !room.online.has(session.key!)) {
      this.error(session, msg, "not_in_room", `You are not in ${quote(name)}`);
      return undefined;
    }
    return room;
  }

  private isAdmin(session: Session): boolean {
    return session.account && this.admins.has(session.key!);
  }

  /** A room's operators online, the server's admins among its members included (they are operators of every room, the lobby too). */
  private operatorsOf(room: Room): string[] {
    // From the (few) admins, not the (many) members: the lobby holds everyone.
    const admins = [...this.admins].flatMap((key) => {
      const member = room.online.get(key);
      return member && this.isAdmin(member) ? [member.name!] : [];
    });
    return sortNames(new Set([...room.operatorNames(), ...admins]));
  }

  private isOperator(session: Session, room: Room): boolean {
    return this.isAdmin(session) || room.isOperator(session.key!);
  }

  private saveRoom(room: Room): void {
    if (room.persistent) this.writer?.saveRoom(room.toRecord());
  }

  private async enter(session: Session, msg: Message): Promise<void> {
    const enter = await this.prepareEnter(session, msg);
    if (enter !== undefined) this.enterNow(session, msg, enter);
  }

  /** Checks an `enter` and reads the room's replay; undefined once refused (or the client left). */
  private async prepareEnter(session: Session, msg: Message): Promise<EnterReady | undefined> {
    const name = msg.room ?? "";
    const problem = roomProblem(name);
    if (problem !== undefined) return void this.error(session, msg, "room_invalid", `${problem}: ${quote(name)}`);
    const key = roomKey(name);
    if (!this.findRoom(name)?.online.has(session.key!) && this.roomsOf(session.key!).length >= MAX_ROOMS_PER_CLIENT) {
      return void this.error(session, msg, "too_many_rooms", `You are in ${MAX_ROOMS_PER_CLIENT} rooms already: leave one first`);
    }
    // Read before entering; what is applied to the room from now on is caught up after it. A new guest room has none.
    const conversation = this.findRoom(name)?.conversation ?? (session.account ? key : undefined);
    if (!session.features.has("history")) return { replay: { chats: [], more: false } };
    const catchup = this.watch([key]);
    try {
      const replay = conversation ? await this.store.chatsBefore(conversation, this.historyReplay) : { chats: [], more: false };
      if (session.joined) return { replay, catchup };
    } catch (error) {
      this.catchups.delete(catchup);
      throw error;
    }
    this.catchups.delete(catchup);
    return undefined;
  }

  /** Starts catching up the chats applied to these rooms (by key) from now on. */
  private watch(rooms: string[]): Catchup {
    const catchup: Catchup = { rooms: new Set(rooms), chats: [] };
    this.catchups.add(catchup);
    return catchup;
  }

  /** Delivers what a catch-up gathered that the replays did not hold, and stops it. */
  private deliverCatchup(session: Session, catchup: Catchup | undefined, replays: Page[]): void {
    if (!catchup) return;
    this.catchups.delete(catchup);
    const replayed = new Set(replays.flatMap((page) => page.chats.map((chat) => chat.id)));
    for (const out of catchup.chats) if (!replayed.has(out.message.id!)) session.deliver(out);
  }

  /** Enters a checked room (creating it), tells the members, answers `entered` and the replay read before (its client's server only has one). */
  private enterNow(session: Session, msg: Message, ready: EnterReady | undefined): void {
    // From here on its chats reach this client live (or it is refused): the catch-up stops now.
    if (ready?.catchup) this.catchups.delete(ready.catchup);
    const name = msg.room ?? "";
    const key = roomKey(name);
    let room = this.findRoom(name);
    if (room && !room.online.has(session.key!)) {
      if (room.banned.has(session.key!) && !this.isAdmin(session)) return this.error(session, msg, "banned", `You are banned from ${room.name}`, { reason: "room", room: room.name });
      if (!room.mayEnter(session.key!) && !this.isAdmin(session)) {
        return this.error(session, msg, "invite_only", `${room.name} is private: you need an invitation`);
      }
    }
    if (!room && this.roomsOwnedBy(session.key!) >= MAX_ROOMS_OWNED) {
      return this.error(session, msg, "too_many_rooms", `You own ${MAX_ROOMS_OWNED} rooms already: no more can be created under your name`);
    }
    if (!room) {
      // In a cluster the room's conversation is named by the change that made it: the same on every server.
      room = this.applying ? new Room(name, session.name!, msg.private === true, session.account, this.applying.seq.toString(36)) : new Room(name, session.name!, msg.private === true, session.account);
      this.rooms.set(key, room);
      this.log?.(`${session.name} created ${name}${room.isPrivate ? " (private)" : ""}`);
    }
    if (!room.online.has(session.key!)) this.enterRoom(session, room);
    this.saveRoom(room);
    this.reply(session, msg, enteredFields(room, this.operatorsOf(room)));
    if (ready && session.features.has("history")) {
      this.replay(session, ready.replay.chats, ready.replay.more, { room: room.name });
      this.deliverCatchup(session, ready.catchup, [ready.replay]);
    }
  }

  /** Adds a member and tells the others. */
  private enterRoom(session: Session, room: Room): void {
    room.add(session);
    this.noteChange(session);
    const out = Outgoing.of({ type: "join", client_name: session.name, room: room.name, message: `${session.name} joined ${room.name}` });
    this.tellRoom(room, out, session);
  }

  private part(session: Session, msg: Message): void {
    if (msg.room !== undefined && roomKey(msg.room) === LOBBY) {
      return this.error(session, msg, "bad_message", `Everyone is in ${LOBBY}: it cannot be left (quit leaves the server)`);
    }
    const room = this.memberRoom(session, msg, msg.room ?? "");
    if (!room) return;
    this.removeMember(room, session.key!, "part");
    this.reply(session, msg, { type: "parted", room: room.name, message: `You left ${room.name}` });
  }

  /** Takes a member out of a room; the others get `leave` with the reason (none for a kick or a ban: its frame says it). */
  private removeMember(room: Room, key: string, reason?: LeaveReason): void {
    const member = room.online.get(key);
    if (member) this.noteChange(member);
    room.remove(key, true);
    if (room.abandoned) this.rooms.delete(room.key);
    else this.saveRoom(room);
    if (!member || reason === undefined) return;
    const out = Outgoing.of({ type: "leave", client_name: member.name, room: room.name, reason, message: `${member.name} left ${room.name}` });
    this.tellRoom(room, out);
  }

  /**
   * The rooms a client may see, the lobby first and then by name, a page at
   * a time: those after `msg.after` that fit in ROOMS_PAGE_BYTES, with the
   * total in `count` and `more` when the page stopped short.
   */
  private listRooms(session: Session, msg: Message): void {
    const visible = [this.lobby, ...[...this.rooms.values()].sort((a, b) => (a.key < b.key ? -1 : 1))].filter(
      (room) => !room.isPrivate || room.online.has(session.key!) || room.accountMembers.has(session.key!) || this.isAdmin(session),
    );
    const after = msg.after === undefined ? undefined : roomKey(msg.after);
    const rest = after === undefined ? visible : visible.filter((room) => !room.isLobby && room.key > after);
    const all: RoomSummary[] = rest.map((room) => ({ room: room.name, members: room.online.size, topic: room.topic, private: room.isPrivate }));
    const rooms = fittingSummaries(all, ROOMS_PAGE_BYTES);
    const more = rooms.length < all.length;
    const text = rooms.map((r) => `${r.room} (${r.members})${r.private ? " private" : ""}${r.topic ? `: ${r.topic}` : ""}`).join(", ");
    const tail = more ? `; ${all.length - rooms.length} more after ${rooms.at(-1)!.room}` : "";
    this.reply(session, msg, { type: "rooms", rooms, count: visible.length, more, message: `Rooms (${visible.length}): ${text}${tail}` });
  }

  private roomsOwnedBy(key: string): number {
    let owned = 0;
    for (const room of this.rooms.values()) if (room.isOwner(key)) owned++;
    return owned;
  }

  /** Who is online, or who is in one room. */
  private list(session: Session, msg: Message): void {
    if (msg.room === undefined) this.sendList(session, "list", msg.ref);
    else this.listRoom(session, msg);
  }

  private listRoom(session: Session, msg: Message): void {
    const room = this.findRoom(msg.room!);
    if (!room || (room.isPrivate && !room.online.has(session.key!) && !this.isAdmin(session))) {
      return this.error(session, msg, "not_in_room", `No room ${quote(msg.room!)} you can see`);
    }
    const users = room.users;
    this.reply(session, msg, { type: "list", room: room.name, users, operators: this.operatorsOf(room), message: `${room.name} (${users.length}): ${users.join(", ")}` });
  }

  private setTopic(session: Session, msg: Message): void {
    const room = this.memberRoom(session, msg, msg.room ?? LOBBY);
    if (!room) return;
    if (!this.isOperator(session, room)) return this.error(session, msg, "not_operator", `Only operators set the topic of ${room.name}`);
    const topic = msg.topic ?? "";
    if ([...topic].length > MAX_SUBJECT_CHARS) return this.error(session, msg, "bad_message", `A topic has at most ${MAX_SUBJECT_CHARS} characters`);
    room.topic = topic;
    this.saveRoom(room);
    const text = topic ? `${session.name} set the topic of ${room.name}: ${topic}` : `${session.name} cleared the topic of ${room.name}`;
    this.tellRoom(room, Outgoing.of({ type: "topic", client_name: session.name, room: room.name, topic, message: text }));
  }

  // -------------------------------------------------------------------------
  // Moderation
  // -------------------------------------------------------------------------

  /** kick, ban, unban, mute, unmute, op, deop, invite: checked here, carried out by `act`. */
  private moderate(session: Session, msg: Message, action: ModerationType): void {
    const target = msg.target ?? "";
    if (target === "") return this.error(session, msg, "bad_message", `A ${action} needs a "target"`);
    // A reason is repeated to every member, logged and, for an invitation or a ban, stored: bounded like a topic.
    if ([...(msg.reason ?? "")].length > MAX_SUBJECT_CHARS) {
      return this.error(session, msg, "bad_message", `A reason has at most ${MAX_SUBJECT_CHARS} characters`);
    }
    const room = this.findRoom(msg.room ?? LOBBY);
    if (!room) return this.error(session, msg, "not_in_room", `No room ${quote(msg.room!)}`);
    if (room.isLobby ? !this.isAdmin(session) : !this.isOperator(session, room)) {
      const who = room.isLobby ? "the server's admins" : `operators of ${room.name}`;
      return this.error(session, msg, "not_operator", `Only ${who} may ${action}`);
    }
    const key = nameKey(target);
    const member = room.online.get(key);
    // Undoing what was never done to someone not here (unmute, deop) would be told to everyone as if it had happened.
    const undoesNothing = (action === "unmute" && !room.muted.has(key)) || (action === "deop" && !room.operators.has(key));
    if (!member && (action === "kick" || action === "mute" || action === "op" || undoesNothing)) {
      return this.error(session, msg, "not_in_room", `${quote(target)} is not in ${room.name}`);
    }
    if (action === "deop" && room.isOwner(key)) return this.error(session, msg, "not_operator", `The owner of ${room.name} is always an operator`);
    const untouchable = room.isOwner(key) || this.admins.has(key);
    if (untouchable && !this.isAdmin(session) && HOSTILE_ACTIONS.has(action)) {
      return this.error(session, msg, "not_operator", `Only the server's admins may ${action} ${quote(target)}`);
    }
    this.act(session, msg, action, room, key, member?.name ?? this.clients.get(key)?.name ?? target);
  }

  private act(session: Session, msg: Message, action: ModerationType, room: Room, key: string, target: string): void {
    const reason = msg.reason ?? "";
    const out = Outgoing.of({
      type: action,
      client_name: session.name,
      room: room.name,
      target,
      ...(reason && { reason }),
      message: `${session.name} ${MODERATION_SENTENCES[action](target, room.name)}${reason ? `: ${reason}` : ""}`,
    });
    this.log?.(`${session.name}: ${action} ${target} in ${room.name}${reason ? ` (${printable(reason)})` : ""}`);
    const online = this.clients.get(key);
    this.tellRoom(room, out);
    if (online && !room.online.has(key)) online.deliver(out); // the target hears of it wherever it is
    if (!room.online.has(session.key!) && session !== online) session.deliver(out); // so does an actor from outside (an admin, an owner who left)
    switch (action) {
      case "kick":
      case "ban":
        if (action === "ban") room.banned.set(key, target);
        if (room.isLobby) return this.removeFromServer(key, target, action, online);
        this.removeMember(room, key);
        return;
      case "unban":
        room.banned.delete(key);
        if (room.isLobby) this.unbanName(key);
        break;
      case "mute":
        room.muted.set(key, target);
        break;
      case "unmute":
        room.muted.delete(key);
        break;
      case "op":
        room.operators.set(key, target);
        break;
      case "deop":
        room.operators.delete(key);
        break;
      case "invite":
        room.invited.set(key, target);
        if (!online) this.writer?.addNotice(key, `invite ${room.key}`, out.message.toJSON());
        break;
    }
    this.saveRoom(room);
  }

  /** A kick or ban from the lobby: the name (and a guest's address) refused until unbanned, and the connection ended. */
  private removeFromServer(key: string, target: string, action: "kick" | "ban", online: Session | undefined): void {
    if (action === "ban") {
      this.writer?.saveBan({ kind: "name", value: key, reason: target, actor: "", date: new Date().toISOString() });
      if (online && !online.account) this.bannedAddresses.set(online.transport.address, key);
    }
    online?.disconnect(action === "kick" ? "kicked" : "banned");
  }

  private unbanName(key: string): void {
    this.writer?.removeBan("name", key);
    for (const [address, bannedKey] of this.bannedAddresses) if (bannedKey === key) this.bannedAddresses.delete(address);
  }

  // -------------------------------------------------------------------------
  // Friends and presence (accounts only)
  // -------------------------------------------------------------------------

  /** The account named `target`, or undefined once `not_registered` is sent. */
  private async friendAccount(session: Session, msg: Message): Promise<{ key: string; name: string } | undefined> {
    const key = nameKey(msg.target ?? "");
    const account = key === "" ? undefined : await this.store.getAccount(key);
    if (!account || key === session.key) {
      this.error(session, msg, "not_registered", `${quote(msg.target ?? "")} is not a registered account you can befriend`);
      return undefined;
    }
    return { key, name: account.name };
  }

  private async friend(session: Session, msg: Message): Promise<void> {
    const change = await this.storeFriendship(session, msg);
    if (change) this.friendshipChanged(session, msg, change.other, change.status);
  }

  private async unfriend(session: Session, msg: Message): Promise<void> {
    const change = await this.storeUnfriend(session, msg);
    if (change) this.friendshipChanged(session, msg, change.other, change.status);
  }

  /** Stores a friendship asked for or accepted; undefined once answered (or the client left). */
  private async storeFriendship(session: Session, msg: Message): Promise<FriendshipChange | undefined> {
    const other = await this.friendAccount(session, msg);
    if (!other || !session.joined) return undefined;
    const me = session.key!;
    const existing = (await this.store.friendships(me)).find((f) => f.from === other.key || f.to === other.key);
    let status: Friendship["status"] = "requested";
    if (existing?.status === "accepted" || (existing && existing.from === other.key)) status = "accepted";
    if (existing?.status === "requested" && existing.from === me) {
      // Asked already: say so again to the asker only, so repeating it cannot pile up notices for the other.
      this.reply(session, msg, { type: "friend", client_name: session.name, target: other.name, status, message: `You asked ${other.name} already` });
      return undefined;
    }
    this.store.saveFriendship(status === "accepted" ? { from: existing!.from, to: existing!.to, status } : { from: me, to: other.key, status });
    return { other, status };
  }

  private async storeUnfriend(session: Session, msg: Message): Promise<FriendshipChange | undefined> {
    const other = await this.friendAccount(session, msg);
    if (!other || !session.joined) return undefined;
    this.store.removeFriendship(session.key!, other.key);
    return { other, status: "removed" };
  }

  /** A stored friendship change: presence follows it, and both sides are told. */
  private friendshipChanged(session: Session, msg: Message, other: { key: string; name: string }, status: FriendshipChange["status"]): void {
    if (status === "accepted") this.befriend(session.key!, other.key);
    if (status === "removed") {
      this.friendsOf.get(session.key!)?.delete(other.key);
      this.friendsOf.get(other.key)?.delete(session.key!);
    }
    this.tellFriendship(session, msg, other, status);
  }

  private befriend(a: string, b: string): void {
    this.friendsOf.get(a)?.add(b);
    this.friendsOf.get(b)?.add(a);
  }

  /** Both sides get the same frame: now, or the other at its next login. */
  private tellFriendship(session: Session, msg: Message, other: { key: string; name: string }, status: string): void {
    const text = { requested: "asked to be friends with", accepted: "is now friends with", removed: "is no longer friends with" }[status];
    const fields: MessageFields = { type: "friend", client_name: session.name, target: other.name, status, message: `${session.name} ${text} ${other.name}` };
    this.reply(session, msg, fields);
    const online = this.clients.get(other.key);
    if (online?.account) online.send(fields);
    else this.writer?.addNotice(other.key, `friend ${session.key!}`, { ...fields, date: new Date().toISOString() });
  }

  private async listFriends(session: Session, msg: Message): Promise<void> {
    const me = session.key!;
    const friendships = await this.store.friendships(me);
    const nameOf = async (key: string) => this.clients.get(key)?.name ?? (await this.store.getAccount(key))?.name ?? key;
    const friends = await Promise.all(
      friendships.filter((f) => f.status === "accepted").map(async (f) => {
        const key = f.from === me ? f.to : f.from;
        return { client_name: await nameOf(key), online: this.clients.get(key)?.account === true };
      }),
    );
    const requests = await Promise.all(friendships.filter((f) => f.status === "requested" && f.to === me).map((f) => nameOf(f.from)));
    if (!session.joined) return;
    const online = friends.filter((f) => f.online).map((f) => f.client_name);
    this.reply(session, msg, {
      type: "friends",
      friends,
      requests,
      message: `Friends (${friends.length}), online: ${online.join(", ") || "none"}${requests.length ? `; asking you: ${requests.join(", ")}` : ""}`,
    });
  }

  /** Tells an account's online friends that it came or went. */
  private tellPresence(session: Session, online: boolean): void {
    const friends = this.friendsOf.get(session.key!);
    if (!friends || friends.size === 0) return;
    const out = Outgoing.of({ type: "presence", client_name: session.name, online, message: `${session.name} is ${online ? "online" : "offline"}` });
    for (const key of friends) {
      const friend = this.clients.get(key);
      if (friend?.account) friend.deliver(out);
    }
  }

  // -------------------------------------------------------------------------
  // History
  // -------------------------------------------------------------------------

  private async history(session: Session, msg: Message): Promise<void> {
    const limit = Math.min(Math.max(msg.limit ?? this.historyReplay, 1), MAX_HISTORY_PAGE);
    let conversation: string;
    let about: { room?: string; with?: string };
    if (msg.with !== undefined) {
      // A guest's name can have had another holder: only an account's conversations are its own.
      if (!session.account) return this.error(session, msg, "not_registered", "Only registered accounts can read back private conversations");
      conversation = privateConversation(session.key!, nameKey(msg.with));
      about = { with: msg.with };
    } else {
      const room = this.memberRoom(session, msg, msg.room ?? LOBBY);
      if (!room) return;
      conversation = room.conversation;
      about = { room: room.name };
    }
    const { chats, more } = await this.store.chatsBefore(conversation, limit, msg.before, REPLAY_BUDGET_BYTES);
    const bytes = this.replay(session, chats, more, about, msg.ref);
    session.charge(Math.floor(bytes / HISTORY_BYTES_PER_FRAME));
  }

  /**
   * Stored chats, oldest first, marked `history`, then the marker that ends
   * them; as many of the latest as the budget allows. Returns the chats' bytes.
   */
  private replay(
    session: Session,
    chats: StoredChat[],
    more: boolean,
    about: { room?: string; with?: string },
    ref?: string,
    budget = { bytes: REPLAY_BUDGET_BYTES },
  ): number {
    const before = budget.bytes;
    const frames = withinBudget(chats.map((chat) => new Outgoing(historyChat(chat))), budget);
    if (frames.length < chats.length) more = true;
    chats = chats.slice(chats.length - frames.length);
    for (const out of frames) session.deliver(out);
    const where = about.room ?? (about.with !== undefined ? `your conversation with ${about.with}` : undefined);
    const count = `${chats.length} ${chats.length === 1 ? "message" : "messages"}`;
    session.send({
      type: "history",
      ...about,
      count: chats.length,
      more,
      message: where ? `${count} earlier in ${where}${more ? "; more before" : ""}` : `${count} kept for you while you were away${more ? "; more follow" : ""}`,
      ...(ref !== undefined && { ref }),
    });
    return before - budget.bytes;
  }

  /**
   * Private chats kept while the account was away, a page at a time:
   * replayed for the `history` feature (each page with its marker, the last
   * with `more: false`), else as ordinary chats. A page leaves the mailbox
   * once it has left the server for this client, and the next is read then:
   * a client gone before that finds them again at its next login.
   */
  private deliverMailbox(session: Session, page: Page): void {
    if (session.features.has("history")) this.replay(session, page.chats, page.more, {}, undefined, { bytes: Infinity });
    else for (const chat of page.chats) session.deliver(new Outgoing(new Message({ type: "chat", ...chat })));
    const last = page.chats.at(-1);
    if (!last) return;
    const key = session.key!;
    // Once what is queued for it has left the server (the transport's drain).
    session.transport.onceDrained(() => {
      if (!session.open) return;
      this.store.removeOffline(key, last.id);
      if (!page.more) return;
      this.store.offlineChats(key, MAILBOX_PAGE, MAILBOX_PAGE_BYTES).then(
        (next) => session.open && this.deliverMailbox(session, next),
        // The store is away: the rest stays kept for the next login (nothing was asked, so nothing is answered).
        (error: unknown) => this.log?.(`${session.label}: kept chats not read: ${(error as Error).message}`),
      );
    });
  }

  // -------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------

  private pong(session: Session, msg: Message): void {
    // A flood of plain pings gets one answer per turn; a ping with a ref is a request someone waits on: always answered.
    if (!session.pongQueued) {
      session.pongQueued = true;
      setImmediate(() => (session.pongQueued = false));
    } else if (msg.ref === undefined) return;
    this.reply(session, msg, { type: "pong", message: "pong" });
  }

  /** A `list` or `welcome`: who is online, as a field and as a sentence. */
  private sendList(session: Session, type: "list" | "welcome", ref?: string, sentence = (online: string) => online, rooms?: string[]): void {
    const everyone = this.users;
    const users = fittingNames(everyone, MAX_BODY_BYTES - 1024);
    const more = everyone.length - users.length;
    const online = `Online (${everyone.length}): ${users.join(", ")}${more > 0 ? `, and ${more} more` : ""}`;
    const welcome = type === "welcome" ? { features: [...session.features], account: session.account, rooms: rooms ?? [] } : {};
    // The admins online, as a room's operators are listed (an extension: a list without admins stays as version 1 has it).
    const operators = this.operatorsOf(this.lobby).filter((name) => users.includes(name));
    session.send({
      type,
      client_name: type === "welcome" ? session.name : SERVER_NAME,
      users,
      message: sentence(online),
      ...(more > 0 && { count: everyone.length }),
      ...(operators.length > 0 && { operators }),
      ...welcome,
      ...(ref !== undefined && { ref }),
    });
  }

  /** An answer to `msg`: it carries msg's `ref`. */
  private reply(session: Session, msg: Message, fields: MessageFields): void {
    session.send(answerFields(msg, fields));
  }

  /** `extra` says what a `banned` is about, or which room a `muted` is in, so that a client can say it in its own words. */
  private error(session: Session, msg: Message, code: ErrorCode, text: string, extra?: BanScope | { room: string }): void {
    session.send({ ...this.errorFields(session, msg, code, text), ...extra });
  }

  /** An error answering `msg` (with its ref), logged. */
  private errorFields(session: Session, msg: Message, code: ErrorCode, text: string): MessageFields {
    // Another server's client: its server logs (and sends) the error.
    if (this.isLocal(session)) this.log?.(`${session.label}: error ${code}: ${text}`);
    return answerFields(msg, { type: "error", code, message: text });
  }

  /** One encoded frame to every member of a room but `except` (this server's: another server's clients are its to reach). */
  private tellRoom(room: Room, out: Outgoing, except?: Session, talker?: Session): void {
    for (const member of room.online.values()) {
      if (member !== except && this.isLocal(member)) member.deliver(out, talker);
    }
  }

  /** One encoded frame to every joined client but `except` (this server's). */
  private broadcast(out: Outgoing, except?: Session, talker?: Session): void {
    for (const session of this.clients.values()) {
      if (session !== except && this.isLocal(session)) session.deliver(out, talker);
    }
  }
}

/** Actions against a member, which no operator may take against a room's owner or a server admin. */
const HOSTILE_ACTIONS: ReadonlySet<ModerationType> = new Set(["kick", "ban", "mute", "deop"]);

/** What each moderation action says, after the actor's name. */
const MODERATION_SENTENCES: Record<ModerationType, (target: string, room: string) => string> = {
  kick: (target, room) => `removed ${target} from ${room}`,
  ban: (target, room) => `banned ${target} from ${room}`,
  unban: (target, room) => `lifted the ban on ${target} in ${room}`,
  mute: (target, room) => `muted ${target} in ${room}`,
  unmute: (target, room) => `gave ${target} back the word in ${room}`,
  op: (target, room) => `made ${target} an operator of ${room}`,
  deop: (target, room) => `took operator rights in ${room} from ${target}`,
  invite: (target, room) => `invited ${target} to ${room}`,
};

/** The keys of an account's accepted friends. */
function acceptedFriends(key: string, friendships: Friendship[]): Set<string> {
  return new Set(friendships.filter((f) => f.status === "accepted").map((f) => (f.from === key ? f.to : f.from)));
}

/** The latest frames whose bytes fit in the budget (which they use up), oldest first. */
function withinBudget(frames: Outgoing[], budget: { bytes: number }): Outgoing[] {
  let first = frames.length;
  while (first > 0 && frames[first - 1]!.framed().length <= budget.bytes) {
    budget.bytes -= frames[first - 1]!.framed().length;
    first--;
  }
  return frames.slice(first);
}

/** A frame as an event carries it: its fields, less a password (the log is read by every server and kept a while). */
function fieldsOf(msg: Message): MessageFields {
  const { password: _, ...fields } = msg.toJSON() as unknown as MessageFields;
  return fields;
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

/** The first room summaries that fit in about `budgetBytes` of a frame, each in `rooms` and in the sentence; at least one. */
function fittingSummaries(rooms: RoomSummary[], budgetBytes: number): RoomSummary[] {
  let used = 0;
  for (let i = 0; i < rooms.length; i++) {
    used += 2 * Buffer.byteLength(JSON.stringify(rooms[i])) + 2;
    if (used > budgetBytes && i > 0) return rooms.slice(0, i);
  }
  return rooms;
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
