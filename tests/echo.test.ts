/** The echo (feature `echo`) is the server's word that it has stored the chat. */
import path from "node:path";
import t from "tap";
import { SqliteStore } from "../server/sqlite-store.js";
import { MemoryStore } from "../server/store.js";
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
