/**
 * The store on a PostgreSQL database, through `pg` (node-postgres): what
 * several servers share when one machine is not enough (see
 * docs/architecture.md, "Storage").
 *
 * As in the SQLite store, writes are queued and committed together (here at
 * the end of the turn, or after the commit under way), and a read first commits the queue,
 * so it sees every write made before it. A batch is one statement, one round
 * trip: a call of the `store_batch` function below with the batch as JSON.
 *
 * Nothing assumes this process is the only writer: chat numbers come from a
 * sequence, conversation sizes (for pruning) are counted in a table under row
 * locks, offline chats and notices are taken with DELETE … RETURNING, accounts
 * are created with ON CONFLICT DO NOTHING and rooms, bans and friendships are
 * upserts.
 *
 * When the database cannot be reached the store says so (`StoreUnavailableError`)
 * rather than waiting, and tries again by itself with a growing delay: see
 * `commitBatch()`. No error of the pool or of a connection reaches the process.
 */

import pg from "pg";
import { maskedUrl, StoreOpenError } from "./database-url.js";
import { nameKey } from "../protocol.js";
import {
  byBan,
  byPair,
  byRoomKey,
  CHAT_ID_DIGITS,
  chatBytes,
  chatFromRow,
  copyChat,
  isChatId,
  MAX_NOTICES_PER_ACCOUNT,
  noticeCopy,
  orderedPair,
  pageLimit,
  readInChunks,
  roomFromRow,
  storable,
  storableText,
  StoreClosedError,
  storeSettings,
  StoreUnavailableError,
  type Account,
  type BanRecord,
  type ChatRow,
  type Friendship,
  type MailboxCount,
  type Page,
  type RoomRecord,
  type RoomRow,
  type Store,
  type StoredChat,
  type StoreOptions,
} from "./store.js";

/**
 * Milliseconds at least from one commit's start to the next's. A write made
 * when the database has been idle that long is committed at the end of its
 * turn; under load, writes wait for the next slot and go together. A commit
 * costs the database about 300 µs of CPU besides some 10 µs per chat (at 100
 * receivers, 15 ms took PostgreSQL's CPU per chat from 25-31 µs to 18-23 µs,
 * the server's too, for 6 ms more on the echo's median: docs/benchmark.md).
 */
export const COMMIT_INTERVAL_MS = 15;
/** Connections a store keeps to the database at most: the batch writer and concurrent reads. */
export const POOL_SIZE = 8;
/** Milliseconds to get a connection before the database counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** Milliseconds a statement may take, counted here: a network that went silent fails rather than hangs. */
export const QUERY_TIMEOUT_MS = 15_000;
/** The first delay before trying again once the database could not be reached; it doubles up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 100;
/** The longest delay between two attempts: how long a chat may be refused after the database is back. */
export const RETRY_MAX_MS = 1_000;

