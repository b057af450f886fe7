/**
 * Model-based test of the server: random sequences of join, chat, private,
 * list, quit and abrupt disconnect, run against a real server on port 0. The
 * model says who is online; after each command every connected client must
 * have received exactly the frames the model predicts, in order.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import t from "tap";
import type { Message } from "../protocol.js";
import { nameKey } from "../protocol.js";
import { startServer } from "../server.js";
import { Peer } from "./helpers.js";

interface Model {
  /** Online names, by nameKey. */
  online: Map<string, string>;
}
interface Real {
  port: number;
  peers: Map<string, Peer>;
  teardown: Array<() => unknown>;
}
type Expected = Map<string, Array<Partial<Message>>>;

const collector = { teardown: (fn: () => unknown) => void fn }; // sockets are destroyed by each run's own teardown

function expectNothing(model: Model): Expected {
  return new Map([...model.online.keys()].map((key) => [key, []]));
}

/** Checks that each online peer received exactly the expected frames (fields compared by subset). */
async function verify(real: Real, expected: Expected): Promise<void> {
  for (const [key, frames] of expected) {
    const peer = real.peers.get(key);
    assert.ok(peer, `no peer for ${key}`);
    const got = await peer.drain();
    assert.equal(got.length, frames.length, `${key} got ${JSON.stringify(got)}, expected ${JSON.stringify(frames)}`);
    frames.forEach((frame, i) => {
      for (const [field, value] of Object.entries(frame)) {
        assert.deepEqual((got[i] as unknown as Record<string, unknown>)[field], value, `${key} frame ${i} field ${field}`);
      }
    });
  }
}

class Join implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: string) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const key = nameKey(this.name);
    const peer = await Peer.connect(collector, real.port);
    real.teardown.push(() => peer.socket.destroy());
    peer.send({ type: "join", client_name: this.name });
    const answer = await peer.next();
    if (model.online.has(key)) {
      assert.equal(answer.code, "name_taken");
      peer.socket.destroy();
      await verify(real, expectNothing(model));
      return;
    }
    assert.equal(answer.type, "welcome");
    assert.deepEqual([...(answer.users ?? [])].map(nameKey).sort(), [...model.online.keys(), key].sort());
    const expected = expectNothing(model);
    for (const frames of expected.values()) frames.push({ type: "join", client_name: this.name });
    model.online.set(key, this.name);
    real.peers.set(key, peer);
    expected.set(key, []);
    await verify(real, expected);
  }
  toString = () => `join(${this.name})`;
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
    if (this.to === undefined) {
      for (const [key, frames] of expected) if (key !== fromKey) frames.push(frame);
    } else if (model.online.has(nameKey(this.to))) {
      expected.get(nameKey(this.to))!.push({ ...frame, to: model.online.get(nameKey(this.to))! });
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
    const sorted = [...model.online.keys()].sort().map((key) => model.online.get(key)!);
    expected.get(nameKey(this.who))!.push({ type: "list", users: sorted });
    await verify(real, expected);
  }
  toString = () => `${this.who}: /list`;
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
    model.online.delete(key);
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

const NAMES = ["ana", "bruno", "carla", "Ana", "Usuário_7"];
const name = fc.constantFrom(...NAMES);
const text = fc.string({ unit: "binary", maxLength: 40 });
const commands = fc.commands(
  [
    name.map((n) => new Join(n)),
    fc.tuple(name, text).map(([from, msg]) => new Say(from, msg)),
    fc.tuple(name, text, fc.constantFrom(...NAMES, "zed")).map(([from, msg, to]) => new Say(from, msg, to)),
    name.map((n) => new List(n)),
    fc.tuple(name, fc.boolean()).map(([n, abrupt]) => new Leave(n, abrupt)),
  ],
  { maxCommands: 25 },
);

t.test("the server behaves as the model says, for any sequence of commands", async (t) => {
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const server = await startServer({ port: 0 });
      const real: Real = { port: server.address.port, peers: new Map(), teardown: [] };
      try {
        await fc.asyncModelRun(() => ({ model: { online: new Map() }, real }), cmds);
      } finally {
        real.teardown.forEach((fn) => fn());
        await server.close();
      }
    }),
    { numRuns: 40 },
  );
  t.pass("40 random sessions matched the model");
});
