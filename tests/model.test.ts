/**
 * Model-based test of the server: random sequences of join (with and
 * without the history feature, with right, wrong or no passwords), register,
 * chat, private, list, enter, part, chat to a room, kick, ban, mute, quit and
 * abrupt disconnect, run against a real server on port 0. The model says who
 * is online, who has an account, which rooms exist with whom, and what each
 * conversation holds; after each command every connected client must have
 * received exactly the frames the model predicts, in order, replays included.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import t from "tap";
import type { Message, MessageFields } from "../protocol.js";
import { LOBBY, nameKey, sortNames, roomKey } from "../protocol.js";
import { HISTORY_REPLAY } from "../server/limits.js";
import { MAX_FAILED_LOGINS } from "../server/passwords.js";
import { startServer } from "../server/chat-server.js";
import { Peer } from "./helpers/test-clients.js";

interface Chat {
  client_name: string;
  message: string;
  to?: string;
}
interface RoomModel {
  name: string;
  ownerKey: string;
  /** Created by an account: kept when empty, and its account members come back at login. */
  persistent: boolean;
  members: Set<string>;
  accountMembers: Set<string>;
  banned: Set<string>;
  muted: Set<string>;
  /** A guest room's own history: one created later under the same name starts empty. */
  history: Chat[];
}
interface Model {
  /** Online names, by nameKey. */
  online: Map<string, string>;
  /** Who joined with the history feature, by key. */
  wantsHistory: Set<string>;
  /** Online sessions logged in to (or that registered) an account. */
  loggedIn: Set<string>;
  /** Registered names, by key. */
  accounts: Map<string, string>;
  failures: Map<string, number>;
  rooms: Map<string, RoomModel>;
  lobby: Chat[];
  /** The chats of rooms owned by accounts, by room key: they outlive the room's members and restarts. */
  roomHistory: Map<string, Chat[]>;
  offline: Map<string, Chat[]>;
}
interface Real {
  port: number;
  peers: Map<string, Peer>;
  teardown: Array<() => unknown>;
}
type Frame = Partial<Message> & Record<string, unknown>;
type Expected = Map<string, Frame[]>;

const collector = { teardown: (fn: () => unknown) => void fn }; // sockets are destroyed by each run's own teardown
const password = (key: string) => `${key}-pw-123`;

function expectNothing(model: Model): Expected {
  return new Map([...model.online.keys()].map((key) => [key, []]));
}

function matches(got: Message, frame: Frame, what: string): void {
  for (const [field, value] of Object.entries(frame)) {
    assert.deepEqual((got as unknown as Record<string, unknown>)[field], value, `${what} field ${field}: ${JSON.stringify(got)}`);
  }
}

/** Checks that each online peer received exactly the expected frames (fields compared by subset). */
async function verify(real: Real, expected: Expected): Promise<void> {
  for (const [key, frames] of expected) {
    const peer = real.peers.get(key);
    assert.ok(peer, `no peer for ${key}`);
    const got = await peer.drain();
    assert.equal(got.length, frames.length, `${key} got ${JSON.stringify(got)}, expected ${JSON.stringify(frames)}`);
    frames.forEach((frame, i) => matches(got[i]!, frame, `${key} frame ${i}`));
  }
}

function replayFrames(chats: Chat[], marker: Frame): Frame[] {
  const latest = chats.slice(-HISTORY_REPLAY);
  return [...latest.map((c) => ({ type: "chat" as const, history: true, client_name: c.client_name, message: c.message })), { type: "history" as const, count: latest.length, ...marker }];
}

function historyOf(model: Model, room: RoomModel): Chat[] {
  return room.persistent ? (model.roomHistory.get(roomKey(room.name)) ?? []) : room.history;
}

/** A member leaves a room: a guest's ownership ends with it; guest rooms end with their last member. */
function leaveRoom(model: Model, room: RoomModel, key: string, forget: boolean): void {
  if (!room.members.delete(key)) return;
  if (forget) room.accountMembers.delete(key);
  if (room.ownerKey === key && !model.loggedIn.has(key)) room.ownerKey = "";
  if (!room.persistent && room.members.size === 0) model.rooms.delete(roomKey(room.name));
}

type Password = "right" | "wrong" | "none";