/**
 * The schema, one step per version: step i takes the database from version i
 * to i + 1 (`schema_migrations` lists the versions applied). Append steps;
 * never edit one that has shipped. Ids and conversation keys use the "C"
 * collation: byte order, as the other stores compare them, and the fastest.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite store keeps, plus what several writers need:
  // conversation sizes counted in the database, and a sequence for chat numbers.
  `CREATE TABLE chats (
     id text COLLATE "C" PRIMARY KEY, -- chatId(n): fixed width, so text order is numeric order
     conversation text COLLATE "C" NOT NULL,
     client_name text NOT NULL,
     "to" text,
     room text,
     subject text NOT NULL,
     message text NOT NULL,
     date text NOT NULL
   );
   CREATE INDEX chats_by_conversation ON chats (conversation, id);
   -- Chats stored per conversation, kept up to date by store_batch under the
   -- row's lock: pruning then never counts, and two servers cannot both miss a chat.
   CREATE TABLE conversation_sizes (
     conversation text COLLATE "C" PRIMARY KEY,
     size integer NOT NULL
   );
   CREATE TABLE offline (
     account_key text COLLATE "C" NOT NULL,
     chat_id text COLLATE "C" NOT NULL,
     PRIMARY KEY (account_key, chat_id)
   );
   CREATE TABLE accounts (
     key text COLLATE "C" PRIMARY KEY,
     name text NOT NULL,
     password_hash text NOT NULL,
     created text NOT NULL
   );
   -- A room's lists are JSON arrays, as in SQLite: read and written whole.
   CREATE TABLE rooms (
     key text COLLATE "C" PRIMARY KEY,
     name text NOT NULL,
     owner text NOT NULL,
     topic text NOT NULL,
     private boolean NOT NULL,
     operators text NOT NULL,
     members text NOT NULL,
     banned text NOT NULL,
     muted text NOT NULL,
     invited text NOT NULL
   );
   CREATE TABLE bans (
     kind text NOT NULL CHECK (kind IN ('name', 'address')),
     value text COLLATE "C" NOT NULL,
     reason text NOT NULL,
     actor text NOT NULL,
     date text NOT NULL,
     PRIMARY KEY (kind, value)
   );
   -- One row per unordered pair (a < b), whoever asked.
   CREATE TABLE friendships (
     a text COLLATE "C" NOT NULL,
     b text COLLATE "C" NOT NULL,
     from_key text NOT NULL,
     to_key text NOT NULL,
     status text NOT NULL CHECK (status IN ('requested', 'accepted')),
     PRIMARY KEY (a, b)
   );
   CREATE INDEX friendships_by_b ON friendships (b);
   -- fields: the frame's fields as JSON text (jsonb refuses \\u0000, which a notice may hold).
   -- about: what the notice is about (a room's invitation, a friendship): a new one replaces the
   -- old, and takes the latest seq (BY DEFAULT, so that the upsert can give it one).
   CREATE TABLE notices (
     seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, -- order of arrival
     account_key text COLLATE "C" NOT NULL,
     about text,
     fields text NOT NULL
   );
   CREATE INDEX notices_by_account ON notices (account_key, seq);
   CREATE UNIQUE INDEX notices_by_about ON notices (account_key, about);
   -- The last chat number handed out. MINVALUE 0: a reservation of 0 numbers sets it back to where it was.
   CREATE SEQUENCE chat_numbers MINVALUE 0 START 1;

   -- Reserves count numbers in a row and returns the first. nextval and setval
   -- are one step under a lock held to the end of the transaction: two
   -- servers reserving at once get blocks that do not overlap.
   CREATE FUNCTION reserve_chat_numbers(count bigint) RETURNS bigint LANGUAGE plpgsql AS $$
   DECLARE
     first bigint;
   BEGIN
     PERFORM pg_advisory_xact_lock(1667785076); -- "chat" in ASCII
     -- Never below a chat stored (one copied in by --import, say).
     first := greatest(nextval('chat_numbers'), (SELECT coalesce(max(id)::bigint, 0) + 1 FROM chats));
     PERFORM setval('chat_numbers', first + count - 1);
     RETURN first;
   END $$;

   -- Applies a batch of writes (see Batch.json) in one statement. jsonb, not
   -- json: ->> on json parses the element's text again for every field
   -- (measured: twice the cost per chat); the batch holds no escaped NUL (toPg).
   -- Rooms, bans and friendships come coalesced, one final state per key, so
   -- their order inside a batch does not matter; rows come sorted by key, so
   -- two servers lock them in the same order and cannot deadlock.
   CREATE FUNCTION store_batch(batch jsonb, keep integer, notices_kept integer) RETURNS void LANGUAGE plpgsql AS $$
   DECLARE
     grown record;
   BEGIN
     -- Each part is there only when it holds something (Batch.json): a batch of chats alone runs two statements, not eleven.
     IF batch ? 'chats' THEN
       FOR grown IN
         WITH added AS (
           INSERT INTO chats (id, conversation, client_name, "to", room, subject, message, date)
           SELECT c->>0, c->>1, c->>2, c->>3, c->>4, c->>5, c->>6, c->>7 FROM jsonb_array_elements(batch->'chats') AS c
           ON CONFLICT (id) DO NOTHING -- an id is stored once: a repeat is a replay
           RETURNING conversation)
         INSERT INTO conversation_sizes AS s (conversation, size)
         SELECT conversation, count(*) FROM added GROUP BY conversation ORDER BY conversation
         ON CONFLICT (conversation) DO UPDATE SET size = s.size + excluded.size
         RETURNING s.conversation, s.size
       LOOP
         IF grown.size > keep THEN
           DELETE FROM chats WHERE id IN (
             SELECT id FROM chats WHERE conversation = grown.conversation ORDER BY id LIMIT grown.size - keep);
           UPDATE conversation_sizes SET size = keep WHERE conversation = grown.conversation;
         END IF;
       END LOOP;
     END IF;

     -- Before the new marks: a removal covers what was read, and a mark queued with it was not.
     IF batch ? 'removedOffline' THEN
       DELETE FROM offline USING jsonb_array_elements(batch->'removedOffline') AS x
       WHERE offline.account_key = x->>0 AND offline.chat_id <= x->>1;
     END IF;
     IF batch ? 'offline' THEN
       INSERT INTO offline (account_key, chat_id)
       SELECT o->>0, o->>1 FROM jsonb_array_elements(batch->'offline') AS o
       ON CONFLICT DO NOTHING;
     END IF;

     IF batch ? 'deletedRooms' THEN
       DELETE FROM rooms WHERE key IN (SELECT jsonb_array_elements_text(batch->'deletedRooms'));
     END IF;
     IF batch ? 'rooms' THEN
       INSERT INTO rooms (key, name, owner, topic, private, operators, members, banned, muted, invited)
       SELECT r->>0, r->>1, r->>2, r->>3, (r->>4)::boolean, r->>5, r->>6, r->>7, r->>8, r->>9
       FROM jsonb_array_elements(batch->'rooms') AS r
       ON CONFLICT (key) DO UPDATE SET name = excluded.name, owner = excluded.owner, topic = excluded.topic,
         private = excluded.private, operators = excluded.operators, members = excluded.members,
         banned = excluded.banned, muted = excluded.muted, invited = excluded.invited;
     END IF;

     IF batch ? 'removedBans' THEN
       DELETE FROM bans USING jsonb_array_elements(batch->'removedBans') AS x WHERE bans.kind = x->>0 AND bans.value = x->>1;
     END IF;
     IF batch ? 'bans' THEN
       INSERT INTO bans (kind, value, reason, actor, date)
       SELECT b->>0, b->>1, b->>2, b->>3, b->>4 FROM jsonb_array_elements(batch->'bans') AS b
       ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, date = excluded.date;
     END IF;

     IF batch ? 'removedFriendships' THEN
       DELETE FROM friendships USING jsonb_array_elements(batch->'removedFriendships') AS x
       WHERE friendships.a = x->>0 AND friendships.b = x->>1;
     END IF;
     IF batch ? 'friendships' THEN
       INSERT INTO friendships (a, b, from_key, to_key, status)
       SELECT f->>0, f->>1, f->>2, f->>3, f->>4 FROM jsonb_array_elements(batch->'friendships') AS f
       ON CONFLICT (a, b) DO UPDATE SET from_key = excluded.from_key, to_key = excluded.to_key, status = excluded.status;
     END IF;

     -- Only for accounts; one per (account, about), the newest replacing the older; the latest notices_kept per account.
     IF batch ? 'notices' THEN
       INSERT INTO notices AS old (account_key, about, fields)
       SELECT n->>0, n->>1, n->>2 FROM jsonb_array_elements(batch->'notices') WITH ORDINALITY AS x(n, i)
       WHERE EXISTS (SELECT 1 FROM accounts WHERE key = n->>0) ORDER BY i
       ON CONFLICT (account_key, about) DO UPDATE SET fields = excluded.fields, seq = excluded.seq;
       DELETE FROM notices WHERE account_key IN (SELECT DISTINCT n->>0 FROM jsonb_array_elements(batch->'notices') AS n)
         AND seq <= (SELECT kept.seq FROM notices AS kept WHERE kept.account_key = notices.account_key
                     ORDER BY kept.seq DESC OFFSET notices_kept LIMIT 1);
     END IF;
   END $$;`,
];

/** Held while migrating, so that two servers starting at once do not both run a step. */
const MIGRATION_LOCK = 0x6d696772; // "migr"

