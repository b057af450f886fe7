import { render } from "ink-testing-library";
import t from "tap";
import { ChatApp, ChatView, inputText, type ChatViewProps } from "../client/view.js";
import { ChatClient } from "../client/connection.js";
import { TEXTS } from "../common/catalogue.js";
import { FakeServer, welcome } from "./helpers/fake-server.js";
import { eventually, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

const en = TEXTS.en;

function props(overrides: Partial<ChatViewProps> = {}): ChatViewProps {
  return {
    t: en,
    address: "127.0.0.1:9999",
    self: "ana",
    lines: [],
    users: ["ana", "bruno", "carla"],
    recipient: undefined,
    subject: "",
    input: "",
    status: { kind: "connected" },
    scroll: 0,
    unread: 0,
    refusal: undefined,
    columns: 100,
    rows: 20,
    ...overrides,
  };
}

const frame = (p: ChatViewProps) => render(<ChatView {...p} />).lastFrame() ?? "";

t.test("the name screen explains the rules and shows why a name was refused", async (t) => {
  const screen = frame(props({ self: undefined, refusal: 'The name "ana" is already in use', input: "an" }));
  t.match(screen, /Chat: choose your name/);
  t.match(screen, /1 to 32 letters, digits or _, no spaces/);
  t.match(screen, /Name refused: The name "ana" is already in use\. Try another\./);
  t.match(screen, /Your name: an█/);
  t.match(screen, /Connected to 127\.0\.0\.1:9999(?! as)/);
});

t.test("the conversation: lines, sidebar, recipient, subject, status", async (t) => {
  const screen = frame(
    props({
      lines: [
        { kind: "chat", text: "[10:00:00] bruno [No subject]: hello\n    second line" },
        { kind: "private", text: "[10:00:01] bruno → you (private) [No subject]: psst" },
        { kind: "notice", text: "[10:00:02] *** carla joined" },
      ],
      recipient: "bruno",
      subject: "Provas",
      input: "typing",
    }),
  );
  t.match(screen, /Connected to 127\.0\.0\.1:9999 as ana/);
  t.match(screen, /bruno \[No subject\]: hello\s+│ Online \(3\)/);
  t.match(screen, /^ {4}second line/m, "a multi-line message shows as lines");
  t.match(screen, /bruno → you \(private\)/);
  t.match(screen, /\*\*\* carla joined/);
  t.match(screen, /│ ▸ bruno/, "the chosen recipient is marked in the sidebar");
  t.match(screen, /\[private to bruno\] \[subject: Provas\]/);
  t.match(screen, /> typing█/);
  t.match(screen, /Tab recipient/);
  t.match(frame(props()), /\[to everyone\] \[subject: No subject\]/);
});

t.test("the status line counts down while reconnecting, and shows the last error", async (t) => {
  t.match(frame(props({ status: { kind: "reconnecting", seconds: 4, attempt: 3 } })), /Connection lost: reconnecting in 4 s \(attempt 3\)/);
  t.match(frame(props({ status: { kind: "error", text: 'Not delivered: No user named "zed" is online.' } })), /Not delivered: No user named "zed"/);
});

t.test("scrolled up, older lines show and a marker counts what is below", async (t) => {
  const lines = Array.from({ length: 50 }, (_, i) => ({ kind: "chat" as const, text: `message ${i}` }));
  const bottom = frame(props({ lines }));
  t.match(bottom, /message 49/);
  const up = frame(props({ lines, scroll: 20, unread: 3 }));
  t.notMatch(up, /message 49/);
  t.match(up, /message 29/);
  t.match(up, /↓ 3 new below: PgDn/);
  const top = frame(props({ lines, scroll: 1000 }));
  t.match(top, /message 0\b/, "scrolling stops at the oldest line");
  t.match(top, /message 14\b/, "with the window still full");
  t.match(top, /↓ scrolled back: PgDn to return/);
});

t.test("in Portuguese", async (t) => {
  const screen = frame(props({ t: TEXTS.pt, status: { kind: "reconnecting", seconds: 2, attempt: 1 } }));
  t.match(screen, /reconectando em 2 s \(tentativa 1\)/);
  t.match(screen, /\[para todos\] \[assunto: Sem Assunto\]/);
});

t.test("the app against a real server: name, messages, sidebar recipient, history", async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const client = new ChatClient({ port });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";

  await eventually(() => /Your name:/.test(screen()), "the name screen");
  stdin.write("bruno\r");
  await eventually(() => /already in use/.test(screen()), "the refusal");
  stdin.write("ana\r");
  await eventually(() => /Welcome, ana!/.test(screen()), "the welcome");
  t.match(screen(), /Online \(2\)/);
  t.match(await bruno.next(), { type: "join", client_name: "ana" });

  bruno.send({ type: "chat", message: "hi ana" });
  await eventually(() => /bruno \[No subject\]: hi ana/.test(screen()), "bruno's message");

  stdin.write("\t"); // the next name in the sidebar: bruno
  await eventually(() => /\[private to bruno\]/.test(screen()), "bruno chosen");
  stdin.write("just for you\r");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", to: "bruno", message: "just for you" });

  stdin.write("\x1b"); // Esc: everyone again
  await eventually(() => /\[to everyone\]/.test(screen()), "everyone again");
  stdin.write("for all\r");
  let msg = await bruno.next();
  while (msg.type !== "chat") msg = await bruno.next();
  t.match(msg, { message: "for all" });
  t.notOk("to" in JSON.parse(JSON.stringify(msg)));

  stdin.write("\x1b[A"); // Up: the last line typed
  await eventually(() => /> for all█/.test(screen()), "history");
  stdin.write("\x0c"); // Ctrl+L clears
  await eventually(() => /> █/.test(screen()), "cleared");

  const carla = await Peer.joined(t, port, "carla");
  await eventually(() => /Online \(3\)/.test(screen()) && /\*\*\* carla joined/.test(screen()), "carla in the sidebar");
  carla.socket.destroy();
  await eventually(() => /Online \(2\)/.test(screen()) && /carla left \(connection lost\)/.test(screen()), "carla gone");
});

