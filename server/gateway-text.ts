/**
 * The plain-text gateway (`--text-port`): `nc 127.0.0.1 P` or `telnet`, and
 * the seeds' simplest course clients, which send a name line and then one
 * line per message and print `name >> message`.
 *
 * It is an adapter in front of the hub: lines in are read by the same command
 * grammar as the terminal client's (common/commands.ts) and become the same
 * protocol messages, handed to the same `Session` as the framed port's; the
 * frames the hub sends back become one line each. Nothing of the chat's rules
 * is written here.
 */
import net from "node:net";
import { commandFields, leavesLobby, parseCommand, sameRoom, toRoomName, type Command, type Where } from "../common/commands.js";
import { TEXTS } from "../common/catalogue.js";
import { clock, describe, inputProblemText, sanitize } from "../common/format.js";
import { LOBBY, Message, MODERATION_TYPES, nameKey, roomKey, type LeaveReason, type MessageFields } from "../protocol.js";
import { Outgoing, type Session, type Transport } from "./session.js";
import { SocketTransport, type GatewayHost } from "./gateway.js";

const t = TEXTS.en;

/** How a newline inside a message is shown, so every frame stays one line. */
export const LINE_BREAK_MARK = " ↵ ";

export const TEXT_GREETING = `Welcome to the chat. ${t.nameRules}`;
export const PASSWORD_PROMPT = "Password: ";
/** Every command the grammar has, as they work here: the password on the line, and `#room text`. */
export const TEXT_HELP = t.textHelp;

/** The errors that answer a join by refusing the name; the prompt then asks again. */
const NAME_REFUSALS: ReadonlySet<string> = new Set(["name_invalid", "name_taken", "too_many_attempts", "banned"]);

/** Where the conversation with a text client stands. */
type Stage = "name" | "password" | "waiting" | "joined" | "closed";

/** Splits a byte stream into lines, capped at `maxLineBytes`; over the cap a line is skipped, not held. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  private skipping = false;
  /** When the first byte of the line still incomplete arrived; 0 when none is. */
  startedAt = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Whole lines (without `\n` or a `\r` before it, invalid UTF-8 replaced) and one `tooLong` per overlong line. */
  push(chunk: Buffer): Array<string | { tooLong: number }> {
    const out: Array<string | { tooLong: number }> = [];
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end >= 0; end = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, end), out);
      out.push(...this.finish());
      start = end + 1;
    }
    this.take(chunk.subarray(start), out);
    this.startedAt = this.held > 0 || this.skipping ? this.startedAt || Date.now() : 0;
    return out;
  }

  private take(piece: Buffer, out: Array<string | { tooLong: number }>): void {
    if (piece.length === 0 || this.skipping) return;
    if (this.held + piece.length > this.maxLineBytes) {
      // Refused at once, so the peer hears of it even if the line never ends; the rest of it is dropped unread.
      out.push({ tooLong: this.maxLineBytes });
      this.skipping = true;
      this.parts = [];
      this.held = 0;
      return;
    }
    this.parts.push(piece);
    this.held += piece.length;
  }

  private finish(): string[] {
    const wasSkipping = this.skipping;
    const bytes = Buffer.concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    this.skipping = false;
    this.startedAt = 0;
    if (wasSkipping) return [];
    // toString("utf8") replaces invalid bytes with U+FFFD: never an exception.
    return [bytes.toString("utf8").replace(/\r$/, "")];
  }
}

/** One text connection: lines to messages, frames to lines. */
export class TextTransport extends SocketTransport implements Transport {
  private readonly lines: LineSplitter;
  private session: Session | undefined;
  private stage: Stage = "name";
  private name = "";
  private subject = "";
  /** Where a plain line goes: the lobby, the room last entered, or the one chosen with /room. */
  private room = LOBBY;
  /** The rooms this client is in, by room key, as the server spells them: /room chooses among them. */
  private readonly rooms = new Map<string, string>();
  /** The oldest lobby chat /history has shown: the next /history asks for the ones before it. */
  private oldestId: string | undefined;
  /** Who is online, by name key: `/name text` is private only to someone online (else an unknown command). */
  private readonly online = new Map<string, string>();
  /** Lines that arrived while a join, or a change of room, was being answered: what they mean depends on the answer. */
  private readonly queued: string[] = [];
  /** The ref of an enter or part not yet answered: the lines after it go to the room it makes current. */
  private roomChange: string | undefined;
  private roomChanges = 0;
  private sessionPaused = false;