/**
 * Applies the steps the database has not had, up to `target` (default: all),
 * in one transaction on one connection, under an advisory lock. A database
 * newer than this code is refused rather than written to.
 */
export async function migrate(pool: pg.Pool, target = MIGRATIONS.length): Promise<void> {
  const client = await pool.connect();
  // An error on this connection between statements is the query's to report, not the process's.
  const ignore = () => {};
  client.on("error", ignore);
  let broken = false;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM schema_migrations");
    const version = rows[0]?.version ?? 0;
    if (version > MIGRATIONS.length) {
      throw new Error(`the database is at schema version ${version}; this program knows up to ${MIGRATIONS.length}`);
    }
    for (let step = version; step < target; step++) {
      await client.query(MIGRATIONS[step]!);
      await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [step + 1]);
    }
    await client.query("COMMIT");
  } catch (error) {
    broken = isTransient(error);
    if (!broken) await client.query("ROLLBACK").catch(ignore);
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(broken); // a broken connection is closed, not given back to the pool
  }
}

// ---------------------------------------------------------------------------
// Text as PostgreSQL can keep it

/**
 * PostgreSQL's text cannot hold U+0000, and a chat may hold any character. A
 * string with a NUL is kept escaped: MARK first, then the text with MARK
 * doubled and NUL as MARK "0". A string that starts with MARK is escaped too,
 * so that unescaping is exact; any other string is kept as it is, keys
 * included (they hold neither). MARK is a noncharacter: no text uses it.
 */
