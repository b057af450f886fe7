/**
 * `server.ts --db postgres://… --import chat.db`: moves a chat from its
 * SQLite file onto an empty PostgreSQL database, as Synapse's
 * `synapse_port_db` does. Everything is copied in one transaction, so an
 * import that fails leaves the database as empty as it found it.
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { lockDatabase } from "./database-lock.js";
import { maskedUrl } from "./database-url.js";
import { PostgresStore, toPg } from "./postgres-store.js";
import { migrate as migrateSqlite, openDatabase } from "./sqlite-store.js";

/** Rows sent in one statement: a few MB of JSON at most, and few round trips. */
export const IMPORT_CHUNK_ROWS = 5_000;

/** What was copied, by table, in the order it is printed. */
export interface ImportCounts {
  accounts: number;
  rooms: number;
  chats: number;
  offline: number;
  bans: number;
  friendships: number;
  notices: number;
}

/** The target already holds a chat, or the source is not there: nothing was copied. */
export class ImportRefusedError extends Error {
  override readonly name = "ImportRefusedError";
}

/** The tables that make a chat: any row in one of them and the database is not empty. */
const CHAT_TABLES = ["accounts", "rooms", "chats", "offline", "bans", "friendships", "notices"] as const;

/**
 * One table's copy: the SQLite query (its columns in the target's order) and
 * the PostgreSQL columns, with the cast each needs from JSON text.
 */
interface TableCopy {
  from: string;
  into: string;
  columns: Array<[name: string, cast?: string]>;
}

const COPIES: Record<keyof ImportCounts, TableCopy> = {
  accounts: { from: "SELECT key, name, password_hash, created FROM accounts", into: "accounts", columns: [["key"], ["name"], ["password_hash"], ["created"]] },
  rooms: {
    from: "SELECT key, name, owner, topic, private <> 0, operators, members, banned, muted, invited FROM rooms",
    into: "rooms",
    columns: [["key"], ["name"], ["owner"], ["topic"], ["private", "boolean"], ["operators"], ["members"], ["banned"], ["muted"], ["invited"]],
  },
  chats: {
    from: `SELECT id, conversation, client_name, "to", room, subject, message, date FROM chats ORDER BY id`,
    into: "chats",
    columns: [["id"], ["conversation"], ["client_name"], [`"to"`], ["room"], ["subject"], ["message"], ["date"]],
  },
  offline: { from: "SELECT account_key, chat_id FROM offline", into: "offline", columns: [["account_key"], ["chat_id"]] },
  bans: { from: "SELECT kind, value, reason, actor, date FROM bans", into: "bans", columns: [["kind"], ["value"], ["reason"], ["actor"], ["date"]] },
  friendships: {
    from: "SELECT a, b, from_key, to_key, status FROM friendships",
    into: "friendships",
    columns: [["a"], ["b"], ["from_key"], ["to_key"], ["status"]],
  },
  // In order of arrival: the identity column numbers them in that order again.
  notices: { from: "SELECT account_key, about, fields FROM notices ORDER BY seq", into: "notices", columns: [["account_key"], ["about"], ["fields"]] },
};

/** Copies the SQLite database `file` into the (empty) PostgreSQL database at `url`; resolves with what was copied. */
export async function importSqlite(file: string, url: string): Promise<ImportCounts> {
  if (!fs.existsSync(file)) throw new ImportRefusedError(`There is no SQLite database at ${path.resolve(file)}`);
  // The file's lock: no server may write to it while it is copied.
  const unlock = lockDatabase(file);
  const source = openDatabase(file);
  try {
    migrateSqlite(source); // an older file is brought to the schema the copy reads
    // Opening the store creates (or checks) the schema, then it is closed: the copy is one transaction of its own.
    await (await PostgresStore.open(url, { onError: () => {} })).close();
    return await copyInto(url, source);
  } finally {
    source.close();
    unlock();
  }
}

