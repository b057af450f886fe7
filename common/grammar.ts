/**
 * What a typed line means, and what it asks the server for: the one grammar
 * of the terminal client, the plain-text port and the browser page. Pure: no
 * I/O, no state, and no import of protocol.ts at run time, so that the page's
 * bundle can hold it (commands.ts binds it to the protocol's name keys for
 * the terminal and the server).
 *
 *   text            to everyone (to the current room)
 *   @name text      private to name (seed 004)
 *   /name text      private to name (seed 002, RF3)
 *   //text          "/text" to everyone
 *   /list /users /clientes, /quit /exit /sair, /subject /assunto [text], /help /ajuda,
 *   /history /historico, /register /registrar [password]
 *   rooms (version 2): /join /enter /entrar #room [private|privada], /part /leave /deixar [#room],
 *   /rooms /salas, /room /sala #room, /who /quem [#room], /topic /topico [text]
 *   moderation of the current room: /kick /expulsar, /ban /banir, /unban /desbanir,
 *   /mute /silenciar, /unmute /liberar, /op, /deop, /invite /convidar (name [reason])
 *   friends: /friend /amigo name, /unfriend /desamigo name, /friends /amigos
 *
 * A command word wins over a user of the same name for `/name text`;
 * `@name text` is always private.
 *
 * `/word text` is private to `word` only when `word` is online; otherwise an
 * unknown command word is refused, so a typo never becomes a message.
 */
import type { MessageFields, ModerationType } from "../protocol.js";
import { LOBBY, roomProblem } from "./room-names.js";

export type Command =
  | { kind: "say"; text: string }
  | { kind: "private"; to: string; text: string }
  | { kind: "list" }
  | { kind: "quit" }
  | { kind: "subject"; subject: string }
  | { kind: "help" }
  | { kind: "history" }
  /** `password` when typed on the line (the text port and the page); the terminal asks for it hidden instead. */
  | { kind: "register"; password?: string }
  | { kind: "enter"; room: string; private: boolean }
  | { kind: "part"; room: string | undefined }
  | { kind: "rooms" }
  | { kind: "switch"; room: string }
  | { kind: "who"; room: string | undefined }
  | { kind: "topic"; topic: string }
  | { kind: "moderate"; action: ModerationType; target: string; reason: string }
  | { kind: "friend"; target: string }
  | { kind: "unfriend"; target: string }
  | { kind: "friends" }
  | { kind: "empty" }
  | { kind: "invalid"; problem: InputProblem; word: string };

export type InputProblem =
  | "private_without_text"
  | "private_without_name"
  | "unknown_command"
  /** A room command without its room: `word` is the command as typed. */
  | "room_missing"
  /** Not a room name (`#` alone, spaces, symbols): `word` is what was typed. */
  | "room_invalid"
  /** A moderation or friend command without a name: `word` is the command. */
  | "target_missing"
  /** Words after a command that takes none of them (`/join #x y`): `word` is the extra text. */
  | "unexpected_text";

/** Command words and their aliases (English first, then the seeds' Portuguese). */
export const COMMAND_WORDS = {
  list: ["list", "users", "clientes"],
  quit: ["quit", "exit", "sair"],
  subject: ["subject", "assunto"],
  help: ["help", "ajuda", "?"],
  history: ["history", "historico", "histórico"],
  register: ["register", "registrar"],
  enter: ["join", "enter", "entrar"],
  part: ["part", "leave", "deixar"],
  rooms: ["rooms", "salas"],
  switch: ["room", "sala"],
  who: ["who", "quem"],
  topic: ["topic", "topico", "tópico"],
  kick: ["kick", "expulsar"],
  ban: ["ban", "banir"],
  unban: ["unban", "desbanir"],
  mute: ["mute", "silenciar"],
  unmute: ["unmute", "liberar"],
  op: ["op"],
  deop: ["deop"],
  invite: ["invite", "convidar"],
  friend: ["friend", "amigo"],
  unfriend: ["unfriend", "desamigo"],
  friends: ["friends", "amigos"],
} as const;

