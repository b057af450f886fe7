/**
 * What a new user met (issue 18), against a real server over real sockets:
 * the words a guest gets for friends, a private message to oneself, the
 * server's admins in lobby lists, a restored room's topic and members.
 */
import t from "tap";
import { ChatClient } from "../client/connection.js";
import { refusedLine, runCommand } from "../client/run-command.js";
import { parseCommand } from "../common/commands.js";
import { findRoom } from "../client/chat-state.js";
import { describe } from "../common/format.js";
import { TEXTS } from "../common/catalogue.js";
import type { Message } from "../protocol.js";
import { Script, testServer, WAIT_MS, within } from "./helpers/helpers.js";
import { startServer } from "../server/chat-server.js";
import { Peer } from "./helpers/test-clients.js";

type Tester = import("tap").Test;
/** A client script loading TypeScript, on a busy machine: far more than a frame's wait. */
const SCRIPT_MS = WAIT_MS * 4;

const en = TEXTS.en;

async function joined(t: Tester, port: number, name: string, password?: string): Promise<ChatClient> {
  const client = new ChatClient({ port, reconnect: false });
  t.teardown(() => client.close());
  await client.connect();
  await client.join(name, password);
  return client;
}

/** Types a line as the user would. */
function type(client: ChatClient, line: string, t = en) {
  return runCommand(client, parseCommand(line, client.users), t);
}

t.test("a guest's /friend says that the guest needs to register, in both languages (item 5)", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joined(t, port, "ana");
  await ana.register("ana password");
  const dora = await joined(t, port, "dora");
  t.same(type(dora, "/friend ana").lines, [{ kind: "error", text: "Friends are for registered names: /register your name first, then /friend again." }]);
  t.same(type(dora, "/amigos", TEXTS.pt).lines.map((l) => l.text), ["Amigos são para nomes registrados: primeiro /registrar seu nome, depois /amigo de novo."]);
  await dora.register("dora password");
  t.same(type(dora, "/friend ana").lines, [], "once registered, the request goes out");
  const asked = await within(new Promise<Message>((resolve) => dora.on("message", (m) => m.type === "friend" && resolve(m))), "the request");
  t.match(asked, { status: "requested", target: "ana" });
});

t.test("a private message to oneself is refused with to_self; a version 1 client still gets its line back (item 6)", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joined(t, port, "ana");
  const refused = new Promise<[Message, Message | undefined]>((resolve) => ana.once("refused", (_ref, sent, error) => resolve([sent, error])));
  type(ana, "@ANA hello me");
  const [sent, error] = await within(refused, "the refusal");
  t.match(error, { type: "error", code: "to_self" });
  t.equal(refusedLine(sent, error, en).text, '✗ "hello me": Not sent: that is your own name. A private message goes to someone else.');
  t.equal(refusedLine(sent, error, TEXTS.pt).text, '✗ "hello me": Não enviada: esse é o seu próprio nome. Uma mensagem privada vai para outra pessoa.');
  const old = await Peer.joined(t, port, "velho");
  old.send({ type: "chat", to: "velho", message: "note to self" });
  t.match(await old.next(), { type: "chat", client_name: "velho", to: "velho", message: "note to self" }, "version 1 as it was");
});

t.test("rooms an account is back in at login come with their topic and members, as a room entered live (item 7)", async (t) => {
  const { port } = (await testServer(t)).address;
  const first = await joined(t, port, "ana");
  await first.register("ana password");
  type(first, "/join #provas");
  await within(new Promise((resolve) => first.on("rooms", () => first.room === "#provas" && resolve(undefined))), "#provas entered");
  type(first, "/topic Prova sexta");
  await within(new Promise((resolve) => first.on("message", (m) => m.type === "topic" && resolve(undefined))), "the topic set");
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "enter", room: "#provas" });
  await first.quit();
  await bruno.drain();

  const ana = await Peer.connect(t, port);
  ana.send({ type: "join", client_name: "ana", password: "ana password", features: ["history", "echo"] });
  t.match(await ana.next(), { type: "welcome", rooms: ["#provas"] });
  const frames = await ana.drain();
  const entered = frames.find((m) => m.type === "entered");
  t.match(entered, { room: "#provas", topic: "Prova sexta", owner: "ana", users: ["ana", "bruno"], private: false });
  t.ok(frames.indexOf(entered!) < frames.findIndex((m) => m.type === "history" && m.room === "#provas"), "before the room's replay");
});

