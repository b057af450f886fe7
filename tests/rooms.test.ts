/** Rooms, moderation, friends and presence over real sockets (PROTOCOL.md version 2). */
import path from "node:path";
import fc from "fast-check";
import t from "tap";
import type { Message, MessageFields } from "../protocol.js";
import { roomKey, roomProblem } from "../protocol.js";
import { tempDir, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

const FAST = { passwordCostLog2: 10 };
type Tester = import("tap").Test;

async function joinAs(t: Tester, port: number, name: string, extra: Partial<MessageFields> = {}): Promise<Peer> {
  const peer = await Peer.connect(t, port);
  peer.send({ type: "join", client_name: name, ...extra } as MessageFields);
  const welcome = await peer.next();
  if (welcome.type !== "welcome") throw new Error(`${name}: ${JSON.stringify(welcome)}`);
  return peer;
}

/** Joins and registers `name`. */
async function account(t: Tester, port: number, name: string): Promise<Peer> {
  const peer = await joinAs(t, port, name);
  peer.send({ type: "register", password: `${name} password` });
  t.match(await peer.next(), { type: "registered" });
  return peer;
}

async function login(t: Tester, port: number, name: string, features: string[] = []): Promise<[Peer, Message]> {
  const peer = await Peer.connect(t, port);
  peer.send({ type: "join", client_name: name, password: `${name} password`, features });
  return [peer, await peer.next()];
}

/** Sends and returns the next frame this peer gets. */
async function ask(peer: Peer, fields: Partial<MessageFields> & { type: MessageFields["type"] }): Promise<Message> {
  peer.send(fields as MessageFields);
  return peer.next();
}

/** The frames a peer gets up to now (join notices and the like), without waiting for more. */
const settle = (peer: Peer) => peer.drain();

t.test("room names: # then 1 to 32 letters, digits, _ or -; compared without case; never a crash", async (t) => {
  t.equal(roomProblem("#provas"), undefined);
  t.equal(roomProblem("#Sala-2_b"), undefined);
  t.equal(roomProblem("#ação"), undefined);
  for (const bad of ["#", "provas", "#a b", "#" + "x".repeat(33), "##", "#a!"]) t.not(roomProblem(bad), undefined, bad);
  t.equal(roomKey("#Provas"), roomKey("#PROVAS"));
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (name) => {
      const problem = roomProblem(name);
      if (problem === undefined) t.ok(name.startsWith("#") && !/\s/.test(name));
      return true;
    }),
  );
});

t.test("enter, chat to a room (members only), list, rooms, part", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joinAs(t, port, "ana", { features: ["echo"] });
  const bruno = await joinAs(t, port, "bruno");
  const carla = await joinAs(t, port, "carla");
  await settle(ana);
  await settle(bruno);
  t.match(await ask(ana, { type: "enter", room: "#provas", ref: "e" }), { type: "entered", room: "#provas", users: ["ana"], owner: "ana", topic: "", ref: "e" });
  t.match(await ask(bruno, { type: "enter", room: "#PROVAS" }), { type: "entered", room: "#provas", users: ["ana", "bruno"] });
  t.match(await ana.next(), { type: "join", client_name: "bruno", room: "#provas" });

  ana.send({ type: "chat", room: "#provas", message: "only members", ref: "c" });
  t.match(await ana.next(), { type: "chat", room: "#provas", ref: "c", id: /\d+/ });
  t.match(await bruno.next(), { type: "chat", room: "#provas", client_name: "ana", message: "only members" });
  t.same(await carla.drain(), [], "carla, not a member, gets nothing");
  t.match(await ask(carla, { type: "chat", room: "#provas", message: "let me in" }), { type: "error", code: "not_in_room" });

  t.match(await ask(carla, { type: "list", room: "#provas" }), { type: "list", room: "#provas", users: ["ana", "bruno"] });
  t.match(await ask(carla, { type: "rooms" }), { type: "rooms", rooms: [{ room: "#general", members: 3 }, { room: "#provas", members: 2, private: false }] });
  t.match(await ask(bruno, { type: "part", room: "#provas", ref: "p" }), { type: "parted", room: "#provas", ref: "p" });
  t.match(await ana.next(), { type: "leave", client_name: "bruno", room: "#provas", reason: "part" });
  t.match(await ask(bruno, { type: "part", room: "#general" }), { type: "error", code: "bad_message" });
  t.match(await ask(bruno, { type: "enter", room: "provas" }), { type: "error", code: "room_invalid" });
  t.match(await ask(bruno, { type: "chat", room: "#provas", to: "ana", message: "x" }), { type: "error", code: "bad_message" });
});