t.test("a long input line scrolls sideways: its end, where one types, stays in view", async (t) => {
  const screen = frame(props({ input: `${"x".repeat(300)}THE END` }));
  const inputRow = screen.split("\n").find((row) => row.startsWith("> ")) ?? "";
  t.match(inputRow, /^> x+THE END█$/);
  t.notMatch(inputRow, /…/, "not cut with an ellipsis");
  t.equal(inputText("漢字漢字", 5, false), "漢字", "by terminal columns");
  t.equal(inputText("one\ntwo", 20, false), "one↵two", "a pasted line break shows as ↵");
  t.equal(inputText("secret", 20, true), "••••••", "a password is masked");
});

t.test("40 wide characters show whole, wrapped by columns", async (t) => {
  const text = `${"漢字".repeat(40)}END`;
  const screen = frame(props({ lines: [{ kind: "chat", text }] }));
  t.equal(screen.match(/漢字/g)?.length, 40, "nothing of the line is lost");
  t.match(screen, /漢字END/);
});

t.test("one's own line is marked while pending; history is dimmed under its header", async (t) => {
  const screen = frame(
    props({
      lines: [
        { kind: "info", text: en.earlier, dim: true },
        { kind: "chat", text: "[2020-03-04 05:06:07] bruno [No subject]: long ago", dim: true },
        { kind: "own", text: "[10:00:00] you [No subject]: on its way", pending: "c1" },
        { kind: "error", text: '✗ "psst": Not delivered: bruno is not online.' },
      ],
    }),
  );
  t.match(screen, /— earlier messages —/);
  t.match(screen, /\[2020-03-04 05:06:07\] bruno/);
  t.match(screen, /you \[No subject\]: on its way {2}\(sending…\)/);
  t.match(screen, /✗ "psst": Not delivered: bruno is not online\./);
});

t.test("a chosen recipient who left stays chosen, shown in the sidebar", async (t) => {
  const screen = frame(props({ users: ["ana", "carla"], recipient: "bruno" }));
  t.match(screen, /\[private to bruno\]/);
  t.match(screen, /▸ bruno/);
});

t.test("outside a UTF-8 locale the screen is drawn in ASCII", async (t) => {
  const lines = [{ kind: "private" as const, text: "[10:00:00] bruno → you (private) [No subject]: hi" }];
  const screen = frame(props({ ascii: true, lines, recipient: "bruno", input: "typing", scroll: 0 }));
  t.notMatch(screen, /[▸→…╭╮╰╯│─█·↑↓]/u, "no symbol outside ASCII");
  t.match(screen, /bruno -> you \(private\)/);
  t.match(screen, /> bruno/);
  t.match(screen, /> typing_/);
  t.match(screen, /\|/, "the sidebar's border in ASCII");
  const nameScreen = frame(props({ ascii: true, self: undefined }));
  t.notMatch(nameScreen, /[╭╮╰╯│─█]/u);
  t.match(nameScreen, /\+-+/, "the name box in ASCII");
  t.match(frame(props({ ascii: true, lines: Array.from({ length: 40 }, (_, i) => ({ kind: "chat" as const, text: `m${i}` })), scroll: 5 })), /v scrolled back/);
});

