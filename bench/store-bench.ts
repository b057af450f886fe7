/**
 * How long the SQLite store takes to keep chats: N appendChat() calls in one
 * turn, then flush(), on a fresh file in the temporary directory, and the
 * same N spread over turns of 100 (the timer commits those batches).
 *
 *     npx tsx bench/store-bench.ts [N]     # default 10000
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { chatId, type StoredChat } from "../server/store.js";
import { SqliteStore } from "../server/sqlite-store.js";

/** Chats per turn in the second measure: a busy server's burst. */
const TURN_CHATS = 100;

function chat(n: number): StoredChat {
  return {
    id: chatId(n),
    conversation: n % 3 ? "#general" : "@ana bob",
    client_name: "ana",
    room: "#general",
    subject: "",
    message: `message number ${n}, of a usual length for a chat line`,
    date: new Date().toISOString(),
  };
}

async function measure(label: string, count: number, perTurn: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-bench-"));
  try {
    const store = SqliteStore.open(path.join(dir, "bench.db"));
    const start = process.hrtime.bigint();
    for (let n = 1; n <= count; n++) {
      store.appendChat(chat(n));
      if (n % perTurn === 0) await nextTurn();
    }
    await store.flush();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`${label}: ${count} chats in ${ms.toFixed(0)} ms (${((ms * 1000) / count).toFixed(1)} µs each)`);
    await store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const count = Number(process.argv[2] ?? 10_000);
await measure("one turn, then flush()", count, count);
await measure(`turns of ${TURN_CHATS}`, count, TURN_CHATS);
