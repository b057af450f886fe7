import t from "tap";
import fc from "fast-check";
import { COMMAND_WORDS, parseCommand, toRoomName } from "../common/commands.js";
import { MAX_ROOM_CHARS, roomProblem } from "../protocol.js";

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

t.test("rooms: /join (/entrar), private groups, /part (/deixar), /rooms (/salas), /room (/sala), /who (/quem), /topic (/topico)", async (t) => {
  t.same(parseCommand("/join #provas"), { kind: "enter", room: "#provas", private: false });
  t.same(parseCommand("/entrar provas"), { kind: "enter", room: "#provas", private: false }, "the # may be left out");
  t.same(parseCommand("/join #grupo private"), { kind: "enter", room: "#grupo", private: true });
  t.same(parseCommand("/entrar #grupo PRIVADA"), { kind: "enter", room: "#grupo", private: true });
  t.same(parseCommand("/join #grupo secret"), { kind: "invalid", problem: "unexpected_text", word: "secret" });
  t.same(parseCommand("/join"), { kind: "invalid", problem: "room_missing", word: "/join" });
  t.same(parseCommand("/entrar   "), { kind: "invalid", problem: "room_missing", word: "/entrar" });
  t.same(parseCommand("/join #"), { kind: "invalid", problem: "room_invalid", word: "#" }, "# alone is no room");
  t.same(parseCommand("/join #a!b"), { kind: "invalid", problem: "room_invalid", word: "#a!b" });
  t.same(parseCommand("/join #ação-2_b"), { kind: "enter", room: "#ação-2_b", private: false }, "letters of any script, digits, - and _");
  t.same(parseCommand("/part"), { kind: "part", room: undefined }, "the current room");
  t.same(parseCommand("/deixar #provas"), { kind: "part", room: "#provas" });
  for (const line of ["/rooms", "/salas"]) t.same(parseCommand(line), { kind: "rooms" }, line);
  t.same(parseCommand("/room #provas"), { kind: "switch", room: "#provas" });
  t.same(parseCommand("/sala provas"), { kind: "switch", room: "#provas" });
  t.same(parseCommand("/sala"), { kind: "invalid", problem: "room_missing", word: "/sala" });
  t.same(parseCommand("/who"), { kind: "who", room: undefined });
  t.same(parseCommand("/quem #provas"), { kind: "who", room: "#provas" });
  t.same(parseCommand("/topic Exam on Friday"), { kind: "topic", topic: "Exam on Friday" });
  t.same(parseCommand("/tópico"), { kind: "topic", topic: "" }, "no text clears it");
  t.same(parseCommand("/topico Prova sexta"), { kind: "topic", topic: "Prova sexta" });
});

t.test("moderation and friends, with Portuguese aliases; @name targets are names", async (t) => {
  const actions = { kick: "expulsar", ban: "banir", unban: "desbanir", mute: "silenciar", unmute: "liberar", invite: "convidar" } as const;
  for (const [action, pt] of Object.entries(actions)) {
    t.same(parseCommand(`/${action} bruno`), { kind: "moderate", action, target: "bruno", reason: "" }, action);
    t.same(parseCommand(`/${pt} @bruno flooding the room`), { kind: "moderate", action, target: "bruno", reason: "flooding the room" }, pt);
    t.same(parseCommand(`/${pt}`), { kind: "invalid", problem: "target_missing", word: `/${pt}` });
  }
  t.same(parseCommand("/op ana"), { kind: "moderate", action: "op", target: "ana", reason: "" });
  t.same(parseCommand("/DEOP ana"), { kind: "moderate", action: "deop", target: "ana", reason: "" });
  t.same(parseCommand("/friend ana"), { kind: "friend", target: "ana" });
  t.same(parseCommand("/amigo ana"), { kind: "friend", target: "ana" });
  t.same(parseCommand("/desamigo ana"), { kind: "unfriend", target: "ana" });
  t.same(parseCommand("/unfriend"), { kind: "invalid", problem: "target_missing", word: "/unfriend" });
  for (const line of ["/friends", "/amigos"]) t.same(parseCommand(line), { kind: "friends" }, line);
  t.same(parseCommand("/sair"), { kind: "quit" }, "no room alias takes /sair");
});

t.test("a command word wins over a user of that name; @name is always private", async (t) => {
  const users = ["join", "kick", "sala", "ana"];
  t.same(parseCommand("/join #x", users), { kind: "enter", room: "#x", private: false });
  t.same(parseCommand("/kick ana", users), { kind: "moderate", action: "kick", target: "ana", reason: "" });
  t.same(parseCommand("@kick hello", users), { kind: "private", to: "kick", text: "hello" });
  t.same(parseCommand("@sala oi", users), { kind: "private", to: "sala", text: "oi" });
});

t.test("property: any line parses without throwing, into a command of a known kind", async () => {
  const words = fc.constantFrom(...Object.values(COMMAND_WORDS).flat().map((w) => `/${w}`), "@", "//", "#", "");
  const line = fc.tuple(words, fc.string({ unit: "binary" }), fc.constantFrom(" ", "  ", "\t", "", "\n")).map(([w, rest, gap]) => `${w}${gap}${rest}`);
  fc.assert(
    fc.property(fc.oneof(line, fc.string({ unit: "binary" })), fc.array(fc.string({ unit: "grapheme" }), { maxLength: 3 }), (typed, online) => {
      const command = parseCommand(typed, online);
      if (command.kind === "enter" || command.kind === "switch") return toRoomName(command.room) === command.room;
      if (command.kind === "part" || command.kind === "who") return command.room === undefined || toRoomName(command.room) === command.room;
      if (command.kind === "moderate" || command.kind === "friend" || command.kind === "unfriend") return command.target !== "" && !/\s/.test(command.target);
      return typeof command.kind === "string";
    }),
  );
});

t.test("property: a valid room name round-trips through /join, /room, /part and /who; an invalid one is refused", async () => {
  const roomChars = fc.constantFrom(..."abcXYZ019_-çãéÁ漢字ñ".split(""), "ж", "ध", "ि");
  const valid = fc.array(roomChars, { minLength: 1, maxLength: MAX_ROOM_CHARS }).map((chars) => `#${chars.join("")}`).filter((room) => roomProblem(room) === undefined);
  fc.assert(
    fc.property(valid, fc.boolean(), (room, isPrivate) => {
      const enter = parseCommand(`/join ${room}${isPrivate ? " private" : ""}`);
      const bare = parseCommand(`/entrar ${room.slice(1)}`);
      return (
        enter.kind === "enter" && enter.room === room && enter.private === isPrivate &&
        bare.kind === "enter" && bare.room === room &&
        (parseCommand(`/room ${room}`) as { room?: string }).room === room &&
        (parseCommand(`/part ${room}`) as { room?: string }).room === room &&
        (parseCommand(`/who ${room}`) as { room?: string }).room === room
      );
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", minLength: 1 }), (typed) => {
      const word = typed.trim().split(/\s+/)[0] ?? "";
      const command = parseCommand(`/join ${typed}`);
      if (word === "") return command.kind === "invalid" && command.problem === "room_missing";
      if (toRoomName(word) === undefined) return command.kind === "invalid" && command.problem === "room_invalid";
      return command.kind === "enter" || (command.kind === "invalid" && command.problem === "unexpected_text");
    }),
  );
});