const MARK = "\uffff";
const ESCAPED = /\uffff(\uffff|0)/g;

/** A string as stored: storable (no lone surrogate), and escaped when it must be. */
export function toPg(text: string): string {
  const value = storableText(text);
  if (!value.includes("\u0000") && !value.startsWith(MARK)) return value;
  return MARK + value.replaceAll(MARK, MARK + MARK).replaceAll("\u0000", `${MARK}0`);
}

/** A string as given back: what `toPg` was given (in its storable form). */
export function fromPg(text: string): string {
  if (!text.startsWith(MARK)) return text;
  return text.slice(1).replace(ESCAPED, (_, what: string) => (what === "0" ? "\u0000" : MARK));
}

/** Parameters as stored: strings (also inside arrays) through `toPg`. */
function params(values: unknown[]): unknown[] {
  return values.map((value) => (typeof value === "string" ? toPg(value) : Array.isArray(value) ? params(value) : value));
}

/** A row with its strings as given back. */
function decodeRow<Row>(row: Record<string, unknown>): Row {
  const decoded: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) decoded[column] = typeof value === "string" ? fromPg(value) : value;
  return decoded as Row;
}

/**
 * Whether an error means "the database cannot be reached or took no work
 * just now" rather than "this write is wrong": a socket error (no SQLSTATE),
 * a connection exception (class 08), a server shutting down or starting
 * (57P), too many connections (53300), or a transaction that lost a
 * conflict (40001, 40P01). Such work is worth trying again. A protocol
 * violation (08P01) is not: the same statement would be refused again.
 */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code !== "08P01" && /^(08|57P|53300|40001|40P01)/.test(code);
}

// ---------------------------------------------------------------------------
// Batches



/** Queued writes. Rooms, bans and friendships keep one final state per key (undefined: deleted). */
class Batch {
  chats: string[][] = [];
  offline: string[][] = [];
  rooms = new Map<string, unknown[] | undefined>();
  bans = new Map<string, string[] | undefined>();
  friendships = new Map<string, string[] | undefined>();
  /** Per account, the id through which its kept chats reached it. */
  removedOffline = new Map<string, string>();
  /** By account and subject: a later notice about the same thing replaces the earlier. */
  notices = new Map<string, string[]>();

  get empty(): boolean {
    return this.size === 0;
  }

  get size(): number {
    return this.chats.length + this.offline.length + this.rooms.size + this.bans.size + this.friendships.size + this.removedOffline.size + this.notices.size;
  }

  /** This batch with `later`'s writes after it (later states win). */
  followedBy(later: Batch): Batch {
    this.chats.push(...later.chats);
    this.offline.push(...later.offline);
    for (const [map, more] of [[this.rooms, later.rooms], [this.bans, later.bans], [this.friendships, later.friendships]] as const) {
      for (const [key, value] of more as Map<string, never>) (map as Map<string, unknown>).set(key, value);
    }
    for (const [account, through] of later.removedOffline) this.removeOffline(account, through);
    for (const [key, row] of later.notices) this.addNotice(key, row);
    return this;
  }

  removeOffline(account: string, through: string): void {
    const before = this.removedOffline.get(account);
    if (before === undefined || before < through) this.removedOffline.set(account, through);
  }

