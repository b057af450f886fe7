/** The plain-text gateway over real sockets: nc's prompt flow, the seeds' line clients, commands, limits. */
import { spawn } from "node:child_process";
import path from "node:path";
import t from "tap";
import { LineSplitter, renderLine, roomLine } from "../server/gateway-text.js";
import { Message } from "../protocol.js";
import { ROOT, type Teardown, testServer, within } from "./helpers/helpers.js";
import { LinePeer, Peer, WsPeer } from "./helpers/test-clients.js";

/** A server with a text port; both ports' numbers. */
async function textServer(t: Teardown, options: Parameters<typeof testServer>[1] = {}) {
  const server = await testServer(t, { textPort: 0, ...options });
  return { server, port: server.address.port, textPort: server.textAddress!.port };
}

t.test("nc's flow: a prompt for the name, the refusal's reason, then the chat", async (t) => {
  const { port, textPort } = await textServer(t);
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = await LinePeer.connect(t, textPort);
  await ana.waitFor(/Choose a name.*\nYour name: $/);
  ana.line("ana maria");
  await ana.waitFor(/Name refused: A name cannot contain spaces: "ana maria"\. Try another\.\nYour name: /);
  ana.line("BRUNO");
  await ana.waitFor(/Name refused: The name "BRUNO" is already in use/);
  ana.line("ana");
  await ana.waitFor(/Welcome, ana! Online \(2\): ana, bruno\. Type \/help for commands\./);
  t.match(await bruno.next(), { type: "join", client_name: "ana" });
  ana.line("hello bruno");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", message: "hello bruno", room: "#general" });
  bruno.send({ type: "chat", message: "hi ana\nsecond line" });
  await ana.waitFor(/^\[\d\d:\d\d\] bruno >> hi ana ↵ second line$/m);
});

t.test("a line client in the style of seed 002 sends its name and lines without reading a prompt", async (t) => {
  const { port, textPort } = await textServer(t);
  const bruno = await Peer.joined(t, port, "bruno");
  const child = spawn("python3", [path.join(ROOT, "tests", "peers", "line_client.py"), String(textPort), "carla", "hello from python|ready", "1"]);
  t.teardown(() => child.kill());
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  const done = new Promise<number | null>((resolve) => child.once("close", resolve));
  t.match(await bruno.next(), { type: "join", client_name: "carla" });
  t.match(await bruno.next(), { type: "chat", client_name: "carla", message: "hello from python" });
  t.match(await bruno.next(), { type: "chat", client_name: "carla", message: "ready" });
  bruno.send({ type: "chat", message: "olá carla 🎉" });
  t.equal(await within(done, "the Python client to finish"), 0);
  t.equal(stdout, "bruno >> olá carla 🎉\n");
});

t.test("lines sent before the join is answered wait for it: a refused name's next line is the next try", async (t) => {
  const { port, textPort } = await textServer(t);
  const bruno = await Peer.joined(t, port, "bruno");
  const peer = await LinePeer.connect(t, textPort);
  peer.socket.write("bad name\r\nana\r\nhello with CRLF\r\n");
  await peer.waitFor(/Name refused/);
  await peer.waitFor(/Welcome, ana!/);
  t.match(await bruno.next(), { type: "join", client_name: "ana" });
  t.match(await bruno.next(), { type: "chat", message: "hello with CRLF" });
});

