/** The echo (feature `echo`) is the server's word that it has stored the chat. */
import path from "node:path";
import t from "tap";
import { SqliteStore } from "../server/sqlite-store.js";
import { MemoryStore } from "../server/store.js";
import { CHAT_NUMBER_BLOCK } from "../server/hub.js";
import { Peer } from "./helpers/test-clients.js";
import { tempDir, testServer } from "./helpers/helpers.js";

t.test("with a database, the echo waits for the commit, and what the sender gets meanwhile keeps its order", async (t) => {
  const store = SqliteStore.open(path.join(tempDir(t), "chat.db"));
  const { port } = (await testServer(t, { store })).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const ana = await Peer.connect(t, port);
  ana.send({ type: "join", client_name: "ana", features: ["echo"] });
  await ana.next(); // welcome
  await bruno.next(); // ana joined
  ana.send({ type: "chat", message: "one", ref: "1" });
  bruno.send({ type: "chat", message: "from bruno" });
  ana.send({ type: "ping", ref: "p" });
  const got = [await ana.next(), await ana.next(), await ana.next()];
  t.match(got[0], { type: "chat", client_name: "ana", message: "one", ref: "1" }, "her echo first: she sent it first");
  t.match(got[1], { type: "chat", client_name: "bruno", message: "from bruno" });
  t.match(got[2], { type: "pong", ref: "p" }, "the pong after everything sent before the ping");
  t.ok((await store.chatsBefore("#general", 10)).chats.some((chat) => chat.id === got[0]!.id), "the echoed chat is stored");
});

t.test("a chat the store could not keep is not echoed: the sender is told `unavailable`, with its ref", async (t) => {
  class FailingStore extends MemoryStore {
    override afterCommit(callback: (error?: Error) => void): void {
      callback(new Error("disk full"));
    }
  }
  const { port } = (await testServer(t, { store: new FailingStore() })).address;
  const ana = await Peer.connect(t, port);
  ana.send({ type: "join", client_name: "ana", features: ["echo"] });
  await ana.next();
  ana.send({ type: "chat", message: "lost", ref: "7" });
  t.match(await ana.next(), { type: "error", code: "unavailable", ref: "7" });
});

t.test("two servers on one store never give one chat id twice, past the first block of numbers", async (t) => {
  const store = new MemoryStore();
  const [a, b] = [await testServer(t, { store, rateLimit: 0 }), await testServer(t, { store, rateLimit: 0 })];
  const echoed = async (port: number, name: string) => {
    const peer = await Peer.connect(t, port);
    peer.send({ type: "join", client_name: name, features: ["echo"] });
    await peer.next(); // welcome
    return peer;
  };
  const [ana, bia] = [await echoed(a.address.port, "ana"), await echoed(b.address.port, "bia")];
  // Server a goes through its whole first block (CHAT_NUMBER_BLOCK) and into the next one it reserved.
  const ids = new Set<string>();
  const count = CHAT_NUMBER_BLOCK + 10;
  for (let sent = 0; sent < count; sent += 1000) {
    const batch = Math.min(1000, count - sent);
    for (let i = 0; i < batch; i++) ana.send({ type: "chat", message: `${sent + i}` });
    for (let got = 0; got < batch; ) {
      const msg = await ana.next();
      if (msg.type === "chat") (got++, ids.add(msg.id!));
    }
  }
  bia.send({ type: "chat", message: "from the other server" });
  let mine = await bia.next();
  while (mine.type !== "chat" || mine.client_name !== "bia") mine = await bia.next();
  t.notOk(ids.has(mine.id!), `b's chat ${mine.id} is not one of a's`);
  t.equal(ids.size, count, "a gave each of its chats its own id");
});