t.test("Portuguese has its own words for every state of the screen", async (t) => {
  const lines = Array.from({ length: 40 }, (_, i) => ({ kind: "chat" as const, text: `m${i}` }));
  t.match(frame(props({ t: TEXTS.pt, lines, scroll: 5, unread: 1 })), /↓ 1 mensagem nova abaixo: PgDn/);
  t.match(frame(props({ t: TEXTS.pt, lines, scroll: 5, unread: 3 })), /↓ 3 mensagens novas abaixo: PgDn/);
  t.match(frame(props({ t: TEXTS.pt, lines, scroll: 5, unread: 0 })), /↓ rolado para trás: PgDn para voltar/);
});

t.test("the app: a recipient who leaves stays chosen and nothing reaches the others; pastes; errors that clear", async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const carla = await Peer.joined(t, port, "carla");
  const client = new ChatClient({ port });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} name="ana" />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  await eventually(() => /Online \(3\)/.test(screen()), "the sidebar");
  await bruno.drain();
  await carla.drain();

  stdin.write("\t");
  await eventually(() => /\[private to bruno\]/.test(screen()), "bruno chosen");
  bruno.socket.destroy();
  await eventually(() => /bruno left/.test(screen()), "bruno gone");
  t.match(screen(), /\[private to bruno\]/, "still chosen");
  stdin.write("bruno, my secret is 1234\r");
  await eventually(() => /Not delivered: bruno is not online\./.test(screen()), "the refusal");
  t.same((await carla.drain()).filter((m) => m.type === "chat"), [], "carla got nothing");

  stdin.write("\x1b"); // everyone again
  await eventually(() => /\[to everyone\]/.test(screen()), "everyone again");
  stdin.write("line one\rline two\r");
  let msg = await carla.next();
  while (msg.type !== "chat") msg = await carla.next();
  t.equal(msg.message, "line one\nline two", "a paste is one message");

  stdin.write("/xyz hi\r");
  await eventually(() => /Unknown command \/xyz\. Type \/help\./.test(screen().split("\n")[0] ?? ""), "the error on the status line");
  stdin.write("a");
  await eventually(() => /Connected to .* as ana/.test(screen().split("\n")[0] ?? ""), "the error cleared by the next key");

  stdin.write("\x7f@CARLA psst\r");
  await eventually(() => /Private line sent: it is in window @carla \(Alt\+3\)\./.test(screen()), "where the line went");
  stdin.write("\x1b3"); // Alt+3: the conversation's window, named as the server knows carla
  await eventually(() => /you → carla \(private\) \[No subject\]: psst/.test(screen()), "the private echo with the name as the server knows it");
});

t.test("the app: a name refused on rejoining goes back to the name screen; PgUp past the oldest line fetches older ones", async (t) => {
  const fake = await FakeServer.start(t);
  const client = new ChatClient({ port: fake.port, reconnectDelayMs: 1 });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} name="ana" />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  const first = await fake.connection(0);
  await first.next("join");
  first.send(welcome("ana"));
  first.send({ type: "chat", client_name: "bruno", message: "second oldest", room: "#general", history: true, id: "00000010" });
  first.send({ type: "history", room: "#general", count: 1, more: true });
  await eventually(() => /second oldest/.test(screen()), "the replay");
  t.match(screen(), /— earlier messages —/);

  stdin.write("\x1b[5~"); // PgUp: everything fits, so this is past the oldest line
  const ask = await first.next("history");
  t.match(ask, { room: "#general", before: "00000010" });
  first.send({ type: "chat", client_name: "bruno", message: "the very first", room: "#general", history: true, id: "00000001", ref: ask.ref! });
  first.send({ type: "history", room: "#general", count: 1, more: false, ref: ask.ref! });
  await eventually(() => /the very first/.test(screen()), "the older page");
  const rows = screen().split("\n");
  t.ok(rows.findIndex((r) => r.includes("the very first")) < rows.findIndex((r) => r.includes("second oldest")), "older lines on top");
  t.equal(screen().match(/— earlier messages —/g)?.length, 1, "under the same header");
  t.notMatch(screen(), /older messages: \/history/, "the hint to fetch more is gone once used");

  first.socket.destroy();
  const second = await fake.connection(1);
  await second.next("join");
  second.send({ type: "error", code: "name_taken", message: 'The name "ana" is already in use' });
  await eventually(() => /Chat: choose your name/.test(screen()), "the name screen");
  t.match(screen(), /Name refused: The name "ana" is already in use\. Try another\./);
  stdin.write("ana2\r");
  t.match(await second.next("join"), { client_name: "ana2" });
  second.send(welcome("ana2"));
  await eventually(() => /Connected to .* as ana2/.test(screen()), "joined again under another name");
});

