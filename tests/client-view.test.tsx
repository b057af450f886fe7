import { render } from "ink-testing-library";
import t from "tap";
import { ChatApp, ChatView, wrapRows, type ChatViewProps } from "../client-view.js";
import { ChatClient } from "../client.js";
import { TEXTS } from "../format.js";
import { eventually, Peer, testServer } from "./helpers.js";

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

t.test("wrapRows cuts long lines to the width and keeps newlines", async (t) => {
  t.same(wrapRows("abcdefg", 3), ["abc", "def", "g"]);
  t.same(wrapRows("ab\n\ncd", 5), ["ab", "", "cd"]);
  t.same(wrapRows("🎉🎉🎉", 4), ["🎉🎉", "🎉"], "by terminal columns: an emoji takes two");
  t.same(wrapRows("漢字漢字漢", 4), ["漢字", "漢字", "漢"], "wide characters take two columns");
  t.same(wrapRows("ab漢", 3), ["ab", "漢"], "a wide character that does not fit goes to the next row");
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