t.test("private messages, the subject, the list, help, refusals and quitting", async (t) => {
  const { port, textPort } = await textServer(t);
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = await LinePeer.joined(t, textPort, "ana");
  await bruno.drain();
  ana.line("@bruno psst");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", to: "bruno", message: "psst" });
  ana.line("/bruno seed 002 style");
  t.match(await bruno.next(), { type: "chat", to: "bruno", message: "seed 002 style" });
  bruno.send({ type: "chat", to: "ana", message: "just you" });
  await ana.waitFor(/^\[\d\d:\d\d\] bruno \(private\) >> just you$/m);
  ana.line("/assunto Provas");
  await ana.waitFor(/Subject of your next messages: Provas/);
  ana.line("when is the exam?");
  t.match(await bruno.next(), { type: "chat", subject: "Provas", message: "when is the exam?" });
  bruno.send({ type: "chat", subject: "Provas", message: "friday" });
  await ana.waitFor(/bruno >> \[Provas\] friday/);
  ana.line("/clientes");
  await ana.waitFor(/^Online \(2\): ana, bruno$/m);
  ana.line("@zed hi");
  await ana.waitFor(/Not delivered: No user named "zed" is online\./);
  ana.line("@bruno");
  await ana.waitFor(/Private message without text: write @bruno followed by your message\./);
  ana.line("/help");
  await ana.waitFor(/\/join #room/);
  ana.line("//slash at the start");
  t.match(await bruno.next(), { type: "chat", message: "/slash at the start" });
  ana.line("/sair");
  await ana.expectClosed();
  t.match(await bruno.next(), { type: "leave", client_name: "ana", reason: "quit" });
});

t.test("lines over the rate are paced, never dropped: fifty pasted lines all arrive, in order", async (t) => {
  const { port, textPort } = await textServer(t, { rateLimit: 20 });
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = await LinePeer.joined(t, textPort, "ana");
  await bruno.drain();
  ana.socket.write(Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(""));
  const got: string[] = [];
  while (got.length < 50) got.push((await bruno.next()).message);
  t.same(got, Array.from({ length: 50 }, (_, i) => `line ${i}`));
});

t.test("a registered name asks for its password", async (t) => {
  const { port, textPort } = await textServer(t, { passwordCostLog2: 10 });
  const owner = await Peer.joined(t, port, "ana");
  owner.send({ type: "register", password: "correct horse" });
  t.match(await owner.next(), { type: "registered" });
  owner.send({ type: "quit" });
  await owner.expectClosed();
  const peer = await LinePeer.connect(t, textPort);
  peer.line("ana");
  await peer.waitFor(/is registered: its password is needed\.\nPassword: /);
  peer.line("wrong one");
  await peer.waitFor(/Wrong password for "ana"\.\nPassword: /);
  peer.line("correct horse");
  await peer.waitFor(/Welcome, ana!/);
  peer.line("/register another password");
  await peer.waitFor(/The name "ana" is already registered/);
});

t.test("/register from the text port keeps the name", async (t) => {
  const { textPort } = await textServer(t, { passwordCostLog2: 10 });
  const peer = await LinePeer.joined(t, textPort, "carla");
  peer.line("/register short");
  await peer.waitFor(/at least 8/i);
  peer.line("/register long enough");
  await peer.waitFor(/The name carla is now yours/);
});

t.test("a framed client, a text client and a WebSocket client share one conversation", async (t) => {
  const { port, textPort } = await textServer(t);
  const framed = await Peer.joined(t, port, "framed");
  const text = await LinePeer.joined(t, textPort, "text");
  const web = await WsPeer.joined(t, `ws://127.0.0.1:${port}/ws`, "web");
  await framed.drain();
  text.line("from text");
  t.match(await framed.next(), { type: "chat", client_name: "text", message: "from text" });
  t.match(await web.next(), { type: "chat", client_name: "text", message: "from text" });
  web.send({ type: "chat", message: "from web" });
  t.match(await framed.next(), { type: "chat", client_name: "web", message: "from web" });
  await text.waitFor(/web >> from web/);
  framed.send({ type: "chat", message: "from framed" });
  t.match(await web.next(), { type: "chat", client_name: "framed", message: "from framed" });
  await text.waitFor(/framed >> from framed/);
  web.send({ type: "chat", to: "text", message: "private from web" });
  await text.waitFor(/web \(private\) >> private from web/);
  text.line("/list");
  await text.waitFor(/Online \(3\): framed, text, web/);
});

t.test("rooms from the text port: /join, lines to the room, #room text, /rooms, /part", async (t) => {
  const { port, textPort } = await textServer(t);
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "enter", room: "#provas" });
  t.match(await bruno.next(), { type: "entered", room: "#provas" });
  const ana = await LinePeer.joined(t, textPort, "ana");
  await bruno.drain();
  ana.line("/join #provas");
  await ana.waitFor(/You are in #provas\. Members \(2\): ana, @bruno/);
  t.match(await bruno.next(), { type: "join", client_name: "ana", room: "#provas" });
  ana.line("in the room");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", room: "#provas", message: "in the room" });
  bruno.send({ type: "chat", room: "#provas", message: "room reply" });
  await ana.waitFor(/^\[\d\d:\d\d\] #provas bruno >> room reply$/m);
  ana.line("#general to the lobby");
  t.match(await bruno.next(), { type: "chat", room: "#general", message: "to the lobby" });
  ana.line("/rooms");
  await ana.waitFor(/Rooms: #general \(2\), #provas \(2\)/);
  ana.line("/part");
  await ana.waitFor(/You left #provas/);
  t.match(await bruno.next(), { type: "leave", client_name: "ana", room: "#provas", reason: "part" });
  ana.line("back in the lobby");
  t.match(await bruno.next(), { type: "chat", room: "#general", message: "back in the lobby" });
  ana.line("/join #");
  await ana.waitFor(/Not a room name: "#"/);
});

t.test("others' control characters are stripped; garbage and invalid UTF-8 are replaced, never a crash", async (t) => {
  const { port, textPort } = await textServer(t);
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = await LinePeer.joined(t, textPort, "ana");
  await bruno.drain();
  bruno.send({ type: "chat", message: "\u001b[31mred\u0007 \u001b]0;title\u0007done\r" });
  const [line] = await ana.waitFor(/bruno >> .*done.*$/m);
  t.notMatch(line, /[\u0000-\u0008\u000b-\u001f\u007f]/, "no control character reaches the text client");
  ana.socket.write(Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0x28, 0x00, 0x1b, 0x42, 0x0a]));
  const got = await bruno.next();
  t.equal(got.message, "\ufffd\ufffdA\ufffd(B", "invalid bytes became U+FFFD, controls were dropped");
  const garbage = await LinePeer.connect(t, textPort);
  garbage.socket.write(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)));
  garbage.line("");
  await garbage.waitFor(/Name refused|Welcome/);
  ana.line("still working");
  t.match(await bruno.next(), { message: "still working" });
});