  constructor(socket: net.Socket, maxLineBytes: number) {
    super(socket);
    this.lines = new LineSplitter(maxLineBytes);
  }

  attach(session: Session, closeReason: () => LeaveReason): void {
    this.session = session;
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("close", () => {
      this.stage = "closed";
      session.transportClosed(closeReason());
    });
    this.write(`${TEXT_GREETING}\n${t.namePrompt}`);
  }

  get frameStartedAt(): number {
    return this.lines.startedAt;
  }

  // -------------------------------------------------------------------------
  // Lines in
  // -------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    for (const item of this.lines.push(chunk)) {
      if (typeof item !== "string") this.write(`Line too long (over ${item.tooLong} bytes): not sent.\n`);
      else if (this.holding) this.queued.push(item);
      else this.onLine(item);
    }
  }

  private onLine(raw: string): void {
    const line = sanitize(raw).replace(/\t/g, " ");
    if (this.stage === "name") return this.askName(line.trim());
    if (this.stage === "password") return this.askPassword(line);
    if (this.stage === "joined") this.command(line);
  }

  private askName(name: string): void {
    this.name = name;
    this.joinWith({ type: "join", client_name: name });
  }

  private askPassword(password: string): void {
    if (password === "") {
      this.stage = "name";
      this.write(t.namePrompt);
      return;
    }
    this.joinWith({ type: "join", client_name: this.name, password });
  }

  /** Sends a join and holds the lines that follow until it is answered. */
  private joinWith(fields: MessageFields): void {
    this.stage = "waiting";
    this.flow();
    this.toHub(fields);
  }

  private command(line: string): void {
    const toRoom = roomLine(line);
    if (toRoom) return this.toHub(toRoom);
    const command = parseCommand(line, [...this.online.values()]);
    const where: Where = { room: this.room, subject: this.subject, before: this.oldestId };
    if (leavesLobby(command, where)) return this.say(t.cannotPartLobby);
    const fields = commandFields(command, where);
    if (!fields) return this.answerHere(command);
    if (fields.type === "enter" || fields.type === "part") {
      // Where the next lines go depends on the answer: they wait for it, as after a join.
      this.roomChange = `room-${++this.roomChanges}`;
      this.flow();
      return this.toHub({ ...fields, ref: this.roomChange });
    }
    this.toHub(fields);
  }

  /** Lines are held while a join or a change of room is answered. */
  private get holding(): boolean {
    return this.stage === "waiting" || this.roomChange !== undefined;
  }

  /** The commands this port answers itself: the grammar sends nothing for them. */
  private answerHere(command: Command): void {
    switch (command.kind) {
      case "quit":
        return this.toHub({ type: "quit" });
      case "subject":
        this.subject = command.subject;
        return this.say(command.subject ? t.subjectSet(command.subject) : t.subjectCleared);
      case "switch":
        return this.switchRoom(command.room);
      case "register":
        return this.say(t.passwordMissing("/register"));
      case "help":
        return this.say(TEXT_HELP);
      case "invalid":
        return this.say(inputProblemText(command.problem, command.word, t));
      default:
        return;
    }
  }

  private switchRoom(typed: string): void {
    const room = sameRoom(typed, LOBBY) ? LOBBY : this.rooms.get(roomKey(typed));
    if (room === undefined) return this.say(t.notInRoom(typed));
    this.room = room;
    this.say(t.nowIn(room));
  }

  private toHub(fields: MessageFields): void {
    this.session?.receive([new Message(fields)]);
  }

  /** Which rooms this client is in, where its lines go, and how far back /history has read. */
  private trackRooms(msg: Message): void {
    const room = msg.room ?? LOBBY;
    if (msg.type === "welcome") {
      // An account is put back in the rooms it was in: they are its rooms here too.
      for (const kept of msg.rooms ?? []) if (typeof kept === "string") this.rooms.set(roomKey(kept), kept);
    } else if (msg.type === "entered") {
      this.rooms.set(roomKey(room), room);
      this.room = room;
    } else if (msg.type === "parted" || (isRemoval(msg) && nameKey(msg.target ?? "") === nameKey(this.name))) {
      this.rooms.delete(roomKey(room));
      if (sameRoom(this.room, room)) this.room = LOBBY;
    } else if (msg.type === "chat" && msg.history === true && msg.id !== undefined && msg.to === undefined && sameRoom(room, LOBBY)) {
      if (this.oldestId === undefined || msg.id < this.oldestId) this.oldestId = msg.id;
    }
  }

  private trackOnline(msg: Message): void {
    if ((msg.type === "welcome" || (msg.type === "list" && msg.room === undefined)) && msg.users) {
      this.online.clear();
      for (const user of msg.users) this.online.set(nameKey(user), user);
    } else if (msg.type === "join" && msg.room === undefined) {
      this.online.set(nameKey(msg.client_name), msg.client_name);
    } else if (msg.type === "leave" && msg.room === undefined) {
      this.online.delete(nameKey(msg.client_name));
    }
  }

  /** After a join's answer: the lines held meanwhile, then reading again. */
  private replayQueued(): void {
    while (this.queued.length > 0 && !this.holding && this.stage !== "closed") this.onLine(this.queued.shift()!);
    this.flow();
  }

  // -------------------------------------------------------------------------
  // Frames out, as lines
  // -------------------------------------------------------------------------

  send(out: Outgoing): void {
    if (this.ended || this.socket.destroyed) return;
    const msg = out.message;
    this.trackOnline(msg);
    const answered = this.stage === "waiting" && (msg.type === "welcome" || msg.type === "error");
    this.trackRooms(msg);
    if (answered) this.joinAnswered(msg);
    const line = answered ? undefined : renderLine(msg, this.name, this.room);
    if (line !== undefined) this.write(`${line}\n`);
    const roomChanged = this.roomChange !== undefined && msg.ref === this.roomChange;
    if (roomChanged) this.roomChange = undefined;
    if (answered || roomChanged) this.replayQueued();
  }

  private joinAnswered(msg: Message): void {
    if (msg.type === "welcome") {
      this.stage = "joined";
      this.name = msg.client_name;
      this.write(`${describe(msg, this.name, t)!.text}\n`);
      return;
    }
    const reason = sanitize(msg.message);
    if (msg.code === "password_required" || msg.code === "bad_password") {
      this.stage = "password";
      this.write(`${reason}.\n${PASSWORD_PROMPT}`);
      return;
    }
    this.stage = "name";
    // Any other error (a time limit, the server closing) is not about the name: said as it is.
    const refusal = NAME_REFUSALS.has(msg.code ?? "") ? t.nameRefused(reason) : renderLine(msg, this.name);
    this.write(`${refusal}\n${t.namePrompt}`);
  }

  /** One answer of this port's own, on its own line. */
  private say(text: string): void {
    this.write(`${text}\n`);
  }

  private write(text: string): void {
    if (!this.ended && !this.socket.destroyed) this.socket.write(text);
  }

  // -------------------------------------------------------------------------
  // Flow and closing
  // -------------------------------------------------------------------------

  pause(): void {
    this.sessionPaused = true;
    this.flow();
  }

  resume(): void {
    this.sessionPaused = false;
    this.flow();
  }

  /** Reading stops while the session holds this client back, or while its join or change of room is being answered. */
  private flow(): void {
    if (this.sessionPaused || this.holding) this.socket.pause();
    else this.socket.resume();
  }
}