t.test("a guest room vanishes with its last member; the lobby chat carries its room", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joinAs(t, port, "ana");
  const bruno = await joinAs(t, port, "bruno");
  await settle(ana);
  await ask(ana, { type: "enter", room: "#tmp" });
  ana.socket.destroy();
  t.match(await bruno.next(), { type: "leave", client_name: "ana" });
  t.match(await ask(bruno, { type: "rooms" }), { rooms: [{ room: "#general" }] });
  bruno.send({ type: "chat", message: "lobby" });
  const carla = await joinAs(t, port, "carla", { features: ["echo"] });
  t.match(await ask(carla, { type: "chat", message: "hi" }), { type: "chat", room: "#general" });
});

t.test("operators: a non-operator cannot kick; the owner mutes, kicks, bans; a banned name cannot re-enter", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joinAs(t, port, "ana");
  const bruno = await joinAs(t, port, "bruno");
  const carla = await joinAs(t, port, "carla");
  for (const p of [ana, bruno]) await settle(p);
  await ask(ana, { type: "enter", room: "#provas" });
  for (const p of [bruno, carla]) await ask(p, { type: "enter", room: "#provas" });
  for (const p of [ana, bruno, carla]) await settle(p);

  t.match(await ask(bruno, { type: "kick", room: "#provas", target: "carla" }), { type: "error", code: "not_operator" });
  t.match(await ask(ana, { type: "kick", room: "#provas", target: "nobody" }), { type: "error", code: "not_in_room" });

  ana.send({ type: "mute", room: "#provas", target: "bruno", reason: "calma" });
  for (const p of [ana, bruno, carla]) t.match(await p.next(), { type: "mute", client_name: "ana", target: "bruno", room: "#provas", reason: "calma" });
  t.match(await ask(bruno, { type: "chat", room: "#provas", message: "hey" }), { type: "error", code: "muted", room: "#provas" });
  carla.send({ type: "chat", room: "#provas", message: "others still talk" });
  t.match(await ana.next(), { type: "chat", message: "others still talk" });
  t.match(await bruno.next(), { type: "chat", message: "others still talk" });

  ana.send({ type: "kick", room: "#provas", target: "bruno" });
  for (const p of [ana, bruno, carla]) t.match(await p.next(), { type: "kick", target: "bruno", room: "#provas" });
  t.match(await ask(bruno, { type: "chat", room: "#provas", message: "?" }), { type: "error", code: "not_in_room" }, "out with the kick frame");
  t.same(await carla.drain(), [], "no separate leave after a kick");

  ana.send({ type: "ban", room: "#provas", target: "carla", reason: "spam" });
  for (const p of [ana, carla]) t.match(await p.next(), { type: "ban", target: "carla" });
  t.match(await ask(carla, { type: "enter", room: "#provas" }), { type: "error", code: "banned" });
  ana.send({ type: "unban", room: "#provas", target: "carla" });
  t.match(await ana.next(), { type: "unban", target: "carla" });
  t.match(await carla.next(), { type: "unban", target: "carla" }, "the target hears of it wherever it is");
  t.match(await ask(carla, { type: "enter", room: "#provas" }), { type: "entered" });
});