t.test("the app: a registered name asks for its password, masked; a wrong one says so; Esc goes back to choosing a name", async (t) => {
  const fake = await FakeServer.start(t);
  const client = new ChatClient({ port: fake.port });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} name="ana" />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  const conn = await fake.connection(0);
  await conn.next("join");
  conn.send({ type: "error", code: "password_required", message: "registered" });
  await eventually(() => /The name ana is registered: type its password/.test(screen()), "the password screen");
  stdin.write("hunter22");
  await eventually(() => /Password for ana: ••••••••█/.test(screen()), "the masked password");
  t.notMatch(screen(), /hunter22/);
  stdin.write("\r");
  t.match(await conn.next("join"), { client_name: "ana", password: "hunter22" });
  conn.send({ type: "error", code: "bad_password", message: "Wrong password" });
  await eventually(() => /Wrong password/.test(screen()), "the refusal");
  stdin.write("\x1b");
  await eventually(() => /Chat: choose your name/.test(screen()), "back to the name");
  stdin.write("bia\r");
  t.match(await conn.next("join"), { client_name: "bia" });
  conn.send(welcome("bia"));
  await eventually(() => /Welcome/.test(screen()), "joined");
});

const provas = { name: "#provas", users: ["ana", "bruno", "carla"], operators: ["ana"], owner: "ana", topic: "Prova sexta", private: false };

