import t from "tap";
import { chatLine, clock, describe, detectLang, sanitize, TEXTS } from "../format.js";
import { Message } from "../protocol.js";

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
