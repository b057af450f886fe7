/**
 * A `history` request is paced: the store reads no more than the reply can
 * carry, and the reply's bytes count against the asker's rate. Over real
 * sockets.
 */
import t from "tap";
import { HISTORY_BYTES_PER_FRAME, MAX_HISTORY_PAGE, REPLAY_BUDGET_BYTES } from "../server/hub.js";
import { RATE_LIMIT_PER_SECOND } from "../server/limits.js";
import { chatBytes, MemoryStore, type Page } from "../server/store.js";
import { testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** Long chats: a page of MAX_HISTORY_PAGE of them is many times what one reply carries. */
const LONG = "x".repeat(60_000);
const LONG_CHATS = 40;

/** A memory store that adds up what its history reads gave back. */
class CountingStore extends MemoryStore {
  bytesRead = 0;

  override async chatsBefore(conversation: string, limit: number, beforeId?: string, maxBytes?: number): Promise<Page> {
    const page = await super.chatsBefore(conversation, limit, beforeId, maxBytes);
    for (const chat of page.chats) this.bytesRead += chatBytes(chat);
    return page;
  }
}

/** A server whose lobby holds LONG_CHATS long chats, and a client joined to it. */
async function lobbyOfLongChats(t: import("tap").Test, options: { rateLimit?: number } = {}) {
  const store = new CountingStore();
  const { port } = (await testServer(t, { store, ...options })).address;
  const writer = await Peer.joined(t, port, "writer");
  for (let i = 0; i < LONG_CHATS; i++) writer.send({ type: "chat", message: `${i} ${LONG}` });
  await writer.drain();
  const reader = await Peer.joined(t, port, "reader");
  return { store, reader };
}

/** Sends a history request for a full page and resolves with its marker once every chat of it has come. */
async function askHistory(reader: Peer, ref: string) {
  reader.send({ type: "history", room: "#general", limit: MAX_HISTORY_PAGE, ref });
  for (;;) {
    const msg = await reader.next();
    if (msg.type === "history") return msg;
  }
}

t.test("a history request reads no more than its reply can carry", async (t) => {
  const { store, reader } = await lobbyOfLongChats(t, { rateLimit: 0 });
  store.bytesRead = 0;
  const marker = await askHistory(reader, "h");
  t.match(marker, { type: "history", more: true, ref: "h" });
  t.ok(marker.count! > 0 && marker.count! < LONG_CHATS, `a reply of ${marker.count} chats, within the budget`);
  // Today's read: the reply plus at most one chat more (the one that did not fit). Before: the whole page, 40 × 60 KB.
  t.ok(store.bytesRead <= REPLAY_BUDGET_BYTES + chatBytes({ subject: "", message: LONG }) + 100, `read ${store.bytesRead} bytes`);
});

t.test("history replies count against the asker's rate: a loop of them is paced", async (t) => {
  const { reader } = await lobbyOfLongChats(t);
  // Four frames against a bucket of 2 × rate, and three full replies (most of 256 KiB each) on top.
  const owed = 4 + (3 * REPLAY_BUDGET_BYTES * 0.9) / HISTORY_BYTES_PER_FRAME - 2 * RATE_LIMIT_PER_SECOND;
  t.ok(owed > 2 * RATE_LIMIT_PER_SECOND, "the test asks for more than two seconds' worth");
  const asked = Date.now();
  for (const ref of ["a", "b", "c"]) await askHistory(reader, ref);
  reader.send({ type: "list", ref: "after" });
  t.match(await reader.next(), { type: "list", ref: "after" });
  const took = Date.now() - asked;
  // A lower bound only: a busy machine makes it longer, never shorter. Unpaced, it takes a few milliseconds.
  t.ok(took >= (owed / RATE_LIMIT_PER_SECOND) * 1000 * 0.8, `three replies and a list took ${took} ms: paced by the budget`);
});