/**
 * `#room text`: a line to a room without making it current, this port's one
 * addition to the shared grammar (a terminal has windows for that). Anything
 * else, and a `#word` that is no room name, is left to the grammar.
 */
export function roomLine(line: string): MessageFields | undefined {
  const roomChat = /^(#\S+)\s+(\S[\s\S]*)$/.exec(line.trim());
  if (!roomChat || toRoomName(roomChat[1]!) !== roomChat[1]) return undefined;
  return { type: "chat", room: roomChat[1]!, message: roomChat[2]! };
}

/** A kick or ban: its target is out of the room. */
function isRemoval(msg: Message): boolean {
  return msg.type === "kick" || msg.type === "ban";
}

/** `[hh:mm]`, local time. */
function shortClock(date: string): string {
  return `[${clock(date).slice(0, 5)}]`;
}

/** Text from others: no control characters, and one line however many it had. */
function oneLine(text: string): string {
  return sanitize(text).replace(/\t/g, " ").replace(/\n/g, LINE_BREAK_MARK);
}

/** The frames told in the catalogue's words (format.ts's `describe`), as the terminal client tells them. */
const DESCRIBED: ReadonlySet<string> = new Set(["list", "welcome", "entered", "parted", "rooms", "topic", "friends", "friend", "presence", ...MODERATION_TYPES]);

/**
 * One frame as one line: `[hh:mm] name >> message` for chats (the seeds'
 * form), words for the rest; undefined for frames that show nothing.
 * `current` is the room this client's lines go to.
 */
export function renderLine(msg: Message, self: string, current: string = LOBBY): string | undefined {
  const at = shortClock(msg.date);
  const name = oneLine(msg.client_name);
  const inRoom = msg.room !== undefined && msg.room.toLowerCase() !== LOBBY ? ` ${oneLine(msg.room)}` : "";
  if (DESCRIBED.has(msg.type)) return described(msg, self, current);
  switch (msg.type) {
    case "chat": {
      const subject = msg.subject ? `[${oneLine(msg.subject)}] ` : "";
      const toYou = msg.to === undefined ? "" : msg.client_name === self ? ` (private to ${oneLine(msg.to)})` : " (private)";
      return `${at}${inRoom} ${name}${toYou} >> ${subject}${oneLine(msg.message)}`;
    }
    case "join":
      return `${at} ${t.joined(name)}${inRoom}`;
    case "leave":
      return `${at} ${t.left(name, oneLine(msg.reason ?? ""))}${inRoom}`;
    case "history":
      // The chats came before this marker, each as a line: it says only whether there are more.
      return msg.more === true ? t.earlierMore : msg.count === 0 ? t.noEarlier : undefined;
    case "pong":
    case "ping":
      return undefined;
    case "error":
      return oneLine(errorLine(msg));
    default:
      return msg.message ? `${at} ${oneLine(msg.message)}` : undefined;
  }
}

/** A frame in the catalogue's words, its time as `[hh:mm]` like this port's other lines. */
function described(msg: Message, self: string, current: string): string | undefined {
  const line = describe(msg, self, t, current);
  return line && oneLine(line.text.replace(/^\[(\d\d:\d\d):\d\d\]/, "[$1]"));
}

/** Codes after which the server closes the connection. */
const CLOSING_CODES: ReadonlySet<string> = new Set(["timeout", "server_shutdown", "server_full", "logged_in_elsewhere", "bad_header", "frame_too_large"]);

/**
 * An error in the server's own words: a text client has no translation of
 * its own, and the sentence carries the detail (which name, which limit).
 */
function errorLine(msg: Message): string {
  const text = sanitize(msg.message).replace(/\.?$/, ".");
  if (msg.code === "unknown_recipient") return `Not delivered: ${text}`;
  return CLOSING_CODES.has(msg.code ?? "") ? `Disconnected by the server: ${text}` : text;
}

/** The handler for each new socket of a text listener (plain or TLS). */
export function textConnections(host: GatewayHost, maxLineBytes: number): (socket: net.Socket) => void {
  return function textOnConnection(socket) {
    const transport = new TextTransport(socket, maxLineBytes);
    const session = host.admit(transport, socket);
    if (session) transport.attach(session, host.closeReason);
  };
}
