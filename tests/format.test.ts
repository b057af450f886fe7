import t from "tap";
import { detectLang, LEAVE_REASONS, TEXTS } from "../common/catalogue.js";
import { chatLine, clock, describe, errorText, inputProblemText, isUtf8Locale, sanitize, toAscii, when } from "../common/format.js";
import { ERROR_CODES, Message, type LeaveReason } from "../protocol.js";

const en = TEXTS.en;
const pt = TEXTS.pt;
const at = "2026-01-02T03:04:05.000Z";

t.test("language: --lang wins, then LANG or LC_ALL starting with pt", async (t) => {
  t.equal(detectLang(undefined, { LANG: "pt_BR.UTF-8" }), "pt");
  t.equal(detectLang(undefined, { LC_ALL: "pt_PT" }), "pt");
  t.equal(detectLang(undefined, { LANG: "en_US.UTF-8" }), "en");
  t.equal(detectLang(undefined, {}), "en");
  t.equal(detectLang("en", { LANG: "pt_BR" }), "en");
  t.equal(detectLang("pt", {}), "pt");
});

t.test("chat lines show time, sender, subject or its default, and privacy", async (t) => {
  const time = clock(at);
  t.match(time, /^\d\d:\d\d:\d\d$/);
  const broadcast = new Message({ type: "chat", client_name: "ana", message: "oi", date: at });
  t.same(chatLine(broadcast, "bruno", en), { kind: "chat", text: `[${time}] ana [No subject]: oi` });
  t.same(chatLine(broadcast, "bruno", pt), { kind: "chat", text: `[${time}] ana [Sem Assunto]: oi` });
  const withSubject = new Message({ type: "chat", client_name: "ana", subject: "Provas", message: "a\nb", date: at });
  t.equal(chatLine(withSubject, "bruno", en).text, `[${time}] ana [Provas]: a\n    b`, "continuation lines are indented");
  const secret = new Message({ type: "chat", client_name: "ana", to: "bruno", message: "psst", date: at });
  t.same(chatLine(secret, "bruno", en), { kind: "private", text: `[${time}] ana → you (private) [No subject]: psst` });
  t.same(chatLine(secret, "ana", en), { kind: "own", text: `[${time}] you → bruno (private) [No subject]: psst` });
});

t.test("notices, lists and errors read as sentences", async (t) => {
  const time = clock(at);
  t.equal(describe(new Message({ type: "join", client_name: "ana", date: at }), "x", en)?.text, `[${time}] *** ana joined`);
  t.equal(describe(new Message({ type: "leave", client_name: "ana", reason: "lost", date: at }), "x", en)?.text, `[${time}] *** ana left (connection lost)`);
  t.equal(describe(new Message({ type: "leave", client_name: "ana", reason: "quit", date: at }), "x", pt)?.text, `[${time}] *** ana saiu do chat`);
  t.equal(describe(new Message({ type: "leave", client_name: "ana", reason: "timeout", date: at }), "x", pt)?.text, `[${time}] *** ana saiu (tempo esgotado)`);
  t.equal(describe(new Message({ type: "list", users: ["a", "b"] }), "x", en)?.text, "Online (2): a, b");
  t.same(describe(new Message({ type: "error", code: "unknown_recipient", message: 'No user named "zed" is online' }), "x", en), {
    kind: "error",
    text: "Not delivered: the recipient is not online.",
  });
  t.equal(describe(new Message({ type: "error", code: "bad_json", message: "oops" }), "x", en)?.text, "The server could not read a message from this client.");
  t.equal(describe(new Message({ type: "error", code: "new_code", message: "Something new" }), "x", pt)?.text, "Erro: Something new", "the server's sentence only for unknown codes");
  t.equal(describe(new Message({ type: "pong" }), "x", en), undefined, "a pong shows nothing");
});

t.test("text from peers cannot drive the terminal", async (t) => {
  t.equal(sanitize("a\x1b[2Jb\rc\x07d\u202eе"), "a[2Jbcdе");
  t.equal(sanitize("tab\tand\nnewline"), "tab\tand\nnewline");
  const hostile = new Message({ type: "chat", client_name: "x\x1b]0;pwned\x07", message: "\x1b[31mred", date: at });
  t.notMatch(chatLine(hostile, "y", en).text, /\x1b/);
});

t.test("an unreadable date shows the current time", async (t) => {
  t.equal(clock("31/12/2024 10:00:00", new Date(2020, 0, 1, 9, 8, 7)), "09:08:07");
});