t.test("op and deop: an op cannot deop the owner; an op can kick; topic by operators only", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joinAs(t, port, "ana");
  const bruno = await joinAs(t, port, "bruno");
  const carla = await joinAs(t, port, "carla");
  for (const p of [ana, bruno]) await settle(p);
  await ask(ana, { type: "enter", room: "#r" });
  for (const p of [bruno, carla]) await ask(p, { type: "enter", room: "#r" });
  for (const p of [ana, bruno, carla]) await settle(p);
  t.match(await ask(carla, { type: "topic", room: "#r", topic: "mine" }), { type: "error", code: "not_operator" });
  ana.send({ type: "op", room: "#r", target: "bruno" });
  for (const p of [ana, bruno, carla]) await p.next();
  t.match(await ask(bruno, { type: "deop", room: "#r", target: "ana" }), { type: "error", code: "not_operator" });
  t.match(await ask(bruno, { type: "kick", room: "#r", target: "ana" }), { type: "error", code: "not_operator" });
  bruno.send({ type: "topic", room: "#r", topic: "Provas na sexta" });
  for (const p of [ana, bruno, carla]) t.match(await p.next(), { type: "topic", client_name: "bruno", topic: "Provas na sexta" });
  t.match(await ask(carla, { type: "list", room: "#r" }), { operators: ["ana", "bruno"] });
});

t.test("private rooms: invisible to others in rooms, invite-only; an invited name may enter", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await joinAs(t, port, "ana");
  const bruno = await joinAs(t, port, "bruno");
  const carla = await joinAs(t, port, "carla");
  for (const p of [ana, bruno]) await settle(p);
  t.match(await ask(ana, { type: "enter", room: "#grupo", private: true }), { type: "entered", private: true });
  t.match(await ask(carla, { type: "rooms" }), { rooms: [{ room: "#general" }] });
  t.equal((await ask(carla, { type: "rooms" })).rooms!.length, 1, "the group is invisible to carla");
  t.match(await ask(bruno, { type: "enter", room: "#grupo" }), { type: "error", code: "invite_only" });
  ana.send({ type: "invite", room: "#grupo", target: "bruno" });
  t.match(await ana.next(), { type: "invite", target: "bruno" });
  t.match(await bruno.next(), { type: "invite", target: "bruno", room: "#grupo", client_name: "ana" });
  t.match(await ask(bruno, { type: "enter", room: "#grupo" }), { type: "entered", users: ["ana", "bruno"] });
  t.match(await ask(carla, { type: "list", room: "#grupo" }), { type: "error", code: "not_in_room" });
});

t.test("admins: operators everywhere; in the lobby a kick disconnects and a ban refuses the name and the guest's address", async (t) => {
  const { port } = (await testServer(t, { ...FAST, admins: ["boss"] })).address;
  const first = await account(t, port, "boss");
  first.send({ type: "quit" });
  await first.expectClosed();
  const [boss] = await login(t, port, "boss");
  const dan = await joinAs(t, port, "dan");
  const eve = await joinAs(t, port, "eve");
  await settle(boss);
  await settle(dan);
  t.match(await ask(dan, { type: "kick", target: "eve" }), { type: "error", code: "not_operator" }, "only admins act in the lobby");
  await ask(dan, { type: "enter", room: "#dans" });
  t.match(await ask(boss, { type: "topic", room: "#dans", topic: "x" }), { type: "error", code: "not_in_room" }, "an admin must be in the room to set its topic");
  await ask(boss, { type: "enter", room: "#dans" });
  await settle(dan);
  boss.send({ type: "mute", room: "#dans", target: "dan" });
  t.match(await dan.next(), { type: "mute", target: "dan" }, "an admin is an operator of every room, even against its owner");
  await settle(eve);
  boss.send({ type: "mute", target: "eve" });
  t.match(await dan.next(), { type: "mute", target: "eve", room: "#general" }, "a mute in the lobby");
  t.match(await eve.next(), { type: "mute", target: "eve" });
  t.match(await ask(eve, { type: "chat", message: "hello?" }), { type: "error", code: "muted", room: "#general" }, "the error names the lobby");

  boss.send({ type: "kick", target: "eve", reason: "bye" });
  t.match(await dan.next(), { type: "kick", target: "eve", room: "#general" });
  t.match(await dan.next(), { type: "leave", client_name: "eve", reason: "kicked" });
  t.match(await eve.next(), { type: "kick", target: "eve" });
  await eve.expectClosed();
  boss.send({ type: "ban", target: "dan" });
  t.match(await dan.next(), { type: "ban", target: "dan" });
  await dan.expectClosed();
  const [again, refused] = await (async () => {
    const p = await Peer.connect(t, port);
    p.send({ type: "join", client_name: "dan" });
    return [p, await p.next()] as const;
  })();
  t.match(refused, { type: "error", code: "banned" }, "the address of a banned guest is refused");
  boss.send({ type: "unban", target: "dan" });
  await settle(boss);
  again.send({ type: "join", client_name: "dan" });
  t.match(await again.next(), { type: "welcome", client_name: "dan" }, "unbanned: the name and address are free");
});