  /** Last in the order whether new or replacing: the order of arrival is the latest's. */
  addNotice(key: string, row: string[]): void {
    this.notices.delete(key);
    this.notices.set(key, row);
  }

  /** The batch without its chats and their offline marks: what is kept for a retry (see commitBatch). */
  withoutChats(): Batch {
    this.chats = [];
    this.offline = [];
    return this;
  }

  /** The `batch` argument of store_batch; every key sorted, so concurrent batches lock rows in one order. */
  json(): string {
    const sorted = <T>(map: Map<string, T | undefined>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const saved = <T>(map: Map<string, T | undefined>) => sorted(map).flatMap(([, row]) => (row === undefined ? [] : [row]));
    const removed = (map: Map<string, unknown>) => sorted(map).flatMap(([key, row]) => (row === undefined ? [key.split(" ")] : []));
    const parts = {
      chats: this.chats,
      offline: this.offline,
      rooms: saved(this.rooms),
      deletedRooms: removed(this.rooms).map(([key]) => key),
      bans: saved(this.bans),
      removedBans: removed(this.bans),
      friendships: saved(this.friendships),
      removedFriendships: removed(this.friendships),
      removedOffline: [...this.removedOffline],
      notices: [...this.notices.values()],
    };
    // Empty parts are left out: store_batch skips a statement for each.
    return JSON.stringify(Object.fromEntries(Object.entries(parts).filter(([, rows]) => rows.length > 0)));
  }
}

const CHAT_COLUMNS = `id, conversation, client_name, "to", room, subject, message, date`;

/**
 * The store on a PostgreSQL database. Open it with `PostgresStore.open(url)`
 * (or `openStore()`), which creates or migrates the schema.
 */
export class PostgresStore implements Store {
  private readonly settings: Required<StoreOptions>;
  private queued = new Batch();
  /** Who waits for the queued writes to be committed (echoes). */
  private waiters: Array<(error?: Error) => void> = [];
  /** The commits in order: one batch at a time, so that a later state never lands before an earlier one. */
  private commits: Promise<unknown> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  /** When the last commit was sent (performance.now()): the next is not sent before COMMIT_INTERVAL_MS after it. */
  private lastCommitAt = -Infinity;
  /** Set while the database cannot be reached: the next attempt, and the delay after it. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  /** The error that made the database unreachable; undefined while it is reachable. */
  private outage: StoreUnavailableError | undefined;
  /** Chats not stored because the database could not be reached, since it could. */
  private chatsLost = 0;
  private closed = false;

  /** Connects, and creates or migrates the schema; rejects (with the URL masked) when the database cannot be used. */
  static async open(url: string, options?: StoreOptions): Promise<PostgresStore> {
    const settings = storeSettings(options);
    const pool = new pg.Pool({
      connectionString: url,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    const store = new PostgresStore(pool, settings);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end().catch(() => {});
      throw new StoreOpenError(`Cannot use the database ${maskedUrl(url)}: ${describe(error)}`, { cause: error });
    }
    return store;
  }

  private constructor(
    private readonly pool: pg.Pool,
    settings: Required<StoreOptions>,
  ) {
    this.settings = settings;
    // An idle connection that breaks (the server restarted) is dropped by the
    // pool and emitted here: without a listener, it would end the process.
    pool.on("error", (error) => this.unreachable(error));
  }

  async lastChatNumber(): Promise<number> {
    const [row] = await this.read<{ id: string | null }>("SELECT max(id) AS id FROM chats", []);
    return row?.id ? Number(row.id) : 0;
  }

  async reserveChatNumbers(count: number): Promise<number> {
    const [row] = await this.read<{ first: string }>("SELECT reserve_chat_numbers($1) AS first", [count]);
    return Number(row!.first);
  }

  appendChat(chat: StoredChat, offlineFor?: string): void {
    if (this.closed) return;
    if (!isChatId(chat.id)) {
      this.settings.onError(new Error(`chat id ${JSON.stringify(chat.id)} is not ${CHAT_ID_DIGITS} digits: not stored`));
      return;
    }
    // While the database is away a chat is not kept for later: its sender is told it was not stored (afterCommit).
    if (this.outage) {
      this.chatsLost++;
      return;
    }
    const c = storable(copyChat(chat));
    this.queued.chats.push(params([c.id, c.conversation, c.client_name, c.to ?? null, c.room ?? null, c.subject, c.message, c.date]) as string[]);
    if (offlineFor !== undefined) this.queued.offline.push(params([offlineFor, c.id]) as string[]);
    this.scheduleCommit();
  }

  afterCommit(callback: (error?: Error) => void): void {
    if (this.closed) callback(new StoreClosedError());
    else if (this.outage) callback(this.outage);
    else if (this.queued.empty) callback();
    else this.waiters.push(callback);
  }

  async chatsBefore(conversation: string, limit: number, beforeId?: string, maxBytes?: number): Promise<Page> {
    // Newest first, in chunks (readInChunks): a reply that can carry only so much is not built from more.
    const read = async (after: string | undefined, count: number) => {
      const before = after ?? beforeId;
      const rows = before === undefined
        ? await this.read<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats WHERE conversation = $1 ORDER BY id DESC LIMIT $2`, [conversation, count])
        : await this.read<ChatRow>(`SELECT ${CHAT_COLUMNS} FROM chats WHERE conversation = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, [conversation, before, count]);
      return rows.map(chatFromRow);
    };
    const page = await readInChunks(read, pageLimit(limit, this.settings.historyKeep), maxBytes);
    return { chats: page.chats.reverse(), more: page.more };
  }