class Join implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly history: boolean,
    readonly password: Password,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.name);
    const peer = await Peer.connect(collector, real.port);
    real.teardown.push(() => peer.socket.destroy());
    const pw = this.password === "none" ? {} : { password: this.password === "right" ? password(key) : "not the password" };
    peer.send({ type: "join", client_name: this.name, features: this.history ? ["history"] : [], ...pw });
    const answer = await peer.next();
    const refusal = this.refusal(model, key);
    if (refusal) {
      assert.equal(answer.code, refusal, JSON.stringify(answer));
      if (refusal === "bad_password") model.failures.set(key, (model.failures.get(key) ?? 0) + 1);
      peer.socket.destroy();
      await verify(real, expectNothing(model));
      return;
    }
    const account = model.accounts.has(key);
    const stale = real.peers.get(key);
    if (account) model.failures.delete(key);
    const expected = expectNothing(model);
    if (stale) {
      // A take-over: the stale connection is told and closed; the others see nothing.
      matches(await stale.next(), { type: "error", code: "logged_in_elsewhere" }, "stale");
      await stale.expectClosed();
      expected.delete(key);
    }
    const name = account ? model.accounts.get(key)! : this.name;
    const rooms = account ? [...model.rooms.values()].filter((room) => room.persistent && room.accountMembers.has(key)) : [];
    const replayed = [...rooms];
    // A take-over keeps the stale connection's rooms, guest rooms included, and names them all in the welcome.
    if (stale) for (const room of model.rooms.values()) if (room.members.has(key) && !rooms.includes(room)) rooms.push(room);
    model.online.set(key, name);
    if (!stale) {
      for (const frames of expected.values()) frames.push({ type: "join", client_name: name });
      for (const room of rooms) {
        for (const member of room.members) expected.get(member)?.push({ type: "join", client_name: name, room: room.name });
        room.members.add(key);
      }
    }
    const users = sortNames(model.online.values());
    matches(answer, { type: "welcome", client_name: name, users, account, rooms: rooms.map((r) => r.name) }, "welcome");
    // Each room it is back in, told as entered (issue 18, item 7), before any replay.
    const mine: Frame[] = rooms.map((room) => ({ type: "entered", room: room.name }));
    if (this.history) {
      mine.push(...replayFrames(model.lobby, { room: LOBBY }));
      for (const room of replayed) mine.push(...replayFrames(historyOf(model, room), { room: room.name }));
    }
    if (account) {
      const missed = model.offline.get(key) ?? [];
      model.offline.delete(key);
      const frames = missed.map((c) => ({ type: "chat" as const, client_name: c.client_name, message: c.message, to: c.to, ...(this.history && { history: true }) }));
      mine.push(...frames);
      if (this.history) mine.push({ type: "history", count: missed.length, room: undefined });
    }
    expected.set(key, mine);
    real.peers.set(key, peer);
    if (this.history) model.wantsHistory.add(key);
    else model.wantsHistory.delete(key);
    if (account) model.loggedIn.add(key);
    else model.loggedIn.delete(key);
    await verify(real, expected);
  }

  private refusal(model: Model, key: string): string | undefined {
    if (!model.accounts.has(key)) return model.online.has(key) ? "name_taken" : undefined;
    if ((model.failures.get(key) ?? 0) >= MAX_FAILED_LOGINS) return "too_many_attempts";
    if (this.password === "none") return "password_required";
    if (this.password === "wrong") return "bad_password";
    return undefined;
  }
  toString = () => `join(${this.name}${this.history ? ", history" : ""}, ${this.password} password)`;
}

class Register implements fc.AsyncCommand<Model, Real> {
  constructor(readonly who: string) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.who));
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.who);
    real.peers.get(key)!.send({ type: "register", password: password(key) });
    const expected = expectNothing(model);
    if (model.accounts.has(key)) {
      expected.get(key)!.push({ type: "error", code: "name_registered" });
    } else {
      model.accounts.set(key, model.online.get(key)!);
      model.loggedIn.add(key);
      expected.get(key)!.push({ type: "registered", client_name: model.online.get(key)! });
    }
    await verify(real, expected);
  }
  toString = () => `${this.who}: /register`;
}

class Say implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly from: string,
    readonly text: string,
    readonly to?: string,
  ) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.from));
  async run(model: Model, real: Real): Promise<void> {
    const fromKey = nameKey(this.from);
    const sender = model.online.get(fromKey)!;
    real.peers.get(fromKey)!.send({ type: "chat", message: this.text, ...(this.to !== undefined && { to: this.to }) });
    const expected = expectNothing(model);
    const frame = { type: "chat" as const, client_name: sender, message: this.text };
    const toKey = this.to === undefined ? undefined : nameKey(this.to);
    if (toKey === undefined) {
      for (const [key, frames] of expected) if (key !== fromKey) frames.push({ ...frame, room: LOBBY });
      model.lobby.push(frame);
    } else if (model.online.has(toKey)) {
      expected.get(toKey)!.push({ ...frame, to: model.online.get(toKey)! });
    } else if (model.accounts.has(toKey)) {
      const queue = model.offline.get(toKey) ?? [];
      queue.push({ ...frame, to: model.accounts.get(toKey)! });
      model.offline.set(toKey, queue);
    } else {
      expected.get(fromKey)!.push({ type: "error", code: "unknown_recipient" });
    }
    await verify(real, expected);
  }
  toString = () => `${this.from}: ${JSON.stringify(this.text)}${this.to === undefined ? "" : ` to ${this.to}`}`;
}

