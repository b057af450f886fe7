import t from "tap";
import { parseCommand } from "../commands.js";

t.test("plain text goes to everyone", async (t) => {
  t.same(parseCommand("hello world"), { kind: "say", text: "hello world" });
  t.same(parseCommand("  spaced  "), { kind: "say", text: "spaced" });
  t.same(parseCommand("//etc/passwd is a path"), { kind: "say", text: "/etc/passwd is a path" }, "// escapes a leading slash");
  t.same(parseCommand(""), { kind: "empty" });
  t.same(parseCommand("   "), { kind: "empty" });
});

const online = ["ana", "bruno", "maria"];

t.test("@name text and /name text are private (seeds 004 and 002)", async (t) => {
  t.same(parseCommand("@Maria Oi, tudo bem?"), { kind: "private", to: "Maria", text: "Oi, tudo bem?" });
  t.same(parseCommand("@zed hi"), { kind: "private", to: "zed", text: "hi" }, "@name is private even to a name not online");
  t.same(parseCommand("/bruno  see   you", online), { kind: "private", to: "bruno", text: "see   you" });
  t.same(parseCommand("/BRUNO hi", online), { kind: "private", to: "BRUNO", text: "hi" }, "names compared without case");
  t.same(parseCommand("@ana line1\nline2"), { kind: "private", to: "ana", text: "line1\nline2" });
});

t.test("a private message without text or name is refused with the word typed", async (t) => {
  t.same(parseCommand("@maria"), { kind: "invalid", problem: "private_without_text", word: "@maria" });
  t.same(parseCommand("@maria   "), { kind: "invalid", problem: "private_without_text", word: "@maria" });
  t.same(parseCommand("/maria", online), { kind: "invalid", problem: "private_without_text", word: "/maria" });
  t.same(parseCommand("@ hello"), { kind: "invalid", problem: "private_without_name", word: "@" });
  t.same(parseCommand("@"), { kind: "invalid", problem: "private_without_name", word: "@" });
});

t.test("commands in English with the seeds' Portuguese as aliases, in any case", async (t) => {
  for (const line of ["/list", "/users", "/clientes", "/CLIENTES"]) t.same(parseCommand(line), { kind: "list" }, line);
  for (const line of ["/quit", "/exit", "/sair", "/Sair now"]) t.same(parseCommand(line), { kind: "quit" }, line);
  for (const line of ["/help", "/ajuda", "/?"]) t.same(parseCommand(line), { kind: "help" }, line);
  t.same(parseCommand("/subject Exam dates"), { kind: "subject", subject: "Exam dates" });
  t.same(parseCommand("/assunto  Provas "), { kind: "subject", subject: "Provas" });
  t.same(parseCommand("/assunto"), { kind: "subject", subject: "" }, "no text clears the subject");
});

t.test("an unknown command word that is nobody online is an unknown command, never a message", async (t) => {
  t.same(parseCommand("/xyz hi", online), { kind: "invalid", problem: "unknown_command", word: "/xyz" });
  t.same(parseCommand("/assuntos Provas", online), { kind: "invalid", problem: "unknown_command", word: "/assuntos" });
  t.same(parseCommand("/zed", online), { kind: "invalid", problem: "unknown_command", word: "/zed" });
  t.same(parseCommand("/bruno hi"), { kind: "invalid", problem: "unknown_command", word: "/bruno" }, "nobody online");
});

t.test("the version 2 commands, with Portuguese aliases", async (t) => {
  for (const line of ["/history", "/historico", "/histórico", "/HISTORY"]) t.same(parseCommand(line), { kind: "history" }, line);
  for (const line of ["/register", "/registrar"]) t.same(parseCommand(line), { kind: "register" }, line);
  t.same(parseCommand("line one\nline two"), { kind: "say", text: "line one\nline two" }, "a multi-line message is one message");
});