  async mailboxCount(accountKey: string, conversation: string): Promise<MailboxCount> {
    // Counted in the database, not here: several servers on one database agree on it.
    const [row] = await this.read<{ chats: number; bytes: string; from_conversation: number }>(
      `SELECT count(*)::int AS chats, coalesce(sum(octet_length(c.message) + octet_length(c.subject)), 0) AS bytes,
         (count(*) FILTER (WHERE c.conversation = $2))::int AS from_conversation
       FROM offline o JOIN chats c ON c.id = o.chat_id WHERE o.account_key = $1`,
      [accountKey, conversation],
    );
    // chatBytes weighs each chat with the same overhead, added here rather than in SQL.
    return { chats: row!.chats, bytes: Number(row!.bytes) + row!.chats * chatBytes({ subject: "", message: "" }), fromConversation: row!.from_conversation };
  }

  async offlineChats(accountKey: string, limit: number, maxBytes?: number): Promise<Page> {
    // A chat pruned from its conversation since is gone for its offline reader too: the join skips it.
    const read = async (after: string | undefined, count: number) =>
      (await this.read<ChatRow>(
        `SELECT ${CHAT_COLUMNS} FROM offline o JOIN chats ON chats.id = o.chat_id
         WHERE o.account_key = $1 AND o.chat_id > $2 ORDER BY o.chat_id LIMIT $3`,
        [accountKey, after ?? "", count],
      )).map(chatFromRow);
    return readInChunks(read, Math.max(0, Math.floor(limit)), maxBytes);
  }

  removeOffline(accountKey: string, throughId: string): void {
    if (this.closed) return;
    const [account, through] = params([accountKey, throughId]) as string[];
    this.queued.removeOffline(account!, through!);
    this.scheduleCommit();
  }

  async getAccount(key: string): Promise<Account | undefined> {
    const [row] = await this.read<{ key: string; name: string; password_hash: string; created: string }>(
      "SELECT key, name, password_hash, created FROM accounts WHERE key = $1",
      [key],
    );
    return row && { key: row.key, name: row.name, passwordHash: row.password_hash, created: row.created };
  }

  async accountKeysAmong(keys: readonly string[]): Promise<Set<string>> {
    const rows = await this.read<{ key: string }>("SELECT key FROM accounts WHERE key = ANY($1::text[])", [[...keys]]);
    return new Set(rows.map((row) => row.key));
  }

  async chatIdsAmong(ids: readonly string[]): Promise<Set<string>> {
    const rows = await this.read<{ id: string }>("SELECT id FROM chats WHERE id = ANY($1::text[])", [[...ids]]);
    return new Set(rows.map((row) => row.id));
  }

  async createAccount(account: Account): Promise<boolean> {
    // Not queued: the answer depends on what is stored. The key's constraint decides between two servers.
    const result = await this.run(
      "INSERT INTO accounts (key, name, password_hash, created) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
      [account.key, account.name, account.passwordHash, account.created],
    );
    return result.rowCount === 1;
  }