/** What may follow `/join #room` to create a private group. */
export const PRIVATE_WORDS: readonly string[] = ["private", "privada", "privado"];

const COMMAND_BY_WORD = new Map<string, keyof typeof COMMAND_WORDS>(
  Object.entries(COMMAND_WORDS).flatMap(([kind, words]) =>
    words.map((word) => [word, kind as keyof typeof COMMAND_WORDS] as const),
  ),
);

/**
 * How two names, or two rooms, are told to be the same. The terminal and the
 * server use the protocol's keys (commands.ts); the page, which cannot load
 * their table of look-alike characters, compares without case.
 */
export interface Sameness {
  names(a: string, b: string): boolean;
  rooms(a: string, b: string): boolean;
}

const withoutCase = (a: string, b: string) => a === b || a.toLowerCase() === b.toLowerCase();

/** Names and rooms compared without case: the page's sameness. */
export const CASE_BLIND: Sameness = { names: withoutCase, rooms: withoutCase };

/**
 * What a typed line means. `online` is who is online now: `/name text` is a
 * private message only to one of them, told by `same.names`.
 */
export function parseLine(line: string, online: readonly string[], same: Sameness = CASE_BLIND): Command {
  const input = line.trim();
  if (input === "") return { kind: "empty" };
  if (input.startsWith("//")) return { kind: "say", text: input.slice(1) };
  if (input.startsWith("@")) return privateMessage(input.slice(1), "@");
  if (!input.startsWith("/")) return { kind: "say", text: input };

  const [word, rest] = splitWord(input.slice(1));
  const kind = COMMAND_BY_WORD.get(word.toLowerCase());
  const typed = `/${word}`;
  switch (kind) {
    case "list":
      return { kind: "list" };
    case "quit":
      return { kind: "quit" };
    case "subject":
      return { kind: "subject", subject: rest };
    case "help":
      return { kind: "help" };
    case "history":
      return { kind: "history" };
    case "register":
      return rest === "" ? { kind: "register" } : { kind: "register", password: rest };
    case "rooms":
      return { kind: "rooms" };
    case "friends":
      return { kind: "friends" };
    case "topic":
      return { kind: "topic", topic: rest };
    case "enter": {
      const [room, option] = splitWord(rest);
      if (room === "") return { kind: "invalid", problem: "room_missing", word: typed };
      const isPrivate = PRIVATE_WORDS.includes(option.toLowerCase());
      return withRoom(room, (name) =>
        option !== "" && !isPrivate ? { kind: "invalid", problem: "unexpected_text", word: option } : { kind: "enter", room: name, private: isPrivate },
      );
    }
    case "switch": {
      const [room, extra] = splitWord(rest);
      if (room === "") return { kind: "invalid", problem: "room_missing", word: typed };
      return withRoom(room, (name) => (extra !== "" ? { kind: "invalid", problem: "unexpected_text", word: extra } : { kind: "switch", room: name }));
    }
    case "part":
    case "who": {
      const [room, extra] = splitWord(rest);
      if (room === "") return { kind, room: undefined };
      return withRoom(room, (name) => (extra !== "" ? { kind: "invalid", problem: "unexpected_text", word: extra } : { kind, room: name }));
    }
    case "friend":
    case "unfriend": {
      const [target, extra] = splitWord(rest);
      if (target === "") return { kind: "invalid", problem: "target_missing", word: typed };
      if (extra !== "") return { kind: "invalid", problem: "unexpected_text", word: extra };
      return { kind, target: withoutAt(target) };
    }
    case "kick":
    case "ban":
    case "unban":
    case "mute":
    case "unmute":
    case "op":
    case "deop":
    case "invite": {
      const [target, reason] = splitWord(rest);
      if (target === "") return { kind: "invalid", problem: "target_missing", word: typed };
      return { kind: "moderate", action: kind, target: withoutAt(target), reason };
    }
    default: {
      if (word !== "" && online.some((user) => same.names(user, word))) return privateMessage(input.slice(1), "/");
      return { kind: "invalid", problem: "unknown_command", word: `/${word}` };
    }
  }
}

