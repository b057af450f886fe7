/** The one command grammar: what each typed command asks the server for, the same from the terminal, the text port and the page. */
import t from "tap";
import { CASE_BLIND, COMMAND_WORDS, commandFields, HISTORY_PAGE, leavesLobby, parseCommand, parseLine, requestFields, type Where } from "../common/commands.js";
import { TEXTS } from "../common/catalogue.js";

const inLobby: Where = { room: "#general", subject: "" };
const inProvas: Where = { room: "#provas", subject: "Exams" };

t.test("each request is the frame the terminal client sends for it", async (t) => {
  const cases: Array<[string, Where, object]> = [
    ["hello", inLobby, { type: "chat", subject: "", message: "hello" }],
    ["hello", inProvas, { type: "chat", subject: "Exams", message: "hello", room: "#provas" }],
    ["@ana psst", inProvas, { type: "chat", subject: "Exams", message: "psst", to: "ana" }],
    ["/clientes", inProvas, { type: "list" }],
    ["/join #x", inLobby, { type: "enter", room: "#x" }],
    ["/entrar grupo privada", inLobby, { type: "enter", room: "#grupo", private: true }],
    ["/part", inProvas, { type: "part", room: "#provas" }],
    ["/deixar #x", inProvas, { type: "part", room: "#x" }],
    ["/salas", inLobby, { type: "rooms" }],
    ["/who", inLobby, { type: "list" }],
    ["/quem", inProvas, { type: "list", room: "#provas" }],
    ["/who #GENERAL", inProvas, { type: "list" }],
    ["/topic Friday", inProvas, { type: "topic", room: "#provas", topic: "Friday" }],
    ["/topico", inProvas, { type: "topic", room: "#provas", topic: "" }],
    ["/kick bruno flooding", inProvas, { type: "kick", room: "#provas", target: "bruno", reason: "flooding" }],
    ["/silenciar @bruno", inProvas, { type: "mute", room: "#provas", target: "bruno" }],
    ["/op ana", inProvas, { type: "op", room: "#provas", target: "ana" }],
    ["/convidar carla", inProvas, { type: "invite", room: "#provas", target: "carla" }],
    ["/amigo ana", inLobby, { type: "friend", target: "ana" }],
    ["/unfriend ana", inLobby, { type: "unfriend", target: "ana" }],
    ["/friends", inLobby, { type: "friends" }],
    ["/history", inProvas, { type: "history", room: "#general", limit: HISTORY_PAGE }],
    ["/historico", { ...inLobby, before: "42" }, { type: "history", room: "#general", limit: HISTORY_PAGE, before: "42" }],
    ["/registrar long enough", inLobby, { type: "register", password: "long enough" }],
  ];
  for (const [typed, where, frame] of cases) {
    t.strictSame(commandFields(parseCommand(typed), where), frame, `${typed} in ${where.room}`);
    t.strictSame(requestFields(parseLine(typed, []), where), frame, `${typed} in ${where.room}, as the page compares names`);
  }
});

t.test("what an interface does itself asks the server nothing", async (t) => {
  for (const typed of ["/room #provas", "/assunto Provas", "/ajuda", "/sair", "/register", "", "/xyz", "@"]) {
    t.equal(commandFields(parseCommand(typed), inLobby), undefined, typed);
  }
});

t.test("/register takes the password typed after it, or asks for it", async (t) => {
  t.same(parseCommand("/register"), { kind: "register" });
  t.same(parseCommand("/registrar  correct horse "), { kind: "register", password: "correct horse" });
});

t.test("leaving the lobby is refused before asking, however it is spelled", async (t) => {
  t.ok(leavesLobby(parseCommand("/part"), inLobby));
  t.ok(leavesLobby(parseCommand("/deixar #General"), inProvas));
  t.notOk(leavesLobby(parseCommand("/part"), inProvas));
  t.notOk(leavesLobby(parseCommand("/who"), inLobby));
});

t.test("the page's grammar (names compared without case) reads lines as the terminal's does", async (t) => {
  const online = ["Ana", "bruno"];
  for (const typed of ["/ana hi", "/BRUNO hi", "/zed hi", "@carla oi", "/join #x", "/kick ana now", "//etc", "text"]) {
    t.same(parseLine(typed, online, CASE_BLIND), parseCommand(typed, online), typed);
  }
});

/** The command words a help text shows: `/word` at a line's start, after "also", "ou", a comma or a column gap. */
function helpWords(help: string): Set<string> {
  return new Set([...help.matchAll(/(?:^|\s|\()\/([a-záéíóúãç?]+)/gimu)].map((m) => m[1]!.toLowerCase()));
}

t.test("the help in each language, the terminal's and the text port's, lists every command word the grammar accepts, and no other", async (t) => {
  const accepted = new Set<string>(Object.values(COMMAND_WORDS).flat().filter((word) => word !== "?" && word !== "histórico" && word !== "tópico"));
  for (const lang of ["en", "pt"] as const) {
    for (const which of ["help", "textHelp"] as const) {
      const listed = helpWords(TEXTS[lang][which]);
      const refused = [...listed].filter((word) => !accepted.has(word) && !["name", "nome", "text", "texto"].includes(word));
      t.same(refused, [], `${lang} ${which}: no word the grammar refuses`);
      t.same([...accepted].filter((word) => !listed.has(word)), [], `${lang} ${which}: every command word`);
    }
  }
});

t.test("/enter and /leave, which the text port always read, are aliases of /join and /part everywhere", async (t) => {
  t.same(parseCommand("/enter #x"), { kind: "enter", room: "#x", private: false });
  t.same(parseCommand("/leave"), { kind: "part", room: undefined });
});
