/**
 * What the client shows: turns protocol messages and local events into
 * display lines, in the words of the catalogue (catalogue.ts). Pure: no I/O.
 */
import type { Message } from "../protocol.js";
import { LOBBY, MODERATION_TYPES, type ModerationType, type RoomSummary, roomKey } from "../protocol.js";
import type { ErrorContext, Texts } from "./catalogue.js";
import type { InputProblem } from "./commands.js";

/** Whether the terminal's locale (LC_ALL, then LC_CTYPE, then LANG) is UTF-8; if not, draw ASCII. */
export function isUtf8Locale(env: NodeJS.ProcessEnv = process.env): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale);
}

/** The symbols the client draws, and what it draws instead where the locale is not UTF-8. */
export const ASCII_GLYPHS: Readonly<Record<string, string>> = {
  "▸": ">",
  "→": "->",
  "←": "<-",
  "…": "...",
  "·": "|",
  "↑↓": "Up/Down",
  "↑": "^",
  "↓": "v",
  "█": "_",
  "—": "--",
  "│": "|",
  "✗": "x",
  "⋯": "...",
  "●": "*",
  "○": "o",
};
const GLYPH_PATTERN = new RegExp(Object.keys(ASCII_GLYPHS).sort((a, b) => b.length - a.length).join("|"), "g");

/** The text with the client's own symbols replaced by ASCII (user text is left alone otherwise). */
export function toAscii(text: string): string {
  return text.replace(GLYPH_PATTERN, (glyph) => ASCII_GLYPHS[glyph] ?? glyph);
}

/** How a line is set apart on screen. */
export type LineKind = "chat" | "private" | "own" | "notice" | "error" | "info";
export interface DisplayLine {
  kind: LineKind;
  text: string;
  /** Replayed history: drawn dimmed. */
  dim?: boolean;
  /** One's own chat not yet taken by the server (the `ref` it was sent with). */
  pending?: string;
  /** The chat's id on the server, when it has one. */
  id?: string;
}

/**
 * Removes what could drive the terminal (escape sequences, carriage returns,
 * other control characters) from text a peer sent; keeps newlines and tabs.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "");
}

/** "HH:MM:SS" in local time; the current time when `date` cannot be read. */
export function clock(date: string, now = new Date()): string {
  return when(date, false, now);
}

/** "HH:MM:SS", preceded by the local date "YYYY-MM-DD" when `withDate` and the day is not today. */
export function when(date: string, withDate: boolean, now = new Date()): string {
  const parsed = new Date(date);
  const time = Number.isNaN(parsed.getTime()) ? now : parsed;
  const hms = time.toTimeString().slice(0, 8);
  if (!withDate || time.toDateString() === now.toDateString()) return hms;
  const day = `${time.getFullYear()}-${String(time.getMonth() + 1).padStart(2, "0")}-${String(time.getDate()).padStart(2, "0")}`;
  return `${day} ${hms}`;
}

/** Continuation lines of a multi-line text, indented under the first. */
function indentLines(text: string): string {
  return text.replace(/\n/g, "\n    ");
}

/**
 * A chat message as shown: time, sender (and recipient), subject, text.
 * Replayed history (`history: true`) is dimmed and dated when not from today.
 */
export function chatLine(msg: Message, self: string | undefined, t: Texts, now = new Date(), current: string = LOBBY): DisplayLine {
  const own = self !== undefined && msg.client_name === self;
  const isPrivate = msg.to !== undefined;
  const from = own ? t.you : sanitize(msg.client_name);
  const to = msg.to === undefined ? "" : ` → ${msg.to === self ? t.you : sanitize(msg.to)} (${t.private})`;
  const subject = sanitize(msg.subject) || t.noSubject;
  const history = msg.history === true;
  return {
    kind: own ? "own" : isPrivate ? "private" : "chat",
    text: `${roomTag(msg, current)}[${when(msg.date, history, now)}] ${from}${to} [${subject}]: ${indentLines(sanitize(msg.message))}`,
    ...(history && { dim: true }),
    ...(msg.id !== undefined && { id: msg.id }),
  };
}

/** `[#room] ` before a line of a room that is not the current one; nothing for the current room or a private line. */
export function roomTag(msg: Message, current: string = LOBBY): string {
  if (msg.room === undefined || msg.to !== undefined || roomKey(msg.room) === roomKey(current)) return "";
  return `[${sanitize(msg.room)}] `;
}

/** A name as shown: "you" for oneself. */
function who(name: string, self: string | undefined, t: Texts): string {
  return self !== undefined && name === self ? t.you : sanitize(name);
}

/**
 * A frame from the server as shown, or undefined for frames that show
 * nothing (pong). `current` is the room the user is in: lines of other rooms
 * say which room they are from. Rooms, moderation, topics and friends are
 * told by the frame's type and fields, in the user's language, never by the
 * server's sentence.
 */