  async loadRooms(): Promise<RoomRecord[]> {
    const rows = await this.read<RoomRow>("SELECT name, owner, topic, private, operators, members, banned, muted, invited FROM rooms", []);
    return rows.map(roomFromRow).sort(byRoomKey);
  }

  saveRoom(room: RoomRecord): void {
    const lists = [room.operators, room.members, room.banned, room.muted, room.invited].map((list) => JSON.stringify(list));
    const key = nameKey(storableText(room.name));
    this.queueState(this.queued.rooms, key, params([key, room.name, room.owner, room.topic, room.private, ...lists]));
  }

  deleteRoom(name: string): void {
    this.queueState(this.queued.rooms, nameKey(storableText(name)), undefined);
  }

  async loadBans(): Promise<BanRecord[]> {
    const rows = await this.read<BanRecord>("SELECT kind, value, reason, actor, date FROM bans", []);
    return rows.map(({ kind, value, reason, actor, date }) => ({ kind, value, reason, actor, date })).sort(byBan);
  }

  saveBan(ban: BanRecord): void {
    const row = params([ban.kind, ban.value, ban.reason, ban.actor, ban.date]) as string[];
    this.queueState(this.queued.bans, `${row[0]} ${row[1]}`, row);
  }

  removeBan(kind: BanRecord["kind"], value: string): void {
    const [k, v] = params([kind, value]) as string[];
    this.queueState(this.queued.bans, `${k} ${v}`, undefined);
  }

  async friendships(key: string): Promise<Friendship[]> {
    const rows = await this.read<{ from_key: string; to_key: string; status: Friendship["status"] }>(
      "SELECT from_key, to_key, status FROM friendships WHERE a = $1 OR b = $1",
      [key],
    );
    return rows.map((row) => ({ from: row.from_key, to: row.to_key, status: row.status })).sort(byPair);
  }

  saveFriendship(friendship: Friendship): void {
    const { from, to, status } = friendship;
    const row = params([...orderedPair(from, to), from, to, status]) as string[];
    this.queueState(this.queued.friendships, `${row[0]} ${row[1]}`, row);
  }

  removeFriendship(keyA: string, keyB: string): void {
    const [a, b] = params(orderedPair(keyA, keyB)) as string[];
    this.queueState(this.queued.friendships, `${a} ${b}`, undefined);
  }

  addNotice(accountKey: string, about: string, fields: Record<string, unknown>): void {
    if (this.closed) return;
    const row = params([accountKey, about, JSON.stringify(noticeCopy(fields))]) as string[];
    this.queued.addNotice(`${row[0]} ${row[1]}`, row);
    this.scheduleCommit();
  }

  async takeNotices(accountKey: string): Promise<Record<string, unknown>[]> {
    const rows = await this.read<{ fields: string }>(
      "WITH taken AS (DELETE FROM notices WHERE account_key = $1 RETURNING seq, fields) SELECT fields FROM taken ORDER BY seq",
      [accountKey],
    );
    return rows.map((row) => JSON.parse(row.fields) as Record<string, unknown>);
  }

  async flush(): Promise<void> {
    await this.commitQueued();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commitQueued();
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.queued.empty) this.report(this.outage ?? new Error("not committed"), `closing with ${this.queued.size} writes not stored`);
    try {
      await this.pool.end();
    } catch (error) {
      this.report(error, "closing the database");
    }
  }

  // -------------------------------------------------------------------------
  // Writing

  /** Queues a room's, ban's or friendship's final state; a later one for the same key replaces it. */
  private queueState<T>(map: Map<string, T | undefined>, key: string, row: T | undefined): void {
    if (this.closed) return;
    map.delete(key); // re-inserted last, in case order ever matters to a reader of the map
    map.set(key, row);
    this.scheduleCommit();
  }

  /**
   * A commit at the end of this turn, or once COMMIT_INTERVAL_MS have passed
   * since the last one began (chained after any under way), unless one is due
   * already (or a retry is: it takes the queue too).
   */
  private scheduleCommit(): void {
    if (this.flushTimer || this.retryTimer) return;
    // A ref'd timer: a script that writes and ends still gets its writes committed.
    const wait = Math.max(0, this.lastCommitAt + COMMIT_INTERVAL_MS - performance.now());
    this.flushTimer = setTimeout(() => void this.commitQueued(), wait);
  }

