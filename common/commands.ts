/**
 * What a user types, parsed into a command. Pure: no I/O, no state.
 *
 *   text            to everyone
 *   @name text      private to name (seed 004)
 *   /name text      private to name (seed 002, RF3)
 *   //text          "/text" to everyone
 *   /list /users /clientes, /quit /exit /sair, /subject /assunto [text], /help /ajuda,
 *   /history /historico, /register /registrar
 *   rooms (version 2): /join /entrar #room [private|privada], /part /deixar [#room],
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
import { nameKey, type ModerationType, roomKey, roomProblem } from "../protocol.js";

export type Command =
  | { kind: "say"; text: string }
  | { kind: "private"; to: string; text: string }
  | { kind: "list" }
  | { kind: "quit" }
  | { kind: "subject"; subject: string }
  | { kind: "help" }
  | { kind: "history" }
  | { kind: "register" }
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
  enter: ["join", "entrar"],
  part: ["part", "deixar"],
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
 * What a typed line means. `online` is who is online now: `/name text` is a
 * private message only to one of them.
 */
export function parseCommand(line: string, online: readonly string[] = []): Command {
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
      return { kind: "register" };
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
      const key = nameKey(word);
      if (word !== "" && online.some((user) => nameKey(user) === key)) return privateMessage(input.slice(1), "/");
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

/** Whether two room names are the same room (compared without case, like the server). */
export function sameRoom(a: string, b: string): boolean {
  return a === b || roomKey(a) === roomKey(b);
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
