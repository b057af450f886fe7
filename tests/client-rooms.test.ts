/**
 * The client's side of rooms, moderation and friends (issue 10) against the
 * real server: ChatClient's `chat` state (the reducer over frames) and its
 * current room, and the commands that drive them.
 */
import t from "tap";
import { ChatClient } from "../client/connection.js";
import { refusedLine, runCommand } from "../client/run-command.js";
import { findRoom, isOperator } from "../client/chat-state.js";
import { parseCommand } from "../common/commands.js";
import { TEXTS } from "../common/catalogue.js";
import { LOBBY, type Message } from "../protocol.js";
import { Script, testServer, within } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

type Tester = import("tap").Test;
const FAST = { passwordCostLog2: 10 };
const en = TEXTS.en;

async function joined(t: Tester, port: number, name: string, password?: string): Promise<ChatClient> {
  const client = new ChatClient({ port, reconnect: false });
  t.teardown(() => client.close());
  await client.connect();
  await client.join(name, password);
  return client;
}

/** Waits until `check` holds, re-checking at each change of the client's rooms or each frame. */
function until(client: ChatClient, check: () => boolean, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  return within(
    new Promise<void>((resolve) => {
      const again = () => {
        if (!check()) return;
        client.off("rooms", again).off("message", again);
        resolve();
      };
      client.on("rooms", again).on("message", again);
    }),
    what,
  );
}

/** The next frame of `type` the client shows. */
function next(client: ChatClient, type: string): Promise<Message> {
  return within(
    new Promise<Message>((resolve) => {
      const on = (msg: Message) => {
        if (msg.type !== type) return;
        client.off("message", on);
        resolve(msg);
      };
      client.on("message", on);
    }),
    `a ${type} frame`,
  );
}

/** Types a line as the user would. */
function type(client: ChatClient, line: string) {
  return runCommand(client, parseCommand(line, client.users), en);
}

t.test("rooms: enter, members, operators, topic, chats to the current room, part", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joined(t, port, "ana");
  const bruno = await joined(t, port, "bruno");
  const lobbyOnly = await Peer.joined(t, port, "dora");
  t.same(ana.chat.rooms.map((r) => r.name), [LOBBY], "everyone starts in the lobby");
  t.equal(ana.room, LOBBY);
  t.same(type(ana, "/join #provas").lines, [], "the answer comes from the server");
  t.equal(ana.room, "#provas", "the room entered is current at once: lines typed next go there");
  await until(ana, () => findRoom(ana.chat, "#provas") !== undefined, "ana in #provas");
  type(ana, "/part");
  await until(ana, () => findRoom(ana.chat, "#provas") === undefined, "ana out of #provas");

  t.same(type(ana, "/join provas").lines, [], "the answer comes from the server");
  await until(ana, () => findRoom(ana.chat, "#provas") !== undefined, "ana in #provas");
  const provas = findRoom(ana.chat, "#PROVAS")!;
  t.match(provas, { name: "#provas", users: ["ana"], owner: "ana", private: false });
  t.ok(isOperator(provas, "ana"), "the creator is its operator");

  type(bruno, "/entrar #provas");
  await until(ana, () => findRoom(ana.chat, "#provas")!.users.length === 2, "bruno seen entering");
  await until(bruno, () => findRoom(bruno.chat, "#provas") !== undefined, "bruno in #provas");
  t.same(findRoom(bruno.chat, "#provas")!.users, ["ana", "bruno"]);
  t.equal(bruno.room, "#provas", "entering makes it the current room");

  type(ana, "hello room");
  const chat = await next(bruno, "chat");
  t.match(chat, { room: "#provas", message: "hello room", client_name: "ana" });
  type(ana, "/room #general");
  t.equal(ana.room, LOBBY, "/room switches back to the lobby");
  type(ana, "hello lobby");
  t.match(await next(bruno, "chat"), { room: LOBBY, message: "hello lobby" });
  const dora = await lobbyOnly.next();
  t.match(dora, { type: "chat", message: "hello lobby" }, "a lobby member got only the lobby line");

  t.match(type(ana, "/sala #nowhere").lines, [{ kind: "error", text: en.notInRoom("#nowhere") }]);
  type(ana, "/room #provas");
  type(ana, "/topic Exam on Friday");
  await until(bruno, () => findRoom(bruno.chat, "#provas")!.topic === "Exam on Friday", "the topic");
  type(ana, "/op bruno");
  await until(bruno, () => isOperator(findRoom(bruno.chat, "#provas")!, "bruno"), "bruno an operator");
  type(ana, "/deop bruno");
  await until(bruno, () => !isOperator(findRoom(bruno.chat, "#provas")!, "bruno"), "bruno no longer an operator");

  type(bruno, "/who");
  t.match(await next(bruno, "list"), { room: "#provas", users: ["ana", "bruno"] });
  type(bruno, "/part");
  await until(bruno, () => findRoom(bruno.chat, "#provas") === undefined, "bruno out of #provas");
  t.equal(bruno.room, LOBBY, "out of the current room: back to the lobby");
  await until(ana, () => findRoom(ana.chat, "#provas")!.users.length === 1, "ana sees bruno leave");
  t.match(type(bruno, "/part").lines, [{ kind: "error", text: en.cannotPartLobby }], "the lobby cannot be left");
});

