/**
 * What a crash of the server keeps: every chat it echoed (the echo is its
 * word that it has the chat), and its ids: a chat id is never handed out
 * twice, since clients skip an id they have already shown.
 */
import path from "node:path";
import t from "tap";
import { Decoder, encode, type Message } from "../protocol.js";
import { MemoryStore, type Store } from "../server/store.js";
import { SqliteStore } from "../server/sqlite-store.js";
import { Script, tempDir } from "./helpers/helpers.js";
import net from "node:net";
import { once } from "node:events";
import Database from "libsql";

const STORES: Array<[string, (file: string) => Store]> = [
  ["MemoryStore", () => new MemoryStore()],
  ["SqliteStore", (file) => SqliteStore.open(file)],
];

for (const [name, open] of STORES) {
  t.test(`${name}: reserved blocks of chat numbers never overlap, nor reach back below a chat stored`, async (t) => {
    const store = open(path.join(tempDir(t), "chat.db"));
    t.teardown(() => store.close());
    const first = await store.reserveChatNumbers(100);
    const second = await store.reserveChatNumbers(50);
    t.ok(second >= first + 100, `the second block (${second}) starts after the first (${first}..${first + 99})`);
    store.appendChat({ id: "0000000000000500", conversation: "#general", client_name: "ana", subject: "", message: "hi", date: "2026-01-01T00:00:00Z" });
    t.ok((await store.reserveChatNumbers(10)) > 500, "after the last chat stored");
  });
}

t.test("SqliteStore: a reservation outlives the process that made it, closed or not", async (t) => {
  const file = path.join(tempDir(t), "chat.db");
  const store = SqliteStore.open(file);
  const first = await store.reserveChatNumbers(1000);
  await store.close(); // a crash would leave the same file: the reservation is committed before it resolves
  const again = SqliteStore.open(file);
  t.teardown(() => again.close());
  t.ok((await again.reserveChatNumbers(1000)) >= first + 1000);
});

/** Joins with echo, sends one chat, and resolves with its echo's id; `onEcho` runs in the same turn as the echo arrives. */
async function echoedId(port: number, name: string, onEcho: () => void = () => {}): Promise<string> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  await once(socket, "connect");
  const decoder = new Decoder();
  socket.write(encode({ type: "join", client_name: name, features: ["echo"] }));
  socket.write(encode({ type: "chat", message: `hello from ${name}` }));
  return new Promise((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk) as Message[]) {
        if (frame.type === "chat" && frame.client_name === name && frame.id) {
          onEcho();
          socket.destroy();
          resolve(frame.id);
        }
      }
    });
  });
}

function storedIds(db: string): string[] {
  const database = new Database(db, { readonly: true });
  try {
    return (database.prepare("SELECT id FROM chats").all() as Array<{ id: string }>).map((row) => row.id);
  } finally {
    database.close();
  }
}

t.test("server.ts killed with SIGKILL right after an echo: the echoed chat is stored, and the next server gives a new chat a greater id", async (t) => {
  const db = path.join(tempDir(t), "chat.db");
  const first = new Script(t, "server.ts", ["--port", "0", "--db", db]);
  const [, port] = await first.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m);
  const before = await echoedId(Number(port), "ana", () => first.child.kill("SIGKILL"));
  await first.exited;
  t.same(storedIds(db), [before], "the chat echoed just before the crash is in the database");
  const second = new Script(t, "server.ts", ["--port", "0", "--db", db]);
  const [, port2] = await second.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m);
  const after = await echoedId(Number(port2), "bruno");
  t.ok(after > before, `the new chat's id ${after} is greater than the id ${before} handed out before the crash`);
  second.child.kill("SIGTERM");
  await second.exited;
});
