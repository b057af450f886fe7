/** Rooms are bounded: how many a name may own, how many a client may be in, and the `rooms` answer comes in pages. */
import t from "tap";
import { LOBBY, type Message, type RoomSummary } from "../protocol.js";
import { MAX_ROOMS_OWNED, MAX_ROOMS_PER_CLIENT } from "../server/hub.js";
import { testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

type Tester = import("tap").Test;

/** A server without pacing: the tests send thousands of frames. */
async function port(t: Tester): Promise<number> {
  return (await testServer(t, { rateLimit: 0 })).address.port;
}

/** `peer` enters each room; resolves with the answers, in order. */
async function enterAll(peer: Peer, rooms: string[]): Promise<Message[]> {
  for (const room of rooms) peer.send({ type: "enter", room });
  const answers: Message[] = [];
  while (answers.length < rooms.length) {
    const msg = await peer.next();
    if (msg.type === "entered" || msg.type === "error") answers.push(msg);
  }
  return answers;
}

/** Creators of `count` rooms named `#<prefix><n>`, MAX_ROOMS_OWNED each, who stay so that the rooms stay. */
async function createRooms(t: Tester, port: number, prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, n) => `#${prefix}${String(n).padStart(4, "0")}`);
  for (let first = 0; first < count; first += MAX_ROOMS_OWNED) {
    const creator = await Peer.joined(t, port, `${prefix}owner${first}`);
    const answers = await enterAll(creator, names.slice(first, first + MAX_ROOMS_OWNED));
    t.notOk(answers.some((a) => a.type === "error"), `rooms from ${first} created`);
  }
  return names;
}

t.test("a name owns at most MAX_ROOMS_OWNED rooms: one more is too_many_rooms; entering others' rooms still works", async (t) => {
  const server = await port(t);
  const ana = await Peer.joined(t, server, "ana");
  const own = Array.from({ length: MAX_ROOMS_OWNED }, (_, n) => `#ana${n}`);
  t.notOk((await enterAll(ana, own)).some((a) => a.type === "error"), `${MAX_ROOMS_OWNED} rooms created`);
  const [refused] = await enterAll(ana, ["#one-more"]);
  t.match(refused, { type: "error", code: "too_many_rooms", message: /own 50 rooms/ });
  const bia = await Peer.joined(t, server, "bia");
  await enterAll(bia, ["#bias-room"]);
  t.match(await enterAll(ana, ["#bias-room"]), [{ type: "entered", room: "#bias-room" }], "a room someone else owns");
});

t.test("a client is in at most MAX_ROOMS_PER_CLIENT rooms: one more is too_many_rooms", async (t) => {
  const server = await port(t);
  const rooms = await createRooms(t, server, "r", MAX_ROOMS_PER_CLIENT + 1);
  const walker = await Peer.joined(t, server, "walker");
  const answers = await enterAll(walker, rooms);
  t.equal(answers.filter((a) => a.type === "entered").length, MAX_ROOMS_PER_CLIENT);
  t.match(answers.at(-1), { type: "error", code: "too_many_rooms", message: /in 100 rooms/ });
});

t.test("the rooms answer comes in pages: `after` the last one gets the next, until `more` is false; nothing missed or repeated", async (t) => {
  const server = await port(t);
  const names = await createRooms(t, server, "p", 1500);
  const reader = await Peer.joined(t, server, "reader");
  const seen: string[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    reader.send({ type: "rooms", ref: "p", ...(after !== undefined && { after }) });
    const answer = await reader.next();
    t.match(answer, { type: "rooms", ref: "p", count: names.length + 1 });
    const rooms = answer.rooms as RoomSummary[];
    seen.push(...rooms.map((r) => r.room));
    pages++;
    if (!answer.more) break;
    after = rooms.at(-1)!.room;
    if (pages > names.length) break; // bounded: a bug must fail, not loop
  }
  t.ok(pages > 1, `${pages} pages`);
  t.same(seen, [LOBBY, ...names], "the lobby first, then every room once, by name");
});
