/**
 * What a user types, parsed into a command. Pure: no I/O, no state.
 *
 *   text            to everyone
 *   @name text      private to name (seed 004)
 *   /name text      private to name (seed 002, RF3)
 *   //text          "/text" to everyone
 *   /list /users /clientes, /quit /exit /sair, /subject /assunto [text], /help /ajuda,
 *   /history /historico, /register /registrar
 *
 * `/word text` is private to `word` only when `word` is online; otherwise an
 * unknown command word is refused, so a typo never becomes a message.
 */
import { nameKey } from "./protocol.js";

export type Command =
  | { kind: "say"; text: string }
  | { kind: "private"; to: string; text: string }
  | { kind: "list" }
  | { kind: "quit" }
  | { kind: "subject"; subject: string }
  | { kind: "help" }
  | { kind: "history" }
  | { kind: "register" }
  | { kind: "empty" }
  | { kind: "invalid"; problem: InputProblem; word: string };

export type InputProblem = "private_without_text" | "private_without_name" | "unknown_command";

/** Command words and their aliases (English first, then the seeds' Portuguese). */
export const COMMAND_WORDS = {
  list: ["list", "users", "clientes"],
  quit: ["quit", "exit", "sair"],
  subject: ["subject", "assunto"],
  help: ["help", "ajuda", "?"],
  history: ["history", "historico", "histórico"],
  register: ["register", "registrar"],
} as const;

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
  switch (COMMAND_BY_WORD.get(word.toLowerCase())) {
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

/** Splits at the first run of whitespace: ["word", "the rest"]. */
function splitWord(text: string): [string, string] {
  const match = /^(\S*)\s*([\s\S]*)$/.exec(text)!;
  return [match[1]!, match[2]!.trim()];
}