t.test("every error code and leave reason has English and Portuguese words of its own", async (t) => {
  const reasons: LeaveReason[] = ["quit", "lost", "kicked", "banned", "part", "slow", "shutdown", "protocol_error", "timeout"];
  for (const code of ERROR_CODES) {
    const context = { detail: "SERVER SENTENCE", to: "bruno", name: "ana" };
    const english = errorText(code, context, en);
    const portuguese = errorText(code, context, pt);
    t.notMatch(english, /SERVER SENTENCE/, `${code}: not the server's sentence`);
    t.notMatch(portuguese, /SERVER SENTENCE/, `${code}: not the server's sentence (pt)`);
    t.not(english, portuguese, `${code}: translated`);
  }
  for (const reason of reasons) {
    const leave = new Message({ type: "leave", client_name: "ana", reason, date: at });
    const english = describe(leave, "x", en)!.text;
    const portuguese = describe(leave, "x", pt)!.text;
    t.ok(LEAVE_REASONS.includes(reason), `${reason}: has words of its own`);
    t.not(portuguese.replace(/^\[[^\]]*\] /, ""), english.replace(/^\[[^\]]*\] /, ""), `${reason}: translated`);
    t.notMatch(portuguese, /\b(left|quit|lost|kicked|banned|timeout|timed out)\b/, `${reason}: no English in Portuguese`);
  }
  t.equal(errorText("unknown_recipient", { detail: "x", to: "bruno" }, pt), "Não entregue: bruno não está conectado(a).");
  t.equal(errorText("name_invalid", { detail: "x", name: "ana maria" }, pt), 'Um nome não pode ter espaços: "ana maria"');
  t.equal(errorText("brand_new", { detail: "A new sentence" }, pt), "Erro: A new sentence", "an unknown code falls back to the server's sentence");
});

t.test("history lines are dated when not from today and dimmed", async (t) => {
  const now = new Date(2026, 5, 10, 12, 0, 0);
  const old = new Message({ type: "chat", client_name: "bruno", message: "hi", history: true, id: "7", date: new Date(2026, 5, 9, 8, 7, 6).toISOString() });
  t.same(chatLine(old, "ana", en, now), { kind: "chat", text: "[2026-06-09 08:07:06] bruno [No subject]: hi", dim: true, id: "7" });
  const today = new Message({ type: "chat", client_name: "bruno", message: "hi", history: true, date: new Date(2026, 5, 10, 8, 7, 6).toISOString() });
  t.equal(chatLine(today, "ana", en, now).text, "[08:07:06] bruno [No subject]: hi");
  t.equal(when(old.date, false, now), "08:07:06", "live lines keep the time alone");
});

t.test("ASCII outside a UTF-8 locale", async (t) => {
  t.ok(isUtf8Locale({ LANG: "pt_BR.UTF-8" }));
  t.ok(isUtf8Locale({ LC_ALL: "en_US.utf8", LANG: "C" }));
  t.notOk(isUtf8Locale({ LANG: "C" }));
  t.notOk(isUtf8Locale({}));
  t.notOk(isUtf8Locale({ LC_ALL: "C", LANG: "en_US.UTF-8" }), "LC_ALL wins");
  t.equal(toAscii("▸ bruno → you … ↓ 2 new · — earlier —"), "> bruno -> you ... v 2 new | -- earlier --");
  t.equal(toAscii("olá 漢字"), "olá 漢字", "what people write is left alone");
});

t.test("room lines: a chat of another room says its room; the current room's and private ones do not", async (t) => {
  const time = clock(at);
  const inProvas = new Message({ type: "chat", client_name: "ana", message: "oi", date: at, room: "#provas" });
  t.equal(describe(inProvas, "bruno", pt, "#general")!.text, `[#provas] [${time}] ana [Sem Assunto]: oi`);
  t.equal(describe(inProvas, "bruno", pt, "#PROVAS")!.text, `[${time}] ana [Sem Assunto]: oi`, "rooms compared without case");
  const lobby = new Message({ type: "chat", client_name: "ana", message: "oi", date: at, room: "#general" });
  t.equal(describe(lobby, "bruno", en, "#provas")!.text, `[#general] [${time}] ana [No subject]: oi`);
  t.equal(describe(lobby, "bruno", en)!.text, `[${time}] ana [No subject]: oi`, "the lobby is the default current room");
  const v1 = new Message({ type: "chat", client_name: "ana", message: "oi", date: at });
  t.equal(describe(v1, "bruno", en, "#provas")!.text, `[${time}] ana [No subject]: oi`, "a version 1 chat has no room to show");
});