t.test("windows: the list with unread counts, the room's topic in the header, members with operators marked, friends", async (t) => {
  const screen = frame(
    props({
      lines: [{ kind: "chat", text: "[10:00:00] bruno [No subject]: oi" }],
      windows: [
        { title: "#general", unread: 4, active: false },
        { title: "#provas", unread: 0, active: true },
        { title: "@carla", unread: 1, active: false },
        { title: "#velha", unread: 0, active: false, gone: true },
      ],
      room: provas,
      friends: [{ client_name: "bruno", online: true }, { client_name: "dora", online: false }],
      rows: 24,
    }),
  );
  t.match(screen, /^#provas — Prova sexta/m, "the header: room and topic");
  t.match(screen, /│ Windows/);
  t.match(screen, /│ 1 #general \(4\)/, "unread count of a window not shown");
  t.match(screen, /│ 2 #provas\s*$/m);
  t.match(screen, /│ 3 @carla \(1\)/);
  t.match(screen, /│ Members \(3\)/);
  t.match(screen, /│  @ana/, "the operator marked @");
  t.match(screen, /│   bruno/);
  t.match(screen, /│ Friends/);
  t.match(screen, /│  ● bruno/);
  t.match(screen, /│  ○ dora/);
  t.match(screen, /Alt\+1\.\.9 window/, "the keys in the help line");
  t.match(screen, /^\[to #provas\] /m, "a line typed here goes to the shown room, and the footer says so");
  const pt = frame(props({ t: TEXTS.pt, windows: [{ title: "@carla", unread: 0, active: true }], peer: "carla" }));
  t.match(pt, /^@carla — conversa privada com carla/m);
  t.match(pt, /│ Janelas/);
  t.match(pt, /Alt\+1\.\.9 janela/);
  const group = frame(props({ windows: [{ title: "#grupo", unread: 0, active: true }], room: { ...provas, name: "#grupo", topic: "", private: true } }));
  t.match(group, /^#grupo \(private\) — no topic/m);
});

t.test("windowFor routes frames: private chats by the other person, rooms by name, the lobby's joins to the lobby", async (t) => {
  const { windowFor, windowKey } = await import("../client/view.js");
  const { Message } = await import("../protocol.js");
  t.equal(windowFor(new Message({ type: "chat", client_name: "bruno", to: "ana", message: "x" }), "ana"), "@bruno");
  t.equal(windowFor(new Message({ type: "chat", client_name: "ana", to: "Bruno", message: "x" }), "ana"), "@bruno", "one's own echo: the recipient's window");
  t.equal(windowFor(new Message({ type: "chat", client_name: "bruno", room: "#Provas", message: "x" }), "ana"), "#provas");
  t.equal(windowFor(new Message({ type: "kick", client_name: "ana", room: "#provas", target: "bruno" }), "ana"), "#provas");
  t.equal(windowFor(new Message({ type: "join", client_name: "bruno" }), "ana"), "#general");
  t.equal(windowFor(new Message({ type: "friends" }), "ana"), undefined, "answers go to the shown window");
  const none = { ctrl: false, meta: false };
  t.equal(windowKey("2", { ...none, meta: true }, 3, 0), 1, "Alt+2");
  t.equal(windowKey("9", { ...none, meta: true }, 3, 0), undefined, "no ninth window");
  t.equal(windowKey("n", { ...none, ctrl: true }, 3, 2), 0, "Ctrl+N wraps around");
  t.equal(windowKey("p", { ...none, ctrl: true }, 3, 0), 2, "Ctrl+P wraps around");
  t.equal(windowKey("2", none, 3, 0), undefined, "a digit typed is text");
});

t.test("the app: /join opens a room's window, lines go to their windows with unread counts, Alt+n and Ctrl+N switch, sending follows the window", async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const client = new ChatClient({ port });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} name="ana" />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  await eventually(() => /Welcome, ana!/.test(screen()), "the welcome");
  stdin.write("/join #provas\r");
  await eventually(() => /^#provas — no topic/m.test(screen()), "the room's window shown");
  t.match(screen(), /│ 2 #provas/);
  t.match(screen(), /│  @ana/, "ana is its operator");
  bruno.send({ type: "enter", room: "#provas" });
  await eventually(() => /\*\*\* bruno entered #provas/.test(screen()) && /│   bruno/.test(screen()), "bruno in the room");

  stdin.write("/topic Prova sexta\r");
  await eventually(() => /^#provas — Prova sexta/m.test(screen()), "the topic in the header");
  stdin.write("hello room\r");
  let msg = await bruno.next();
  while (msg.type !== "chat") msg = await bruno.next();
  t.match(msg, { room: "#provas", message: "hello room" }, "a line in a room's window goes to that room");

  bruno.send({ type: "chat", message: "in the lobby" });
  bruno.send({ type: "chat", message: "psst", to: "ana" });
  await eventually(() => /│ 1 #general \(1\)/.test(screen()) && /│ 3 @bruno \(1\)/.test(screen()), "unread counts");
  t.notMatch(screen(), /in the lobby/, "another window's line is not shown here");

  stdin.write("\x1b1"); // Alt+1
  await eventually(() => /in the lobby/.test(screen()) && /│ 1 #general\s*$/m.test(screen()), "the lobby shown, its count gone");
  stdin.write("lobby line\r");
  msg = await bruno.next();
  while (msg.type !== "chat") msg = await bruno.next();
  t.match(msg, { message: "lobby line" });
  t.equal(msg.room, "#general", "to the lobby");

  stdin.write("\x10"); // Ctrl+P: the previous window, wrapping to the last
  await eventually(() => /^@bruno — private conversation with bruno/m.test(screen()) && /psst/.test(screen()), "bruno's private window");
  stdin.write("just us\r");
  msg = await bruno.next();
  while (msg.type !== "chat") msg = await bruno.next();
  t.match(msg, { to: "bruno", message: "just us" }, "a line in a private window goes to that person");

  stdin.write("\x0e"); // Ctrl+N: wraps to the first
  await eventually(() => /^#general/m.test(screen()), "the lobby again");
  stdin.write("/room #provas\r");
  await eventually(() => /^#provas — Prova sexta/m.test(screen()), "/room shows the room's window");
  const dora = await Peer.joined(t, port, "dora");
  dora.send({ type: "enter", room: "#provas" });
  await eventually(() => /dora entered #provas/.test(screen()), "dora in #provas");
  dora.socket.destroy();
  await eventually(() => /dora left \(connection lost\)/.test(screen()), "leaving the server is told in the room's window too");
  stdin.write("/part\r");
  await eventually(() => /You left #provas\./.test(screen()) && !/#provas —/.test(screen()), "parting closes its window");
  t.notMatch(screen(), /│ \d #provas/);
});