  /** Commits what is queued now, after the commits before it; resolves with the error if it could not be stored. */
  private commitQueued(): Promise<Error | undefined> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const done = this.commits.then(() => this.commitBatch());
    this.commits = done;
    return done;
  }

  /**
   * Sends the queued batch as one statement. When the database cannot be
   * reached, the batch's waiters are told so at once (their echoes become
   * `unavailable`) and its chats are dropped, so that a chat its sender was
   * told is not stored does not appear later; its other writes (rooms, bans,
   * friendships, notices: state the hub already acts on) are kept and tried
   * again, with a delay that doubles up to RETRY_MAX_MS. A batch the database
   * refuses for what it holds is reported and dropped, as trying it again
   * would fail again.
   */
  private async commitBatch(): Promise<Error | undefined> {
    if (this.queued.empty) return this.outage;
    const batch = this.queued;
    const waiters = this.waiters;
    this.queued = new Batch();
    this.waiters = [];
    let failure: Error | undefined;
    this.lastCommitAt = performance.now();
    try {
      await this.pool.query("SELECT store_batch($1::jsonb, $2, $3)", [batch.json(), this.settings.historyKeep, MAX_NOTICES_PER_ACCOUNT]);
      this.reachable();
    } catch (error) {
      if (isTransient(error)) {
        failure = this.unreachable(error);
        this.chatsLost += batch.chats.length;
        this.queued = batch.withoutChats().followedBy(this.queued);
      } else {
        failure = asError(error);
        this.report(error, `committing a batch of ${batch.size} writes (all lost)`);
      }
    }
    for (const waiter of waiters) {
      // A waiter that throws must not stop the chain of commits (nor become an unhandled rejection).
      try {
        waiter(failure);
      } catch (error) {
        this.report(error, "telling a waiter of a commit");
      }
    }
    return failure;
  }

  /** Notes that the database cannot be reached (once per outage) and schedules the next attempt. */
  private unreachable(error: unknown): StoreUnavailableError {
    // After close(), the pool's last errors are the server shutting down: not news.
    if (this.closed) return this.outage ?? new StoreUnavailableError(describe(error), { cause: error });
    if (!this.outage) {
      this.outage = new StoreUnavailableError(describe(error), { cause: error });
      this.report(error, "the database cannot be reached; trying again");
    }
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay === 0 ? RETRY_FIRST_MS : this.retryDelay * 2);
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.commitQueued().then(() => (this.outage && this.queued.empty ? this.probe() : undefined));
      }, this.retryDelay);
    }
    return this.outage;
  }

  /** With nothing to write, a trivial statement finds out whether the database is back. */
  private async probe(): Promise<void> {
    try {
      await this.pool.query("SELECT 1");
      this.reachable();
    } catch (error) {
      this.unreachable(error);
    }
  }

  private reachable(): void {
    this.retryDelay = 0;
    if (!this.outage) return;
    this.outage = undefined;
    this.settings.onError(new Error(`the database is reachable again${this.chatsLost ? `; ${this.chatsLost} chats sent meanwhile were not stored` : ""}`));
    this.chatsLost = 0;
    if (!this.queued.empty) this.scheduleCommit();
  }

  // -------------------------------------------------------------------------
  // Reading

  /**
   * A statement that answers: after the queue is committed (so it sees every
   * write made before it), rejecting with StoreUnavailableError when the
   * database cannot be reached and StoreClosedError once closed.
   */
  private async read<Row>(sql: string, values: unknown[]): Promise<Row[]> {
    const result = await this.run(sql, values);
    return (result.rows as Record<string, unknown>[]).map((row) => decodeRow<Row>(row));
  }

  private async run(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    if (this.closed) throw new StoreClosedError();
    const failure = await this.commitQueued();
    if (failure instanceof StoreUnavailableError && !this.queued.empty) throw failure;
    try {
      const result = await this.pool.query(sql, params(values));
      this.reachable();
      return result;
    } catch (error) {
      if (isTransient(error)) throw this.unreachable(error);
      throw error;
    }
  }

  private report(error: unknown, doing: string): void {
    this.settings.onError(new Error(`${doing}: ${describe(error)}`, { cause: error }));
  }
}

/** An error's message, or its code when it has none (an AggregateError of refused connections has none). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return error.message || (error instanceof AggregateError && error.errors[0] instanceof Error ? describe(error.errors[0]) : code ?? error.name);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}