async function copyInto(url: string, source: ReturnType<typeof openDatabase>): Promise<ImportCounts> {
  const client = new pg.Client({ connectionString: url });
  // A connection error between statements rejects the statement; the event must not end the process.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("BEGIN");
    // No server may write while the emptiness is checked and the chat copied in.
    await client.query(`LOCK TABLE ${CHAT_TABLES.join(", ")} IN EXCLUSIVE MODE`);
    await refuseUnlessEmpty(client, url);
    const counts = {} as ImportCounts;
    for (const table of CHAT_TABLES) counts[table] = await copyTable(client, source, COPIES[table]);
    await client.query("INSERT INTO conversation_sizes (conversation, size) SELECT conversation, count(*) FROM chats GROUP BY conversation");
    // Past the copied chats, and never back: a server that ran on this (empty) database may have reserved numbers.
    await client.query("SELECT setval('chat_numbers', greatest($1, (SELECT last_value FROM chat_numbers)))", [lastNumberUsed(source)]);
    await client.query("COMMIT");
    return counts;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

async function refuseUnlessEmpty(client: pg.Client, url: string): Promise<void> {
  const { rows } = await client.query<{ table: string }>(
    CHAT_TABLES.map((table) => `SELECT '${table}' AS table WHERE EXISTS (SELECT 1 FROM ${table})`).join(" UNION ALL "),
  );
  if (rows.length === 0) return;
  throw new ImportRefusedError(
    `The database ${maskedUrl(url)} already holds a chat (${rows.map((row) => row.table).join(", ")}): --import copies only into an empty database`,
  );
}

/** Copies one table, IMPORT_CHUNK_ROWS rows per statement; the number of rows. */
async function copyTable(client: pg.Client, source: ReturnType<typeof openDatabase>, copy: TableCopy): Promise<number> {
  const names = copy.columns.map(([name]) => name).join(", ");
  const values = copy.columns.map(([, cast], i) => (cast ? `(r->>${i})::${cast}` : `r->>${i}`)).join(", ");
  const insert = `INSERT INTO ${copy.into} (${names}) SELECT ${values} FROM json_array_elements($1::json) WITH ORDINALITY AS x(r, i) ORDER BY i`;
  let chunk: unknown[][] = [];
  let count = 0;
  const send = async () => {
    if (chunk.length > 0) await client.query(insert, [JSON.stringify(chunk)]);
    count += chunk.length;
    chunk = [];
  };
  for (const row of source.prepare(copy.from).raw(true).iterate([]) as Iterable<unknown[]>) {
    chunk.push(row.map(toImported));
    if (chunk.length >= IMPORT_CHUNK_ROWS) await send();
  }
  await send();
  return count;
}

/**
 * A SQLite value as PostgreSQL keeps it: the SQLite store keeps a string
 * with a NUL as its UTF-8 bytes (a BLOB), PostgreSQL as toPg() escapes it.
 */
function toImported(value: unknown): unknown {
  // libsql gives a BLOB as an ArrayBuffer from get()/all(), and as a Buffer from a raw iterate().
  if (value instanceof ArrayBuffer) return toPg(Buffer.from(value).toString("utf8"));
  if (value instanceof Uint8Array) return toPg(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8"));
  if (typeof value === "string") return toPg(value);
  if (typeof value === "bigint") return Number(value);
  return value;
}

/** The last chat number the SQLite chat used or reserved: the sequence goes on after it. */
function lastNumberUsed(source: ReturnType<typeof openDatabase>): number {
  const stored = source.prepare("SELECT max(id) AS id FROM chats").get([]) as { id: string | null };
  const counter = source.prepare("SELECT next FROM counters WHERE name = 'chat'").get([]) as { next: number } | undefined;
  return Math.max(stored.id === null ? 0 : Number(stored.id), (counter?.next ?? 1) - 1);
}

/** The lines `--import` prints. */
export function importReport(file: string, url: string, counts: ImportCounts): string {
  const width = Math.max(...Object.keys(counts).map((name) => name.length));
  const lines = Object.entries(counts).map(([name, n]) => `  ${name.padEnd(width)}  ${n}`);
  return [`Copied ${path.resolve(file)} into ${maskedUrl(url)}:`, ...lines].join("\n");
}