t.test("account rooms, bans and memberships survive a restart; members are back in their rooms at login", async (t) => {
  const db = path.join(tempDir(t), "chat.db");
  const first = await testServer(t, { ...FAST, db });
  let port = first.address.port;
  const ana = await account(t, port, "ana");
  const bruno = await account(t, port, "bruno");
  const carla = await joinAs(t, port, "carla");
  await settle(ana);
  await ask(ana, { type: "enter", room: "#provas" });
  await ask(bruno, { type: "enter", room: "#provas" });
  await ask(carla, { type: "enter", room: "#provas" });
  await settle(ana);
  ana.send({ type: "topic", room: "#provas", topic: "sexta" });
  ana.send({ type: "chat", room: "#provas", message: "lembrem" });
  ana.send({ type: "ban", room: "#provas", target: "carla" });
  await settle(ana);
  await first.close();

  const second = await testServer(t, { ...FAST, db });
  port = second.address.port;
  const [back, welcome] = await login(t, port, "bruno", ["history"]);
  t.match(welcome, { type: "welcome", rooms: ["#provas"] });
  t.match(await back.next(), { type: "entered", room: "#provas", topic: "sexta", users: ["bruno"] }, "the room as if entered live");
  t.match(await back.next(), { type: "history", room: "#general" });
  t.match(await back.next(), { type: "chat", room: "#provas", message: "lembrem", history: true });
  t.match(await back.next(), { type: "history", room: "#provas", count: 1 });
  const offline = await back.next();
  t.match(offline, { type: "history", count: 0 }, "then the (empty) private messages kept while away");
  t.notOk("room" in offline.toJSON());
  t.match(await ask(back, { type: "list", room: "#provas" }), { type: "list", users: ["bruno"] });
  const carla2 = await joinAs(t, port, "carla");
  t.match(await ask(carla2, { type: "enter", room: "#provas" }), { type: "error", code: "banned" });
  t.match(await ask(carla2, { type: "rooms" }), { rooms: [{ room: "#general" }, { room: "#provas", topic: "sexta" }] });
});