t.test("the server's admins are marked in lobby lists, as operators are (item 12)", async (t) => {
  const { port } = (await testServer(t, { admins: ["ana"] })).address;
  const first = await joined(t, port, "ana");
  await first.register("ana password");
  await first.quit();
  await joined(t, port, "ana", "ana password");
  const bruno = await Peer.connect(t, port);
  bruno.send({ type: "join", client_name: "bruno", features: ["echo"] });
  t.match(await bruno.next(), { type: "welcome", users: ["ana", "bruno"], operators: ["ana"] });
  bruno.send({ type: "list" });
  t.match(await bruno.next(), { type: "list", users: ["ana", "bruno"], operators: ["ana"] });
  bruno.send({ type: "list", room: "#general" });
  t.match(await bruno.next(), { type: "list", room: "#general", operators: ["ana"] });
  bruno.send({ type: "enter", room: "#provas" });
  await bruno.next();
  const carla = await joined(t, port, "carla");
  t.equal(findRoom(carla.chat, "#general")!.operators.join(), "ana", "the client's lobby knows");
  const listed = within(new Promise<Message>((resolve) => carla.on("message", (m) => m.type === "list" && resolve(m))), "the list");
  type(carla, "/who");
  t.equal(describe(await listed, "carla", en)!.text, "Online (3): @ana, bruno, carla");
});

t.test("/register says a password is too short after the first entry, not after the second (item 15)", async (t) => {
  const { port } = (await testServer(t)).address;
  const bia = new Script(t, "client.ts", ["--port", String(port), "--name", "bia"]);
  bia.child.stdin.end("/register\nshort\nhello after\n");
  t.match(await within(bia.exited, "the client to end", SCRIPT_MS), { code: 0 });
  t.match(bia.stdout, /Password too weak: use at least 8 characters\.\n/);
  t.notMatch(bia.stdout, /same password again|passwords differ/);
  t.match(bia.stdout, /you \[No subject\]: hello after/, "the next line is a line again");
});

t.test("a wrong password in line mode is said once, not again as a refused name (item 16)", async (t) => {
  const { port } = (await testServer(t)).address;
  const first = await joined(t, port, "ana");
  await first.register("ana password");
  await first.quit();
  const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana", "--password", "wrong one"]);
  ana.child.stdin.end();
  t.match(await within(ana.exited, "the client to end", SCRIPT_MS), { code: 1 });
  t.equal(ana.stdout.match(/Wrong password/g)?.length, 1, ana.stdout);
  t.notMatch(ana.stdout, /Name refused/);
});

t.test("/unmute and /deop of someone neither in the room nor muted or an operator is refused, not told as done (earlier trial)", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  ana.send({ type: "enter", room: "#provas" });
  t.match(await ana.next(), { type: "entered" });
  const bruno = await Peer.joined(t, port, "bruno");
  await ana.drain();
  for (const type of ["unmute", "deop"] as const) {
    ana.send({ type, room: "#provas", target: "bruno", ref: type });
    t.match(await ana.next(), { type: "error", code: "not_in_room", ref: type });
  }
  t.same((await bruno.drain()).filter((m) => m.type === "unmute" || m.type === "deop"), [], "bruno is told nothing");
  bruno.send({ type: "enter", room: "#provas" });
  await bruno.drain();
  await ana.drain();
  ana.send({ type: "mute", room: "#provas", target: "bruno" });
  t.match(await ana.next(), { type: "mute" });
  bruno.send({ type: "part", room: "#provas" });
  await bruno.drain();
  await ana.drain();
  ana.send({ type: "unmute", room: "#provas", target: "bruno" });
  t.match(await ana.next(), { type: "unmute", target: "bruno" }, "a muted name that left can still be unmuted");
});

t.test("a guest is back in its rooms after the server restarts, and its lines still go to the current room (earlier trial)", async (t) => {
  const first = await startServer({ port: 0 });
  let closed = false;
  t.teardown(() => closed || first.close());
  const { port } = first.address;
  const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
  await ana.waitFor(/Welcome, ana!/);
  ana.type("/join #x");
  ana.type("/join #y");
  await ana.waitFor(/You are in #y\./);
  ana.type("/room #x");
  await ana.waitFor(/Now talking in #x\./);
  closed = true;
  await first.close();
  await ana.waitFor(/Reconnecting in/);
  const second = await testServer(t, { port });
  // After the reconnection, not the "You are in #x." printed before the restart.
  await ana.waitFor(/Reconnected as ana\.[\s\S]*You are in #x\./);
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "enter", room: "#x" });
  t.match(await bruno.next(), { type: "entered", room: "#x", users: ["ana", "bruno"] });
  ana.type("still in x");
  let msg = await bruno.next();
  while (msg.type !== "chat") msg = await bruno.next();
  t.match(msg, { client_name: "ana", room: "#x", message: "still in x" }, "to #x, not the lobby");
  t.ok(second.users.includes("ana"));
  // ana's client enters #y again right after #x: ask until the server has had it (bounded).
  let inY: Message | undefined;
  for (let i = 0; i < 50 && !inY?.users?.includes("ana"); i++) {
    bruno.send({ type: "list", room: "#y" });
    inY = await bruno.next();
  }
  t.match(inY, { type: "list", room: "#y", users: ["ana"] }, "#y entered again too");
  ana.child.stdin.end();
  t.match(await within(ana.exited, "the client to end", SCRIPT_MS), { code: 0 });
});
