/**
 * The protocol's behaviours as one table, run through every gateway that
 * carries JSON messages (framed TCP, WebSocket, and both over TLS), so each
 * way in is held to the same contract.
 */
import type { ProtocolPeer } from "./test-clients.js";

interface Assert {
  match(found: unknown, pattern: unknown, ...message: [] | [string]): unknown;
  same(found: unknown, wanted: unknown, ...message: [] | [string]): unknown;
}

/** Opens a connection (joined under `name` when given) through the gateway under test. */
export type Connect = (name?: string) => Promise<ProtocolPeer>;

export interface ProtocolCase {
  name: string;
  run(t: Assert, connect: Connect): Promise<void>;
}

export const PROTOCOL_CASES: ProtocolCase[] = [
  {
    name: "a join is welcomed with who is online, and the others are told",
    async run(t, connect) {
      const ana = await connect("ana");
      const bruno = await connect();
      bruno.send({ type: "join", client_name: "bruno" });
      t.match(await bruno.next(), { type: "welcome", client_name: "bruno", users: ["ana", "bruno"] });
      t.match(await ana.next(), { type: "join", client_name: "bruno" });
    },
  },
  {
    name: "invalid and taken names are refused, and the client may try again",
    async run(t, connect) {
      await connect("ana");
      const peer = await connect();
      for (const [name, code] of [["ana maria", "name_invalid"], ["ANA", "name_taken"], ["server", "name_invalid"]]) {
        peer.send({ type: "join", client_name: name });
        t.match(await peer.next(), { type: "error", code }, `${name}: ${code}`);
      }
      peer.send({ type: "join", client_name: "" });
      t.match(await peer.next(), { type: "welcome", client_name: "Usuario0" });
    },
  },
  {
    name: "before joining, only join, ping and quit are allowed",
    async run(t, connect) {
      const peer = await connect();
      peer.send({ type: "ping" });
      t.match(await peer.next(), { type: "pong" });
      peer.send({ type: "list" });
      t.match(await peer.next(), { type: "error", code: "not_joined" });
    },
  },
  {
    name: "a chat reaches the others, stamped by the server; the sender gets nothing back",
    async run(t, connect) {
      const ana = await connect("ana");
      const bruno = await connect("bruno");
      await ana.drain();
      ana.send({ type: "chat", client_name: "forged", subject: "Provas", message: "olá\n🎉" });
      t.match(await bruno.next(), { type: "chat", client_name: "ana", subject: "Provas", message: "olá\n🎉" });
      t.same(await ana.drain(), []);
    },
  },
  {
    name: "a private chat reaches its recipient only; an unknown one is an error",
    async run(t, connect) {
      const ana = await connect("ana");
      const bruno = await connect("bruno");
      const carla = await connect("carla");
      await ana.drain();
      await bruno.drain();
      ana.send({ type: "chat", to: "BRUNO", message: "psst" });
      t.match(await bruno.next(), { type: "chat", client_name: "ana", to: "bruno", message: "psst" });
      t.same(await carla.drain(), []);
      ana.send({ type: "chat", to: "zed", message: "hi", ref: "7" });
      t.match(await ana.next(), { type: "error", code: "unknown_recipient", ref: "7" });
    },
  },
  {
    name: "with the echo feature the sender gets its chat back with an id",
    async run(t, connect) {
      const peer = await connect();
      peer.send({ type: "join", client_name: "ana", features: ["echo", "history"] });
      t.match(await peer.next(), { type: "welcome", features: ["echo", "history"] });
      t.match(await peer.next(), { type: "history", room: "#general", count: 0 });
      peer.send({ type: "chat", message: "mine", ref: "r1" });
      t.match(await peer.next(), { type: "chat", client_name: "ana", message: "mine", ref: "r1", id: /./ });
    },
  },
  {
    name: "list, bad JSON, a wrong field type and an unknown type are answered; the connection goes on",
    async run(t, connect) {
      const ana = await connect("ana");
      ana.send({ type: "list" });
      t.match(await ana.next(), { type: "list", users: ["ana"] });
      ana.sendBody("{not json");
      t.match(await ana.next(), { type: "error", code: "bad_json" });
      ana.sendBody("[1,2]");
      t.match(await ana.next(), { type: "error", code: "bad_json" });
      ana.sendBody('{"type":"chat","message":5}');
      t.match(await ana.next(), { type: "error", code: "bad_message" });
      ana.sendBody('{"type":"dance"}');
      t.match(await ana.next(), { type: "error", code: "unknown_type" });
      ana.send({ type: "ping" });
      t.match(await ana.next(), { type: "pong" });
    },
  },
  {
    name: "a bare seed Message joins implicitly and gets its own broadcast back",
    async run(t, connect) {
      const ana = await connect("ana");
      const seed = await connect();
      seed.sendBody(JSON.stringify({ client_name: "seedy", subject: "", message: "hi all", date: "01/01/2026 10:00:00" }));
      t.match(await seed.next(), { type: "welcome", client_name: "seedy" });
      t.match(await seed.next(), { type: "chat", client_name: "seedy", message: "hi all" });
      t.match(await ana.next(), { type: "join", client_name: "seedy" });
      t.match(await ana.next(), { type: "chat", client_name: "seedy", message: "hi all" });
    },
  },
  {
    name: "quit closes the connection and the others see leave (quit)",
    async run(t, connect) {
      const ana = await connect("ana");
      const bruno = await connect("bruno");
      await ana.drain();
      bruno.send({ type: "quit" });
      await bruno.expectClosed();
      t.match(await ana.next(), { type: "leave", client_name: "bruno", reason: "quit" });
    },
  },
];