export function describe(msg: Message, self: string | undefined, t: Texts, current: string = LOBBY): DisplayLine | undefined {
  const at = `[${clock(msg.date)}] `;
  const name = sanitize(msg.client_name);
  const room = sanitize(msg.room ?? LOBBY);
  switch (msg.type) {
    case "chat":
      return chatLine(msg, self, t, new Date(), current);
    case "join":
      return { kind: "notice", text: at + (msg.room === undefined ? t.joined(name) : t.joinedRoom(name, room)) };
    case "leave":
      if (msg.room !== undefined && msg.reason === "part") return { kind: "notice", text: at + t.leftRoom(name, room) };
      return { kind: "notice", text: at + t.left(name, msg.reason ?? "") };
    case "list":
      if (msg.room !== undefined) return { kind: "info", text: t.members(room, membersText(msg.users ?? [], msg.operators ?? []), msg.users?.length ?? 0) };
      return { kind: "info", text: onlineText(msg, t) };
    case "entered": {
      const users = msg.users ?? [];
      return { kind: "info", text: t.entered(room, membersText(users, msg.operators ?? [], msg.owner), users.length, sanitize(msg.topic ?? ""), msg.private === true) };
    }
    case "parted":
      return { kind: "info", text: t.parted(room) };
    case "rooms": {
      const rooms = (msg.rooms ?? []).filter((r): r is RoomSummary => typeof r === "object" && r !== null);
      return { kind: "info", text: t.rooms(rooms.map((r) => t.roomSummary(sanitize(r.room), r.members, sanitize(r.topic), r.private)).join(", ")) };
    }
    case "topic": {
      const topic = sanitize(msg.topic ?? "");
      return { kind: "notice", text: at + (topic ? t.topicSet(who(msg.client_name, self, t), room, topic) : t.topicCleared(who(msg.client_name, self, t), room)) };
    }
    case "friends": {
      const list = (msg.friends ?? []).map((f) => t.friendState(sanitize(f.client_name), f.online)).join(", ");
      return { kind: "info", text: t.friendsList(list, (msg.requests ?? []).map(sanitize).join(", ")) };
    }
    case "friend": {
      const mine = self !== undefined && msg.client_name === self;
      const other = sanitize(mine ? (msg.target ?? "") : msg.client_name);
      if (msg.status === "requested") return { kind: "notice", text: at + (mine ? t.friendAsked(other) : t.friendRequested(other)) };
      if (msg.status === "accepted") return { kind: "notice", text: at + t.friendAccepted(other) };
      if (msg.status === "removed") return { kind: "notice", text: at + t.friendRemoved(other) };
      return { kind: "info", text: sanitize(msg.message) };
    }
    case "presence":
      return { kind: "notice", text: at + t.presence(name, msg.online === true) };
    case "welcome":
      return { kind: "info", text: t.welcome(name, onlineText(msg, t)) };
    case "registered":
      return { kind: "info", text: t.registered(name) };
    case "error":
      return { kind: "error", text: errorText(msg.code ?? "", { detail: sanitize(msg.message), ban: msg.reason, room: msg.room, name: self }, t) };
    default:
      if ((MODERATION_TYPES as readonly string[]).includes(msg.type)) {
        const action = msg.type as ModerationType;
        const reason = sanitize(msg.reason ?? "");
        const text = t.moderation[action](who(msg.client_name, self, t), who(msg.target ?? "", self, t), room) + (reason ? t.because(reason) : "");
        const aboutMe = self !== undefined && msg.target === self && action !== "unban" && action !== "unmute" && action !== "op" && action !== "invite";
        return { kind: aboutMe ? "error" : "notice", text: at + text };
      }
      return undefined;
  }
}

/** A room's members, operators marked `@` as IRC does: "@ana, bruno". */
export function membersText(users: readonly string[], operators: readonly string[], owner?: string): string {
  return users.map((user) => `${isOp(user, operators, owner) ? "@" : ""}${sanitize(user)}`).join(", ");
}

/** Whether `user` is one of `operators` or the owner. */
export function isOp(user: string, operators: readonly string[], owner?: string): boolean {
  return user === owner || operators.includes(user);
}

/** Who is online, as a welcome or a list carries it. */
export function onlineText(msg: Message, t: Texts): string {
  const operators = msg.operators ?? []; // the server's admins, marked as a room's operators are
  return t.online((msg.users ?? []).map((user) => `${operators.includes(user) ? "@" : ""}${sanitize(user)}`), msg.count);
}

/** The line shown when a lost connection has been joined again. */
export function rejoinedText(welcome: Message, t: Texts): string {
  return t.reconnected(sanitize(welcome.client_name), onlineText(welcome, t));
}

/**
 * Why the server ended this session on purpose (ChatClient's `putOut`): who
 * kicked or banned this client from the server and why, or the take-over.
 */
export function putOutText(msg: Message, self: string | undefined, guest: boolean, t: Texts): string {
  const by = sanitize(msg.client_name);
  const reason = sanitize(msg.reason ?? "");
  if (msg.type === "kick") return t.kickedFromServer(by, reason);
  if (msg.type === "ban") return t.bannedFromServer(by, reason, guest);
  return errorText(msg.code ?? "", { detail: sanitize(msg.message), name: self }, t);
}

/** An error in the user's language, by its code; the server's sentence only for codes this client does not know. */
export function errorText(code: string, context: ErrorContext, t: Texts): string {
  const known = Object.hasOwn(t.errors, code) ? t.errors[code] : undefined;
  return known
    ? known({ ...context, to: context.to && sanitize(context.to), name: context.name && sanitize(context.name), room: context.room && sanitize(context.room) })
    : t.error(context.detail);
}

export function inputProblemText(problem: InputProblem, word: string, t: Texts): string {
  switch (problem) {
    case "private_without_text":
      return t.privateWithoutText(word);
    case "private_without_name":
      return t.privateWithoutName(word);
    case "unknown_command":
      return t.unknownCommand(word);
    case "room_missing":
      return t.roomMissing(word);
    case "room_invalid":
      return t.roomInvalid(word);
    case "target_missing":
      return t.targetMissing(word);
    case "unexpected_text":
      return t.unexpectedText(word);
  }
}