t.test("moderation of the current room: mute, kick, ban; the target's state follows", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joined(t, port, "ana");
  const bruno = await joined(t, port, "bruno");
  type(ana, "/join #provas");
  await until(ana, () => findRoom(ana.chat, "#provas") !== undefined, "ana in #provas");
  type(bruno, "/join #provas");
  await until(bruno, () => findRoom(bruno.chat, "#provas") !== undefined, "bruno in #provas");

  type(ana, "/silenciar bruno");
  t.match(await next(bruno, "mute"), { target: "bruno", room: "#provas", client_name: "ana" });
  const sent = type(bruno, "still here?");
  t.equal(sent.lines[0]?.pending !== undefined, true, "pending until the server answers");
  const [, refused, error] = await within(new Promise<[string, Message, Message]>((resolve) => bruno.once("refused", (...args) => resolve(args as [string, Message, Message]))), "the refusal");
  t.match(error, { code: "muted", room: "#provas" }, "the error names the room");
  t.equal(refusedLine(refused, error, TEXTS.en).text, '✗ "still here?": You are muted in #provas: message not delivered.');
  t.equal(refusedLine(refused, error, TEXTS.pt).text, '✗ "still here?": Você está silenciado(a) em #provas: mensagem não entregue.');

  type(bruno, "/kick ana");
  t.match(await next(bruno, "error"), { code: "not_operator" }, "a member cannot kick");

  type(ana, "/expulsar bruno too noisy");
  t.match(await next(bruno, "kick"), { target: "bruno", reason: "too noisy" });
  t.equal(findRoom(bruno.chat, "#provas"), undefined, "kicked: out of the room");
  t.equal(bruno.room, LOBBY);
  await until(ana, () => findRoom(ana.chat, "#provas")!.users.length === 1, "ana sees bruno gone");

  type(bruno, "/join #provas");
  await until(bruno, () => findRoom(bruno.chat, "#provas") !== undefined, "bruno back");
  type(ana, "/ban bruno");
  t.match(await next(bruno, "ban"), { target: "bruno" });
  t.equal(findRoom(bruno.chat, "#provas"), undefined);
  type(bruno, "/join #provas");
  t.equal(bruno.room, "#provas");
  t.match(await next(bruno, "error"), { code: "banned" }, "banned: cannot enter again");
  t.equal(bruno.room, LOBBY, "refused: the current room is the one before");
});

t.test("a private group: created with /join #x private, entered by invitation only", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joined(t, port, "ana");
  const bruno = await joined(t, port, "bruno");
  const carla = await joined(t, port, "carla");
  type(ana, "/join #grupo privada");
  await until(ana, () => findRoom(ana.chat, "#grupo") !== undefined, "ana in #grupo");
  t.equal(findRoom(ana.chat, "#grupo")!.private, true);
  type(carla, "/rooms");
  const rooms = await next(carla, "rooms");
  t.notOk(JSON.stringify(rooms.rooms).includes("#grupo"), "invisible to others");
  type(bruno, "/join #grupo");
  t.match(await next(bruno, "error"), { code: "invite_only" });
  type(ana, "/convidar bruno");
  t.match(await next(bruno, "invite"), { target: "bruno", room: "#grupo" });
  type(bruno, "/join #grupo");
  await until(bruno, () => findRoom(bruno.chat, "#grupo") !== undefined, "bruno in #grupo");
  t.same(findRoom(bruno.chat, "#grupo")!.users, ["ana", "bruno"]);
});