class List implements fc.AsyncCommand<Model, Real> {
  constructor(readonly who: string) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.who));
  async run(model: Model, real: Real): Promise<void> {
    real.peers.get(nameKey(this.who))!.send({ type: "list" });
    const expected = expectNothing(model);
    const sorted = sortNames(model.online.values());
    expected.get(nameKey(this.who))!.push({ type: "list", users: sorted });
    await verify(real, expected);
  }
  toString = () => `${this.who}: /list`;
}

class Enter implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly who: string,
    readonly room: string,
  ) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.who));
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.who);
    real.peers.get(key)!.send({ type: "enter", room: this.room });
    const expected = expectNothing(model);
    let room = model.rooms.get(roomKey(this.room));
    if (room?.banned.has(key) && !room.members.has(key)) {
      expected.get(key)!.push({ type: "error", code: "banned" });
      return verify(real, expected);
    }
    if (!room) {
      const persistent = model.loggedIn.has(key);
      room = { name: this.room, ownerKey: key, persistent, members: new Set(), accountMembers: new Set(), banned: new Set(), muted: new Set(), history: [] };
      model.rooms.set(roomKey(this.room), room);
    }
    if (!room.members.has(key)) {
      for (const member of room.members) expected.get(member)!.push({ type: "join", client_name: model.online.get(key)!, room: room.name });
      room.members.add(key);
      if (room.persistent && model.loggedIn.has(key)) room.accountMembers.add(key);
    }
    const users = sortNames([...room.members].map((k) => model.online.get(k)!));
    expected.get(key)!.push({ type: "entered", room: room.name, users });
    if (model.wantsHistory.has(key)) expected.get(key)!.push(...replayFrames(historyOf(model, room), { room: room.name }));
    await verify(real, expected);
  }
  toString = () => `${this.who}: /join ${this.room}`;
}

class Part implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly who: string,
    readonly room: string,
  ) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.who));
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.who);
    real.peers.get(key)!.send({ type: "part", room: this.room });
    const expected = expectNothing(model);
    const room = model.rooms.get(roomKey(this.room));
    if (!room?.members.has(key)) {
      expected.get(key)!.push({ type: "error", code: "not_in_room" });
      return verify(real, expected);
    }
    leaveRoom(model, room, key, true);
    for (const member of room.members) expected.get(member)!.push({ type: "leave", client_name: model.online.get(key)!, room: room.name, reason: "part" });
    expected.get(key)!.push({ type: "parted", room: room.name });
    await verify(real, expected);
  }
  toString = () => `${this.who}: /part ${this.room}`;
}

class RoomSay implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly from: string,
    readonly room: string,
    readonly text: string,
  ) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.from));
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.from);
    real.peers.get(key)!.send({ type: "chat", room: this.room, message: this.text });
    const expected = expectNothing(model);
    const room = model.rooms.get(roomKey(this.room));
    if (!room?.members.has(key)) expected.get(key)!.push({ type: "error", code: "not_in_room" });
    else if (room.muted.has(key)) expected.get(key)!.push({ type: "error", code: "muted" });
    else {
      const frame = { type: "chat" as const, client_name: model.online.get(key)!, message: this.text };
      for (const member of room.members) if (member !== key) expected.get(member)!.push({ ...frame, room: room.name });
      if (room.persistent) model.roomHistory.set(roomKey(room.name), [...historyOf(model, room), frame]);
      else room.history.push(frame);
    }
    await verify(real, expected);
  }
  toString = () => `${this.from} in ${this.room}: ${JSON.stringify(this.text)}`;
}

type Action = "kick" | "ban" | "mute";