t.test("a line over the limit is refused at once and never buffered; the next line works", async (t) => {
  const { port, textPort } = await textServer(t, { maxBodyBytes: 1000 });
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = await LinePeer.joined(t, textPort, "ana");
  await bruno.drain();
  for (let i = 0; i < 50; i++) ana.socket.write("x".repeat(10_000)); // 500 kB, no newline
  await ana.waitFor(/Line too long \(over 1000 bytes\): not sent\./);
  ana.socket.write("\nafter the long line\n");
  t.match(await bruno.next(), { type: "chat", message: "after the long line" });
  t.same(await bruno.drain(), [], "nothing of the long line was delivered");
  t.notMatch(ana.text.slice(ana.text.indexOf("Line too long") + 10), /Line too long/, "refused once");
});

t.test("a text client that never reads is cut off as slow; the others go on", async (t) => {
  const { port, textPort } = await textServer(t, { slowReaderTimeoutMs: 300, rateLimit: 0 });
  const talker = await Peer.joined(t, port, "talker");
  const sleeper = await LinePeer.joined(t, textPort, "sleeper");
  await talker.drain();
  sleeper.socket.pause();
  const text = "z".repeat(60_000);
  for (let i = 0; i < 400; i++) talker.send({ type: "chat", message: text }); // 24 MB: more than any loopback buffer
  for (;;) {
    const msg = await talker.next();
    if (msg.type === "leave") {
      t.match(msg, { client_name: "sleeper", reason: "slow" });
      break;
    }
  }
  sleeper.socket.resume();
  await sleeper.expectClosed();
});

t.test("the join time limit covers the text port", async (t) => {
  const { textPort } = await textServer(t, { joinTimeoutMs: 200 });
  const peer = await LinePeer.connect(t, textPort);
  await peer.waitFor(/Disconnected by the server: No join within 0\.2 s of connecting\./);
  await peer.expectClosed();
});

t.test("a line dribbled without its end is cut by the frame time limit", async (t) => {
  const { textPort } = await textServer(t, { frameTimeoutMs: 200 });
  const peer = await LinePeer.joined(t, textPort, "slowpoke");
  peer.socket.write("never finished");
  await peer.waitFor(/Disconnected by the server: A frame took more than 0\.2 s/);
  await peer.expectClosed();
});

t.test("shutdown tells text clients and closes them", async (t) => {
  const { server, textPort } = await textServer(t);
  const peer = await LinePeer.joined(t, textPort, "ana");
  await server.close();
  await peer.waitFor(/The server is shutting down\./);
  await peer.expectClosed();
});

t.test("rendering and #room lines (pure)", async (t) => {
  const at = "2026-01-01T12:34:00.000Z";
  const chat = (fields: object) => new Message({ type: "chat", client_name: "ana", message: "hi", date: at, ...fields });
  t.match(renderLine(chat({}), "bruno"), /^\[\d\d:34\] ana >> hi$/);
  t.match(renderLine(chat({ room: "#Provas" }), "bruno"), /^\[\d\d:34\] #Provas ana >> hi$/);
  t.match(renderLine(chat({ to: "ana", client_name: "ana" }), "ana"), /ana \(private to ana\) >> hi/);
  t.match(renderLine(new Message({ type: "leave", client_name: "bruno", reason: "lost", date: at }), "ana"), /\*\*\* bruno left \(connection lost\)$/);
  t.equal(renderLine(new Message({ type: "pong" }), "ana"), undefined);
  t.match(renderLine(new Message({ type: "registered", message: "The name ana is now yours", date: at }), "ana"), /The name ana is now yours/);
  t.same(roomLine("#provas hello there"), { type: "chat", room: "#provas", message: "hello there" });
  t.equal(roomLine("/join #provas"), undefined, "commands are the shared grammar's");
  t.equal(roomLine("#!? not a room"), undefined, "a # word that is no room name is a plain line");
  t.equal(roomLine("plain text"), undefined);
  const lines = new LineSplitter(5);
  t.same(lines.push(Buffer.from("ab\r\ncd")), ["ab"]);
  t.same(lines.push(Buffer.from("e\n")), ["cde"]);
  t.same(lines.push(Buffer.from("123456")), [{ tooLong: 5 }]);
  t.same(lines.push(Buffer.from("789\nok\n")), ["ok"]);
});