function privateMessage(afterPrefix: string, prefix: string): Command {
  const [to, text] = splitWord(afterPrefix);
  if (to === "") return { kind: "invalid", problem: "private_without_name", word: prefix };
  if (text === "") return { kind: "invalid", problem: "private_without_text", word: `${prefix}${to}` };
  return { kind: "private", to, text };
}

/**
 * A room as typed, made a room name: `provas` and `#provas` are both
 * `#provas`. Anything that is still not a room name (`#` alone, symbols) is
 * refused here, before it reaches the server.
 */
export function toRoomName(typed: string): string | undefined {
  const name = typed.startsWith("#") ? typed : `#${typed}`;
  return roomProblem(name) === undefined ? name : undefined;
}

function withRoom(typed: string, make: (room: string) => Command): Command {
  const room = toRoomName(typed);
  return room === undefined ? { kind: "invalid", problem: "room_invalid", word: typed } : make(room);
}

/** `@ana` typed as a target is `ana`. */
function withoutAt(target: string): string {
  return target.length > 1 && target.startsWith("@") ? target.slice(1) : target;
}

/** Splits at the first run of whitespace: ["word", "the rest"]. */
function splitWord(text: string): [string, string] {
  const match = /^(\S*)\s*([\s\S]*)$/.exec(text)!;
  return [match[1]!, match[2]!.trim()];
}

// ---------------------------------------------------------------------------
// Command to frame
// ---------------------------------------------------------------------------

/** Chats one `/history` asks for. */
export const HISTORY_PAGE = 50;

/** Where a line is typed: what a request takes from the interface's state. */
export interface Where {
  /** The current room: plain lines, /topic and moderation go there; /part and /who without a room mean it. */
  room: string;
  /** The subject of the chats sent from here. */
  subject: string;
  /** The oldest chat of the lobby shown: /history asks for the ones before it. */
  before?: string | undefined;
}

/**
 * The fields of the frame a command asks the server for, the same from every
 * way in; undefined for what an interface does itself (switch room, subject,
 * help, quit, register's hidden prompt, empty and invalid lines). Each
 * interface adds its own `ref`.
 */
export function requestFields(command: Command, where: Where, same: Sameness = CASE_BLIND): MessageFields | undefined {
  const inLobby = (room: string) => same.rooms(room, LOBBY);
  switch (command.kind) {
    case "say":
      // A chat without `room` goes to the lobby (version 1): the lobby is never spelled out.
      return { type: "chat", subject: where.subject, message: command.text, ...(!inLobby(where.room) && { room: where.room }) };
    case "private":
      return { type: "chat", subject: where.subject, message: command.text, to: command.to };
    case "list":
      return { type: "list" };
    case "enter":
      return { type: "enter", room: command.room, ...(command.private && { private: true }) };
    case "part":
      return { type: "part", room: command.room ?? where.room };
    case "rooms":
      return { type: "rooms" };
    case "who": {
      const room = command.room ?? where.room;
      return inLobby(room) ? { type: "list" } : { type: "list", room };
    }
    case "topic":
      return { type: "topic", room: where.room, topic: command.topic };
    case "moderate":
      return { type: command.action, room: where.room, target: command.target, ...(command.reason !== "" && { reason: command.reason }) };
    case "friend":
    case "unfriend":
      return { type: command.kind, target: command.target };
    case "friends":
      return { type: "friends" };
    case "history":
      return { type: "history", room: LOBBY, limit: HISTORY_PAGE, ...(where.before !== undefined && { before: where.before }) };
    case "register":
      return command.password === undefined ? undefined : { type: "register", password: command.password };
    case "switch":
    case "subject":
    case "help":
    case "quit":
    case "empty":
    case "invalid":
      return undefined;
  }
}

/** Whether a command would leave the lobby, which nobody can: each interface says so itself, without asking. */
export function partsLobby(command: Command, where: Where, same: Sameness = CASE_BLIND): boolean {
  return command.kind === "part" && same.rooms(command.room ?? where.room, LOBBY);
}