t.test("friends: request, accept at next login, presence on login and on a dropped connection, removal", async (t) => {
  const { port } = (await testServer(t, FAST)).address;
  const ana = await account(t, port, "ana");
  const bruno = await account(t, port, "bruno");
  const guest = await joinAs(t, port, "guest");
  await settle(ana);
  t.match(await ask(guest, { type: "friend", target: "ana" }), { type: "error", code: "not_registered" });
  t.match(await ask(ana, { type: "friend", target: "guest" }), { type: "error", code: "not_registered" });
  await settle(ana);
  await settle(bruno);

  bruno.send({ type: "quit" });
  await bruno.expectClosed();
  await settle(ana);
  t.match(await ask(ana, { type: "friend", target: "bruno", ref: "f" }), { type: "friend", client_name: "ana", target: "bruno", status: "requested", ref: "f" });
  const [bruno2] = await login(t, port, "bruno");
  t.match(await bruno2.next(), { type: "friend", client_name: "ana", target: "bruno", status: "requested" }, "delivered at next login");
  t.match(await ask(bruno2, { type: "friends" }), { type: "friends", friends: [], requests: ["ana"] });
  await settle(ana);
  bruno2.send({ type: "friend", target: "ana" });
  t.match(await bruno2.next(), { type: "friend", status: "accepted" });
  t.match(await ana.next(), { type: "friend", client_name: "bruno", target: "ana", status: "accepted" });
  t.match(await ask(ana, { type: "friends" }), { friends: [{ client_name: "bruno", online: true }], requests: [] });

  bruno2.socket.destroy();
  const seen: Message[] = [];
  while (!seen.some((m) => m.type === "presence")) seen.push(await ana.next());
  t.match(seen.find((m) => m.type === "presence"), { client_name: "bruno", online: false });
  const [bruno3] = await login(t, port, "bruno");
  const more: Message[] = [];
  while (!more.some((m) => m.type === "presence")) more.push(await ana.next());
  t.match(more.find((m) => m.type === "presence"), { client_name: "bruno", online: true });
  bruno3.send({ type: "unfriend", target: "ana" });
  t.match(await ana.next(), { type: "friend", status: "removed" });
  t.match(await ask(ana, { type: "friends" }), { friends: [] });
});

t.test("guest rooms: a room created again under the same name starts empty; a guest owner's rights end when it leaves", async (t) => {
  const { port } = (await testServer(t)).address;
  const carol = await joinAs(t, port, "carol", { features: ["history"] });
  await settle(carol);
  await ask(carol, { type: "enter", room: "#secret", private: true });
  carol.send({ type: "chat", room: "#secret", message: "private plans" });
  await settle(carol);
  carol.send({ type: "quit" });
  await carol.expectClosed();
  const mallory = await joinAs(t, port, "mallory", { features: ["history"] });
  await settle(mallory);
  t.match(await ask(mallory, { type: "enter", room: "#secret" }), { type: "entered", owner: "mallory" });
  t.match(await mallory.next(), { type: "history", count: 0 }, "nothing of the earlier room");

  const dan = await joinAs(t, port, "dan");
  const erin = await joinAs(t, port, "erin");
  await settle(dan);
  await ask(dan, { type: "enter", room: "#club", private: true });
  dan.send({ type: "invite", room: "#club", target: "erin" });
  await settle(dan);
  await settle(erin);
  await ask(erin, { type: "enter", room: "#club" });
  dan.send({ type: "quit" });
  await dan.expectClosed();
  const fake = await joinAs(t, port, "dan");
  t.match(await ask(fake, { type: "enter", room: "#club" }), { type: "error", code: "invite_only" }, "a later guest named dan is not the owner");
});

t.test("an address ban refuses guests from it, not accounts (on 127.0.0.1 the admin must still get in)", async (t) => {
  const { port } = (await testServer(t, { ...FAST, admins: ["boss"] })).address;
  const boss = await account(t, port, "boss");
  boss.send({ type: "quit" });
  await boss.expectClosed();
  const [admin] = await login(t, port, "boss");
  const guest = await joinAs(t, port, "guest");
  await settle(admin);
  admin.send({ type: "ban", target: "guest" });
  await guest.expectClosed();
  admin.socket.destroy();
  const [back, welcome] = await login(t, port, "boss");
  t.match(welcome, { type: "welcome", account: true });
  const [other] = [await Peer.connect(t, port)];
  other.send({ type: "join", client_name: "someone" });
  t.match(await other.next(), { type: "error", code: "banned" });
  back.send({ type: "unban", target: "guest" });
  await settle(back);
  other.send({ type: "join", client_name: "someone" });
  t.match(await other.next(), { type: "welcome" });
});