t.test("rooms, moderation, topics, friends and presence in words, English and Portuguese, by type and fields", async (t) => {
  const time = clock(at);
  const frame = (fields: ConstructorParameters<typeof Message>[0]) => new Message({ date: at, message: "the server's sentence, never shown", ...fields });
  const says = (msg: Message, self: string, lang: typeof en) => describe(msg, self, lang)!.text;
  const entered = frame({ type: "entered", room: "#provas", users: ["ana", "bruno"], operators: ["ana"], owner: "ana", topic: "Exam" });
  t.equal(says(entered, "bruno", en), "You are in #provas, topic: Exam. Members (2): @ana, bruno");
  t.equal(says(entered, "bruno", pt), "Você está em #provas, tópico: Exam. Membros (2): @ana, bruno");
  t.equal(says(frame({ type: "entered", room: "#grupo", users: ["ana"], owner: "ana", private: true }), "ana", pt), "Você está em #grupo (grupo privado). Membros (1): @ana");
  t.equal(says(frame({ type: "parted", room: "#provas" }), "ana", pt), "Você saiu de #provas.");
  t.equal(says(frame({ type: "join", client_name: "carla", room: "#provas" }), "ana", en), `[${time}] *** carla entered #provas`);
  t.equal(says(frame({ type: "leave", client_name: "carla", room: "#provas", reason: "part" }), "ana", pt), `[${time}] *** carla saiu de #provas`);
  t.equal(says(frame({ type: "list", room: "#provas", users: ["ana", "bruno"], operators: ["bruno"] }), "ana", en), "#provas (2): ana, @bruno");
  const rooms = frame({ type: "rooms", rooms: [{ room: "#general", members: 3, topic: "", private: false }, { room: "#grupo", members: 2, topic: "nosso", private: true }] });
  t.equal(says(rooms, "ana", en), "Rooms: #general (3), #grupo (2) private: nosso");
  t.equal(says(rooms, "ana", pt), "Salas: #general (3), #grupo (2) privada: nosso");
  t.equal(says(frame({ type: "topic", client_name: "ana", room: "#provas", topic: "Prova sexta" }), "bruno", pt), `[${time}] *** ana mudou o tópico de #provas: Prova sexta`);
  t.equal(says(frame({ type: "topic", client_name: "ana", room: "#provas", topic: "" }), "ana", en), `[${time}] *** you cleared the topic of #provas`);

  const kick = frame({ type: "kick", client_name: "ana", room: "#provas", target: "bruno", reason: "spam" });
  t.same(describe(kick, "bruno", en), { kind: "error", text: `[${time}] ana kicked you out of #provas (reason: spam)` }, "about oneself: in red");
  t.same(describe(kick, "carla", pt), { kind: "notice", text: `[${time}] ana expulsou bruno de #provas (motivo: spam)` });
  const expected = {
    ban: ["ana banned bruno from #provas", "ana baniu bruno de #provas"],
    unban: ["ana lifted the ban on bruno in #provas", "ana desbaniu bruno de #provas"],
    mute: ["ana muted bruno in #provas", "ana silenciou bruno em #provas"],
    unmute: ["ana unmuted bruno in #provas", "ana liberou bruno em #provas"],
    op: ["ana made bruno an operator of #provas", "ana tornou bruno operador(a) de #provas"],
    deop: ["ana removed bruno as operator of #provas", "ana tirou bruno de operador(a) de #provas"],
    invite: ["ana invited bruno to #provas: /join #provas", "ana convidou bruno para #provas: /entrar #provas"],
  };
  for (const [type, [english, portuguese]] of Object.entries(expected)) {
    const msg = frame({ type: type as "ban", client_name: "ana", room: "#provas", target: "bruno" });
    t.equal(says(msg, "carla", en), `[${time}] ${english}`, type);
    t.equal(says(msg, "carla", pt), `[${time}] ${portuguese}`, type);
  }

  t.equal(says(frame({ type: "friend", client_name: "ana", target: "bruno", status: "requested" }), "bruno", en), `[${time}] ana wants to be your friend: /friend ana to accept.`);
  t.equal(says(frame({ type: "friend", client_name: "ana", target: "bruno", status: "requested" }), "ana", pt), `[${time}] Pedido de amizade enviado para bruno.`);
  t.equal(says(frame({ type: "friend", client_name: "bruno", target: "ana", status: "accepted" }), "ana", pt), `[${time}] Você e bruno agora são amigos.`);
  t.equal(says(frame({ type: "friend", client_name: "ana", target: "bruno", status: "removed" }), "ana", en), `[${time}] You and bruno are no longer friends.`);
  const friends = frame({ type: "friends", friends: [{ client_name: "bruno", online: true }, { client_name: "carla", online: false }], requests: ["dora"] });
  t.equal(says(friends, "ana", en), "Friends: bruno (online), carla (offline). Asking you: dora");
  t.equal(says(frame({ type: "friends", friends: [], requests: [] }), "ana", pt), "Amigos: nenhum ainda");
  t.equal(says(frame({ type: "presence", client_name: "bruno", online: true }), "ana", pt), `[${time}] *** bruno está online`);
  t.equal(says(frame({ type: "presence", client_name: "bruno", online: false }), "ana", en), `[${time}] *** bruno went offline`);
});

t.test("every new input problem has a sentence in both languages", async (t) => {
  for (const lang of [en, pt]) {
    for (const problem of ["room_missing", "room_invalid", "target_missing", "unexpected_text"] as const) {
      t.ok(inputProblemText(problem, "/join", lang).length > 0, problem);
    }
  }
  t.equal(inputProblemText("room_invalid", "#", en), 'Not a room name: "#". A room is # then 1 to 32 letters, digits, _ or -.');
});