t.test("friends and presence, for accounts", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const ana = await joined(t, port, "ana");
  t.match(await ana.register("ana password"), { type: "registered" });
  const bruno = await joined(t, port, "bruno");
  t.match(await bruno.register("bruno password"), { type: "registered" });

  type(ana, "/amigo bruno");
  await until(bruno, () => bruno.chat.requests.includes("ana"), "bruno sees ana's request");
  type(bruno, "/friend ana");
  await until(ana, () => ana.chat.friends.some((f) => f.client_name === "bruno"), "ana's friend list");
  t.same(bruno.chat.friends, [{ client_name: "ana", online: true }]);
  t.same(bruno.chat.requests, [], "the request is answered");

  // Registered in this session (not logged in with a password): presence is told all the same.
  await bruno.quit();
  await until(ana, () => ana.chat.friends[0]?.online === false, "bruno seen going offline");
  const again = await joined(t, port, "bruno", "bruno password");
  await until(ana, () => ana.chat.friends[0]?.online === true, "bruno seen coming back");
  await until(again, () => again.chat.friends.length === 1, "bruno's friends asked for at login");
  t.same(again.chat.friends, [{ client_name: "ana", online: true }]);

  type(again, "/desamigo ana");
  await until(ana, () => ana.chat.friends.length === 0, "the friendship ended on both sides");
});

t.test("an account is back in its rooms at login, with their members", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const ana = await joined(t, port, "ana");
  await ana.register("ana password");
  type(ana, "/join #provas");
  await until(ana, () => findRoom(ana.chat, "#provas") !== undefined, "ana in #provas");
  const bruno = await joined(t, port, "bruno");
  type(bruno, "/join #provas");
  await until(ana, () => findRoom(ana.chat, "#provas")!.users.length === 2, "bruno in");
  await ana.quit();
  const back = await joined(t, port, "ana", "ana password");
  await until(back, () => findRoom(back.chat, "#provas")?.users.length === 2, "#provas's members");
  t.same(back.chat.rooms.map((r) => r.name), [LOBBY, "#provas"]);
});

t.test("line mode: the current room, lines of other rooms tagged with their room, moderation in words (Portuguese)", async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana", "--lang", "pt"]);
  await ana.waitFor(/Bem-vindo\(a\), ana!/, { ms: 60_000 });
  ana.type("/entrar #provas");
  await ana.waitFor(/Você está em #provas\. Membros \(1\): @ana/);
  bruno.send({ type: "enter", room: "#provas" });
  await ana.waitFor(/\*\*\* bruno entrou em #provas/);
  ana.type("oi sala");
  let msg = await bruno.next();
  while (msg.type !== "chat") msg = await bruno.next();
  t.match(msg, { room: "#provas", message: "oi sala" }, "a line goes to the current room");
  bruno.send({ type: "chat", message: "no saguão" });
  await ana.waitFor(/\[#general\] \[[\d:]+\] bruno \[Sem Assunto\]: no saguão/);
  bruno.send({ type: "chat", room: "#provas", message: "na sala" });
  await ana.waitFor(/\] bruno \[Sem Assunto\]: na sala/);
  t.notMatch(ana.stdout, /\[#provas\] \[[\d:]+\] bruno/, "the current room's lines are not tagged");
  ana.type("/silenciar bruno barulho");
  await ana.waitFor(/você silenciou bruno em #provas \(motivo: barulho\)/);
  ana.type("/expulsar bruno");
  await ana.waitFor(/você expulsou bruno de #provas/);
  t.match(await bruno.next(), { type: "mute" });
  ana.type("/sala #general");
  await ana.waitFor(/Agora falando em #general\./);
  ana.type("/sair");
  t.match(await within(ana.exited, "the client to exit", 60_000), { code: 0 });
});

t.test("moderation in the lobby: only an admin, logged in with its password, may; a lobby kick ends the target's connection", async (t) => {
  const { port } = (await testServer(t, { ...FAST, admins: ["ana"] })).address;
  const first = await joined(t, port, "ana");
  await first.register("ana password");
  await first.quit();
  const ana = await joined(t, port, "ana", "ana password");
  const bruno = await joined(t, port, "bruno");
  type(bruno, "/kick ana");
  t.match(await next(bruno, "error"), { code: "not_operator" }, "a member of the lobby cannot");
  const lost = new Promise<void>((resolve) => bruno.once("putOut", () => resolve()));
  t.equal(ana.room, LOBBY);
  type(ana, "/expulsar bruno bye");
  t.match(await next(bruno, "kick"), { room: LOBBY, target: "bruno", client_name: "ana", reason: "bye" });
  await within(lost, "bruno's connection to end");
  await until(ana, () => !findRoom(ana.chat, LOBBY)!.users.includes("bruno"), "bruno gone from the lobby");
});
