/**
 * The full screen's windows as a new user met them (issue 18, items 8 to
 * 11), through ink's test renderer against a real server.
 */
import { render } from "ink-testing-library";
import t from "tap";
import stringWidth from "string-width";
import { ChatApp, ChatView } from "../client/view.js";
import { ChatClient } from "../client/connection.js";
import { TEXTS } from "../common/catalogue.js";
import { eventually, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

const en = TEXTS.en;
type Tester = import("tap").Test;

/** The full screen joined under `name`: its client, keys and what it shows. */
async function app(t: Tester, port: number, name: string, password?: string) {
  const client = new ChatClient({ port, password });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} name={name} />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  await eventually(() => new RegExp(`Welcome, ${name}!`).test(screen()), "the welcome");
  return { client, stdin, screen };
}

/** The conversation's rows (left of the sidebar). */
const conversation = (screen: string) => screen.split("\n").map((row) => row.split("│")[0] ?? "").join("\n");

t.test("a private message kept while away comes with an unread count; in the @name window the footer names that person (items 8, 9)", async (t) => {
  const { port } = (await testServer(t)).address;
  const first = new ChatClient({ port });
  t.teardown(() => first.close());
  await first.connect();
  await first.join("ana");
  await first.register("ana password");
  await first.quit();
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "chat", to: "ana", message: "read me later" });
  await bruno.drain();

  const { stdin, screen } = await app(t, port, "ana", "ana password");
  await eventually(() => /│ 2 @bruno \(1\)/.test(screen()), "the unread count of the kept message");
  stdin.write("\x1b2"); // Alt+2
  await eventually(() => /^@bruno — private conversation with bruno/m.test(screen()), "bruno's window");
  t.match(screen(), /read me later/);
  t.match(screen(), /^\[private to bruno\] \[subject: No subject\]/m, "not [to everyone]");
});

t.test("one's own private line goes to the @name window; /history in a room answers in that room, without [#room] tags (items 10, 11)", async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "enter", room: "#provas" });
  bruno.send({ type: "chat", room: "#provas", message: "first in provas" });
  await bruno.drain();
  const { stdin, screen } = await app(t, port, "ana");

  stdin.write("@bruno just between us\r");
  await eventually(() => /Private line sent: it is in window @bruno \(Alt\+2\)\./.test(screen()), "where it went, said where it was typed");
  t.notMatch(conversation(screen()), /just between us/, "not in the lobby's window");
  stdin.write("\x1b2"); // Alt+2
  await eventually(() => /^@bruno — private conversation with bruno/m.test(screen()), "the conversation's window");
  await eventually(() => /you → bruno \(private\) \[No subject\]: just between us/.test(screen()), "the line, taken, in it");
  stdin.write("\x1b1"); // Alt+1: the lobby
  await eventually(() => /^#general/m.test(screen()), "the lobby");

  stdin.write("/join #provas\r");
  await eventually(() => /^#provas — no topic/m.test(screen()) && /first in provas/.test(screen()), "#provas with its replay");
  t.notMatch(conversation(screen()), /\[#provas\]/, "no room tag in the room's own window");
  stdin.write("/historico\r");
  await eventually(() => /No older messages\./.test(conversation(screen())), "the answer in #provas's window");
  t.match(screen(), /^#provas — no topic/m, "still #provas");
  stdin.write("\x1b1");
  await eventually(() => /^#general/m.test(screen()), "the lobby");
  t.notMatch(conversation(screen()), /No older messages/, "not in the lobby's window");
});

t.test("the key hints fit the width, whole, with Ctrl+C quit, at 120 and 80 columns, in both languages (item 13)", async (t) => {
  for (const [lang, quit] of [["en", "Ctrl+C quit"], ["pt", "Ctrl+C sai"]] as const) {
    for (const columns of [120, 80]) {
      const props = { t: TEXTS[lang], address: "127.0.0.1:9999", self: "ana", lines: [], users: ["ana"], recipient: undefined, subject: "", input: "", status: { kind: "connected" as const }, scroll: 0, unread: 0, refusal: undefined, columns, rows: 24, windows: [{ title: "#general", unread: 0, active: true }] };
      const rows = (render(<ChatView {...props} />).lastFrame() ?? "").split("\n");
      const hints = rows[rows.length - 1]!;
      t.ok(stringWidth(hints) <= columns, `${lang} ${columns}: fits`);
      t.notMatch(hints, /…|\.\.\.$/, `${lang} ${columns}: no hint cut`);
      t.match(hints, new RegExp(`^Enter \\S+ · ${quit.replace("+", "\\+")} · `), `${lang} ${columns}: quitting is told`);
      t.match(hints, / · (Esc|PgUp)/, `${lang} ${columns}: more hints as room allows`);
    }
  }
});

t.test("/help at 80 columns: continuation rows stay under the description, not back at column 0 (item 14)", async (t) => {
  for (const lang of ["en", "pt"] as const) {
    const help = TEXTS[lang].help;
    const headings = new Set(help.split("\n").filter((line) => !line.startsWith(" ")));
    const props = { t: TEXTS[lang], address: "127.0.0.1:9999", self: "ana", lines: [{ kind: "info" as const, text: help }], users: ["ana"], recipient: undefined, subject: "", input: "", status: { kind: "connected" as const }, scroll: 0, unread: 0, refusal: undefined, columns: 80, rows: 60, windows: [{ title: "#general", unread: 0, active: true }] };
    const rows = conversation(render(<ChatView {...props} />).lastFrame() ?? "").split("\n").slice(2, -4).map((row) => row.trimEnd()).filter((row) => row !== "");
    t.ok(rows.length > help.split("\n").length, `${lang}: some lines wrap at 80 columns`);
    const astray = rows.filter((row) => !row.startsWith(" ") && !headings.has(row.trim()));
    t.same(astray.slice(0, 8), [], `${lang}: every row is a heading or indented`);
    const ban = rows.findIndex((row) => /\/(ban|banir) (name|nome)/.test(row) && !row.includes("(also /banir)") && !row.includes("(ou /ban)"));
    if (ban >= 0) t.match(rows[ban + 1], /^ {10,}\S/, `${lang}: the ban line's continuation is under its description`);
  }
});

t.test("full screen: /register refuses a short password at once (item 15)", async (t) => {
  const { port } = (await testServer(t)).address;
  const { stdin, screen } = await app(t, port, "bia");
  stdin.write("/register\r");
  await eventually(() => /New password \(at least 8 characters\): █/.test(screen()), "the first entry");
  stdin.write("short\r");
  await eventually(() => /Password too weak: use at least 8 characters\./.test(screen()), "said at once");
  t.notMatch(screen(), /The same password again/);
  t.match(screen(), /^> █/m, "back to the input");
});