class Moderate implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly actor: string,
    readonly action: Action,
    readonly room: string,
    readonly target: string,
  ) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.actor));
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.actor);
    const targetKey = nameKey(this.target);
    real.peers.get(key)!.send({ type: this.action, room: this.room, target: this.target } as MessageFields);
    const expected = expectNothing(model);
    const room = model.rooms.get(roomKey(this.room));
    const error = (code: string) => expected.get(key)!.push({ type: "error", code });
    if (!room) error("not_in_room");
    else if (room.ownerKey !== key) error("not_operator");
    else if (this.action !== "ban" && !room.members.has(targetKey)) error("not_in_room");
    else if (room.ownerKey === targetKey) error("not_operator");
    else {
      const shown = model.online.get(targetKey) ?? this.target;
      const frame = { type: this.action, client_name: model.online.get(key)!, room: room.name, target: shown };
      for (const member of room.members) expected.get(member)!.push(frame);
      if (model.online.has(targetKey) && !room.members.has(targetKey)) expected.get(targetKey)!.push(frame);
      if (!room.members.has(key) && key !== targetKey) expected.get(key)!.push(frame);
      if (this.action === "mute") room.muted.add(targetKey);
      if (this.action === "ban") room.banned.add(targetKey);
      if (this.action !== "mute") leaveRoom(model, room, targetKey, true);
    }
    await verify(real, expected);
  }
  toString = () => `${this.actor}: /${this.action} ${this.target} in ${this.room}`;
}

class Leave implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly who: string,
    readonly abrupt: boolean,
  ) {}
  check = (model: Readonly<Model>) => model.online.has(nameKey(this.who));
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.who);
    const name = model.online.get(key)!;
    const peer = real.peers.get(key)!;
    if (this.abrupt) peer.socket.destroy();
    else peer.send({ type: "quit" });
    await peer.expectClosed();
    for (const room of [...model.rooms.values()]) leaveRoom(model, room, key, false);
    model.online.delete(key);
    model.loggedIn.delete(key);
    model.wantsHistory.delete(key);
    real.peers.delete(key);
    // A loss is noticed asynchronously: wait for each notice before checking that nothing else came.
    for (const other of real.peers.values()) {
      const { type, client_name, reason } = await other.next();
      assert.deepEqual({ type, client_name, reason }, { type: "leave", client_name: name, reason: this.abrupt ? "lost" : "quit" });
    }
    await verify(real, expectNothing(model));
  }
  toString = () => `${this.who}: ${this.abrupt ? "kill" : "/quit"}`;
}

// Few names and rooms, so that random sequences often meet: the same room, a member muted then talking, a login after a register.
const NAMES = ["ana", "bruno", "Ana", "Usuário_7"];
const ROOMS = ["#provas", "#PROVAS"];
const name = fc.constantFrom(...NAMES);
const room = fc.constantFrom(...ROOMS);
const text = fc.string({ unit: "binary", maxLength: 40 });
const commands = fc.commands(
  [
    fc.tuple(name, fc.boolean(), fc.constantFrom<Password>("right", "right", "wrong", "none")).map(([n, h, p]) => new Join(n, h, p)),
    name.map((n) => new Register(n)),
    fc.tuple(name, text).map(([from, msg]) => new Say(from, msg)),
    fc.tuple(name, text, fc.constantFrom(...NAMES, "zed")).map(([from, msg, to]) => new Say(from, msg, to)),
    name.map((n) => new List(n)),
    fc.tuple(name, room).map(([n, r]) => new Enter(n, r)),
    fc.tuple(name, room).map(([n, r]) => new Part(n, r)),
    // Rooms and moderation twice over: their interesting cases need several steps in a row.
    ...Array.from({ length: 2 }, () => [
      fc.tuple(name, room, text).map(([n, r, m]) => new RoomSay(n, r, m)),
      fc.tuple(name, fc.constantFrom<Action>("kick", "ban", "mute"), room, name).map(([a, act, r, target]) => new Moderate(a, act, r, target)),
    ]).flat(),
    fc.tuple(name, fc.boolean()).map(([n, abrupt]) => new Leave(n, abrupt)),
  ],
  { maxCommands: 40, size: "max" },
);

const emptyModel = (): Model => ({
  online: new Map(),
  wantsHistory: new Set(),
  loggedIn: new Set(),
  accounts: new Map(),
  failures: new Map(),
  rooms: new Map(),
  lobby: [],
  roomHistory: new Map(),
  offline: new Map(),
});

t.test("the server behaves as the model says, for any sequence of commands", async (t) => {
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const server = await startServer({ port: 0, passwordCostLog2: 10 });
      const real: Real = { port: server.address.port, peers: new Map(), teardown: [] };
      try {
        // Every run starts with two clients in a room: the random part then meets rooms and moderation often.
        const prelude = [new Join("ana", true, "none"), new Join("bruno", false, "none"), new Enter("ana", "#provas"), new Enter("bruno", "#provas")];
        await fc.asyncModelRun(() => ({ model: emptyModel(), real }), [...prelude, ...cmds]);
      } finally {
        real.teardown.forEach((fn) => fn());
        await server.close();
      }
    }),
    { numRuns: 60 },
  );
  t.pass("60 random sessions matched the model");
});
