/**
 * The store on a SQLite file, through libsql (better-sqlite3's synchronous
 * API on libSQL, with prebuilt binaries from npm: see docs/architecture.md, "Storage").
 *
 * Writes are queued and committed together, one transaction per batch, a few
 * milliseconds after the first of them; a read commits the queue first, so it
 * sees every write made before it. Nothing here throws into the server once
 * the store is open: failed writes are told to `onError` and the rest go on.
 */

import Database from "libsql";
import { lockDatabase } from "./database-lock.js";
import { MEMORY_PATH } from "./limits.js";
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
  StoreClosedError,
  storeSettings,
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

type Db = Database.Database;
type Statement = Database.Statement;

/** Milliseconds between the first write of a batch and its commit: what a crash may lose. */
export const FLUSH_DELAY_MS = 5;
/** The counter of chat numbers in the `counters` table. */
const CHAT_COUNTER = "chat";

/** Milliseconds a statement waits for a lock held by another connection before failing. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * The schema, one step per version: step i takes `PRAGMA user_version` from
 * i to i + 1, in one transaction with the version bump, so a step is applied
 * once or not at all. Append steps; never edit one that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: history and accounts.
  `CREATE TABLE chats (
     id TEXT PRIMARY KEY, -- chatId(n): fixed width, so text order is numeric order
     conversation TEXT NOT NULL,
     client_name TEXT NOT NULL,
     "to" TEXT,
     room TEXT,
     subject TEXT NOT NULL,
     message TEXT NOT NULL,
     date TEXT NOT NULL
   );
   -- Serves "the latest N of a conversation", "before ID" and the pruning of old chats.
   CREATE INDEX chats_by_conversation ON chats (conversation, id);
   CREATE TABLE offline (
     account_key TEXT NOT NULL,
     chat_id TEXT NOT NULL,
     PRIMARY KEY (account_key, chat_id)
   ) WITHOUT ROWID;
   CREATE TABLE accounts (
     key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     created TEXT NOT NULL
   ) WITHOUT ROWID;`,
  // 2: rooms and moderation. A room's lists are JSON arrays: they are short,
  // always read and written whole with their room (loaded once at start,
  // saved whole on every change) and never searched by element, so five link
  // tables would only turn each save into a delete and reinsert of every list.
  `CREATE TABLE rooms (
     key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     owner TEXT NOT NULL,
     topic TEXT NOT NULL,
     private INTEGER NOT NULL,
     operators TEXT NOT NULL,
     members TEXT NOT NULL,
     banned TEXT NOT NULL,
     muted TEXT NOT NULL,
     invited TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE bans (
     kind TEXT NOT NULL CHECK (kind IN ('name', 'address')),
     value TEXT NOT NULL,
     reason TEXT NOT NULL,
     actor TEXT NOT NULL,
     date TEXT NOT NULL,
     PRIMARY KEY (kind, value)
   ) WITHOUT ROWID;`,
  // 3: friends, and notices kept for the next login. A friendship is one row
  // per unordered pair (a < b), whoever asked, so a request and its answer
  // cannot disagree.
  `CREATE TABLE friendships (
     a TEXT NOT NULL,
     b TEXT NOT NULL,
     from_key TEXT NOT NULL,
     to_key TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('requested', 'accepted')),
     PRIMARY KEY (a, b)
   ) WITHOUT ROWID;
   CREATE INDEX friendships_by_b ON friendships (b);
   CREATE TABLE notices (
     seq INTEGER PRIMARY KEY, -- order of arrival
     account_key TEXT NOT NULL,
     fields TEXT NOT NULL -- the frame's fields, JSON
   );
   CREATE INDEX notices_by_account ON notices (account_key, seq);`,
  // 4: counters handed out ahead, such as chat numbers: the next one not yet
  // reserved survives a crash, so a number is never handed out twice.
  `CREATE TABLE counters (
     name TEXT PRIMARY KEY,
     next INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // 5: what a notice is about (a room's invitation, a friendship), so that a
  // new one replaces the old instead of piling up. Older notices have none.
  `ALTER TABLE notices ADD COLUMN about TEXT;
   CREATE UNIQUE INDEX notices_by_about ON notices (account_key, about);`,
];

/** The schema version of the open database (`PRAGMA user_version`). */
export function schemaVersion(db: Db): number {
  // libsql's pragma(..., { simple: true }) still returns the row: read the column.
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

/**
 * Applies the steps the database has not had, up to `target` (default: all),
 * each in its own transaction. The version is read inside that transaction,
 * so two processes opening a new file at once do not both run a step. A
 * database newer than this code is refused rather than written to.
 */
export function migrate(db: Db, target = MIGRATIONS.length): void {
  let stepped = true;
  while (stepped) {
    stepped = inTransaction(db, () => {
      const version = schemaVersion(db);
      if (version > MIGRATIONS.length) {
        throw new Error(`the database is at schema version ${version}; this program knows up to ${MIGRATIONS.length}`);
      }
      if (version >= target) return false;
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      return true;
    });
  }
}

/** Runs `work` in one write transaction: all of it is committed, or none. */
function inTransaction<T>(db: Db, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Opens a database file (created if missing) with the settings the store relies on. */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  // WAL: readers never block the writer, and a commit is one append. NORMAL:
  // no fsync per commit, only at checkpoints; a power cut may lose the last
  // commits, never corrupt the file. Both are per connection except WAL.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}



interface FriendRow {
  from_key: string;
  to_key: string;
  status: Friendship["status"];
}

const CHAT_COLUMNS = `id, conversation, client_name, "to", room, subject, message, date`;

/** Every statement the store runs, prepared once. */
function prepareStatements(db: Db) {
  const sql = (source: string) => db.prepare(source);
  return {
    insertChat: sql(`INSERT OR IGNORE INTO chats (${CHAT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    // A batch's chats of one conversation in one statement, as a JSON array of rows: a quarter cheaper than a statement each.
    insertChats: sql(`INSERT OR IGNORE INTO chats (${CHAT_COLUMNS})
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each(?)`),
    countChats: sql(`SELECT count(*) AS n FROM chats WHERE conversation = ?`),
    // Deletes a conversation's oldest chats: reads only as many index entries as it deletes.
    pruneOldest: sql(`DELETE FROM chats WHERE conversation = ?1 AND id IN
      (SELECT id FROM chats WHERE conversation = ?1 ORDER BY id LIMIT ?2)`),
    latestChats: sql(`SELECT ${CHAT_COLUMNS} FROM chats WHERE conversation = ? ORDER BY id DESC LIMIT ?`),
    chatsBefore: sql(`SELECT ${CHAT_COLUMNS} FROM chats WHERE conversation = ? AND id < ? ORDER BY id DESC LIMIT ?`),
    lastChatId: sql(`SELECT max(id) AS id FROM chats`),
    readCounter: sql(`SELECT next FROM counters WHERE name = ?`),
    writeCounter: sql(`INSERT INTO counters (name, next) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET next = excluded.next`),
    addOffline: sql(`INSERT OR IGNORE INTO offline (account_key, chat_id) VALUES (?, ?)`),
    // A chat pruned from its conversation since is gone for its offline reader too: the join skips it.
    offlineChats: sql(`SELECT c.id, c.conversation, c.client_name, c."to", c.room, c.subject, c.message, c.date
      FROM offline o JOIN chats c ON c.id = o.chat_id WHERE o.account_key = ? AND o.chat_id > ? ORDER BY o.chat_id LIMIT ?`),
    mailboxCount: sql(`SELECT count(*) AS chats, coalesce(sum(length(CAST(c.message AS BLOB)) + length(CAST(c.subject AS BLOB))), 0) AS bytes,
      coalesce(sum(c.conversation = ?2), 0) AS fromConversation FROM offline o JOIN chats c ON c.id = o.chat_id WHERE o.account_key = ?1`),
    removeOffline: sql(`DELETE FROM offline WHERE account_key = ? AND chat_id <= ?`),
    getAccount: sql(`SELECT key, name, password_hash, created FROM accounts WHERE key = ?`),
    accountKeysAmong: sql(`SELECT key FROM accounts WHERE key IN (SELECT value FROM json_each(?))`),
    chatIdsAmong: sql(`SELECT id FROM chats WHERE id IN (SELECT value FROM json_each(?))`),
    createAccount: sql(`INSERT OR IGNORE INTO accounts (key, name, password_hash, created) VALUES (?, ?, ?, ?)`),
    loadRooms: sql(`SELECT name, owner, topic, private, operators, members, banned, muted, invited FROM rooms`),
    saveRoom: sql(`INSERT OR REPLACE INTO rooms
      (key, name, owner, topic, private, operators, members, banned, muted, invited)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteRoom: sql(`DELETE FROM rooms WHERE key = ?`),
    loadBans: sql(`SELECT kind, value, reason, actor, date FROM bans`),
    saveBan: sql(`INSERT OR REPLACE INTO bans (kind, value, reason, actor, date) VALUES (?, ?, ?, ?, ?)`),
    removeBan: sql(`DELETE FROM bans WHERE kind = ? AND value = ?`),
    friendships: sql(`SELECT from_key, to_key, status FROM friendships WHERE a = ?1 OR b = ?1`),
    saveFriendship: sql(`INSERT OR REPLACE INTO friendships (a, b, from_key, to_key, status) VALUES (?, ?, ?, ?, ?)`),
    removeFriendship: sql(`DELETE FROM friendships WHERE a = ? AND b = ?`),
    dropNoticeAbout: sql(`DELETE FROM notices WHERE account_key = ? AND about = ?`),
    // Only for an account: a name nobody registered gets nothing kept.
    addNotice: sql(`INSERT INTO notices (account_key, about, fields) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM accounts WHERE key = ?1)`),
    pruneNotices: sql(`DELETE FROM notices WHERE account_key = ?1 AND seq <=
      (SELECT seq FROM notices WHERE account_key = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)`),
    notices: sql(`SELECT seq, fields FROM notices WHERE account_key = ? ORDER BY seq`),
    dropNotices: sql(`DELETE FROM notices WHERE account_key = ? AND seq <= ?`),
  };
}

/** One queued write: its statement and the values, taken when it was queued. */
interface Write {
  statement: Statement;
  params: unknown[];
  /** For chats: the conversation they add to. */
  conversation?: string;
  /** How many writes this one stands for (a conversation's chats in one statement). @default 1 */
  count?: number;
}

/**
 * A string as libsql can bind it. libsql cuts a bound string at its first
 * NUL ("a\u0000b" is stored as "a"), and a chat may hold any character: such
 * a string goes as its UTF-8 bytes, a BLOB, which `fromSql` turns back.
 * Valid keys never hold a NUL, so lookups and order are unaffected.
 */
function toSql(value: unknown): unknown {
  return typeof value === "string" && value.includes("\u0000") ? Buffer.from(value, "utf8") : value;
}

/** A column's value as bound by `toSql`: a BLOB (an ArrayBuffer from libsql) is a string's UTF-8. */
function fromSql(value: unknown): unknown {
  return value instanceof ArrayBuffer ? Buffer.from(value).toString("utf8") : value;
}

/** A row with its BLOBs back as strings (and without libsql's `_metadata`, which `get` adds). */
function decodeRow<Row>(row: Record<string, unknown>): Row {
  const decoded: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) if (column !== "_metadata") decoded[column] = fromSql(value);
  return decoded as Row;
}

/** Parameters always go as one array: libsql misreads a lone `null` argument. */
function run(write: Write): Database.RunResult {
  return write.statement.run(write.params.map(toSql));
}

function all<Row>(statement: Statement, params: unknown[]): Row[] {
  return (statement.all(params.map(toSql)) as Record<string, unknown>[]).map((row) => decodeRow<Row>(row));
}

function get<Row>(statement: Statement, params: unknown[]): Row | undefined {
  const row = statement.get(params.map(toSql)) as Record<string, unknown> | undefined;
  return row && decodeRow<Row>(row);
}

/**
 * The store on a SQLite file. Open it with `SqliteStore.open(path)` (or
 * `openStore()`); writes are batched as described at the top of this file, reads are
 * synchronous underneath and answered at once.
 */
export class SqliteStore implements Store {
  private readonly settings: Required<StoreOptions>;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private queue: Write[] = [];
  /** The queued batch's chats, by conversation, as rows for insertChats. */
  private chats = new Map<string, unknown[][]>();
  /** Conversations that got chats in the queued batch: the ones to prune. */
  private touched = new Set<string>();
  /**
   * Chats stored per conversation, counted once and then kept up to date, so
   * that pruning need not count (with an OFFSET over historyKeep rows) at
   * every batch: that doubled the cost of storing a chat.
   */
  private readonly chatCounts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Who waits for the queued writes to be committed (echoes), called once they are. */
  private commitWaiters: Array<(error?: Error) => void> = [];
  private closed = false;

  /** Opens (creating and migrating as needed) the database at `path`; `":memory:"` is an in-memory SQLite. */
  static open(path: string, options?: StoreOptions): SqliteStore {
    const settings = storeSettings(options);
    // An in-memory database is this connection's alone: nothing to lock.
    const unlock = path === MEMORY_PATH ? () => {} : lockDatabase(path);
    let db: Db | undefined;
    try {
      db = openDatabase(path);
      migrate(db);
      return new SqliteStore(db, settings, unlock);
    } catch (error) {
      db?.close();
      unlock();
      throw error;
    }
  }

  private constructor(
    private readonly db: Db,
    settings: Required<StoreOptions>,
    /** Releases the database file's lock (database-lock.ts). */
    private readonly unlock: () => void,
  ) {
    this.settings = settings;
    this.statements = prepareStatements(db);
  }

  async lastChatNumber(): Promise<number> {
    this.beforeRead();
    return this.lastStoredNumber();
  }

  private lastStoredNumber(): number {
    const row = get<{ id: string | null }>(this.statements.lastChatId, [])!;
    return row.id === null ? 0 : Number(row.id);
  }

  async reserveChatNumbers(count: number): Promise<number> {
    this.beforeRead();
    return inTransaction(this.db, () => {
      const counter = get<{ next: number }>(this.statements.readCounter, [CHAT_COUNTER]);
      // Never below a chat stored (one from before the counter, or copied in).
      const first = Math.max(counter?.next ?? 1, this.lastStoredNumber() + 1);
      this.statements.writeCounter.run([CHAT_COUNTER, first + count]);
      return first;
    });
  }

  appendChat(chat: StoredChat, offlineFor?: string): void {
    if (this.closed) return;
    if (!isChatId(chat.id)) {
      this.settings.onError(new Error(`chat id ${JSON.stringify(chat.id)} is not ${CHAT_ID_DIGITS} digits: not stored`));
      return;
    }
    // An id is stored once (INSERT OR IGNORE): the hub numbers chats uniquely, so a repeat is a replay.
    const c = storable(copyChat(chat));
    const row = [c.id, c.conversation, c.client_name, c.to ?? null, c.room ?? null, c.subject, c.message, c.date];
    // A NUL must go as a BLOB (toSql), which JSON cannot carry: such a chat has a statement of its own.
    const queued = row.some((value) => typeof value === "string" && value.includes("\u0000"))
      ? this.enqueue(this.statements.insertChat, row, c.conversation)
      : this.enqueueChat(row, c.conversation);
    if (!queued) return;
    this.touched.add(c.conversation);
    if (offlineFor !== undefined) this.enqueue(this.statements.addOffline, [offlineFor, c.id]);
  }

  afterCommit(callback: (error?: Error) => void): void {
    if (this.closed) callback(new StoreClosedError());
    else if (this.queue.length === 0 && this.chats.size === 0) callback();
    else this.commitWaiters.push(callback);
  }

  async chatsBefore(conversation: string, limit: number, beforeId?: string, maxBytes?: number): Promise<Page> {
    this.beforeRead();
    const read = (after: string | undefined, count: number) => {
      const before = after ?? beforeId;
      const rows = before === undefined
        ? all<ChatRow>(this.statements.latestChats, [conversation, count])
        : all<ChatRow>(this.statements.chatsBefore, [conversation, before, count]);
      return rows.map(chatFromRow);
    };
    const page = await readInChunks(read, pageLimit(limit, this.settings.historyKeep), maxBytes);
    return { chats: page.chats.reverse(), more: page.more };
  }

  async mailboxCount(accountKey: string, conversation: string): Promise<MailboxCount> {
    this.beforeRead();
    const row = get<{ chats: number; bytes: number; fromConversation: number }>(this.statements.mailboxCount, [accountKey, conversation])!;
    // chatBytes weighs each chat with the same overhead, added here rather than in SQL.
    return { chats: row.chats, bytes: row.bytes + row.chats * chatBytes({ subject: "", message: "" }), fromConversation: row.fromConversation };
  }

  async offlineChats(accountKey: string, limit: number, maxBytes?: number): Promise<Page> {
    this.beforeRead();
    const read = (after: string | undefined, count: number) =>
      all<ChatRow>(this.statements.offlineChats, [accountKey, after ?? "", count]).map(chatFromRow);
    return readInChunks(read, Math.max(0, Math.floor(limit)), maxBytes);
  }

  removeOffline(accountKey: string, throughId: string): void {
    this.enqueue(this.statements.removeOffline, [accountKey, throughId]);
  }

  async getAccount(key: string): Promise<Account | undefined> {
    this.beforeRead();
    const row = get<{ key: string; name: string; password_hash: string; created: string }>(this.statements.getAccount, [key]);
    return row && { key: row.key, name: row.name, passwordHash: row.password_hash, created: row.created };
  }

  async accountKeysAmong(keys: readonly string[]): Promise<Set<string>> {
    this.beforeRead();
    return new Set(all<{ key: string }>(this.statements.accountKeysAmong, [JSON.stringify(keys)]).map((row) => row.key));
  }

  async chatIdsAmong(ids: readonly string[]): Promise<Set<string>> {
    this.beforeRead();
    return new Set(all<{ id: string }>(this.statements.chatIdsAmong, [JSON.stringify(ids)]).map((row) => row.id));
  }

  async createAccount(account: Account): Promise<boolean> {
    this.beforeRead();
    // Not queued: the answer depends on what is stored, and a registration is told only once it is.
    const params = [account.key, account.name, account.passwordHash, account.created];
    return run({ statement: this.statements.createAccount, params }).changes === 1;
  }

  async loadRooms(): Promise<RoomRecord[]> {
    this.beforeRead();
    return all<RoomRow>(this.statements.loadRooms, []).map(roomFromRow).sort(byRoomKey);
  }

  saveRoom(room: RoomRecord): void {
    const lists = [room.operators, room.members, room.banned, room.muted, room.invited].map((l) => JSON.stringify(l));
    const params = [nameKey(room.name), room.name, room.owner, room.topic, room.private ? 1 : 0, ...lists];
    this.enqueue(this.statements.saveRoom, params);
  }

  deleteRoom(name: string): void {
    this.enqueue(this.statements.deleteRoom, [nameKey(name)]);
  }

  async loadBans(): Promise<BanRecord[]> {
    this.beforeRead();
    const rows = all<BanRecord>(this.statements.loadBans, []);
    return rows.map(({ kind, value, reason, actor, date }) => ({ kind, value, reason, actor, date })).sort(byBan);
  }

  saveBan(ban: BanRecord): void {
    this.enqueue(this.statements.saveBan, [ban.kind, ban.value, ban.reason, ban.actor, ban.date]);
  }

  removeBan(kind: BanRecord["kind"], value: string): void {
    this.enqueue(this.statements.removeBan, [kind, value]);
  }

  async friendships(key: string): Promise<Friendship[]> {
    this.beforeRead();
    const rows = all<FriendRow>(this.statements.friendships, [key]);
    return rows.map((row) => ({ from: row.from_key, to: row.to_key, status: row.status })).sort(byPair);
  }

  saveFriendship(friendship: Friendship): void {
    const { from, to, status } = friendship;
    this.enqueue(this.statements.saveFriendship, [...orderedPair(from, to), from, to, status]);
  }

  removeFriendship(keyA: string, keyB: string): void {
    this.enqueue(this.statements.removeFriendship, orderedPair(keyA, keyB));
  }

  addNotice(accountKey: string, about: string, fields: Record<string, unknown>): void {
    this.enqueue(this.statements.dropNoticeAbout, [accountKey, about]);
    this.enqueue(this.statements.addNotice, [accountKey, about, JSON.stringify(noticeCopy(fields))]);
    this.enqueue(this.statements.pruneNotices, [accountKey, MAX_NOTICES_PER_ACCOUNT]);
  }

  async takeNotices(accountKey: string): Promise<Record<string, unknown>[]> {
    this.beforeRead();
    const rows = all<{ seq: number; fields: string }>(this.statements.notices, [accountKey]);
    if (rows.length > 0) this.enqueue(this.statements.dropNotices, [accountKey, rows[rows.length - 1]!.seq]);
    return rows.map((row) => JSON.parse(row.fields) as Record<string, unknown>);
  }

  async flush(): Promise<void> {
    this.commitQueue();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commitQueue();
    this.closed = true;
    try {
      this.db.close();
    } catch (error) {
      this.report(error, "closing the database");
    } finally {
      this.unlock();
    }
  }

  /** Queues a write and makes sure a commit is scheduled; false (ignored) once closed. */
  private enqueue(statement: Statement, params: unknown[], conversation?: string): boolean {
    // A write after close is the server shutting down around a late event: ignored, as MemoryStore does.
    if (this.closed) return false;
    this.queue.push(conversation === undefined ? { statement, params } : { statement, params, conversation });
    // A ref'd timer: a script that writes and ends still gets its writes committed.
    this.timer ??= setTimeout(() => this.commitQueue(), FLUSH_DELAY_MS);
    return true;
  }

  /** Queues a chat's row with its conversation's others; false (ignored) once closed. */
  private enqueueChat(row: unknown[], conversation: string): boolean {
    if (this.closed) return false;
    const rows = this.chats.get(conversation);
    if (rows) rows.push(row);
    else this.chats.set(conversation, [row]);
    this.timer ??= setTimeout(() => this.commitQueue(), FLUSH_DELAY_MS);
    return true;
  }

  /** What every read does first: refuse once closed, and commit the queue so the read sees it. */
  private beforeRead(): void {
    if (this.closed) throw new StoreClosedError();
    this.commitQueue();
  }

  /** Commits the queued writes now, in one transaction, with the pruning they call for. */
  private commitQueue(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 && this.chats.size === 0) return;
    const chats = [...this.chats].map(([conversation, rows]): Write => ({
      statement: this.statements.insertChats,
      params: [JSON.stringify(rows)],
      conversation,
      count: rows.length,
    }));
    // Chats first: no other write depends on where they stand in the batch.
    const batch = [...chats, ...this.queue];
    const touched = this.touched;
    this.queue = [];
    this.chats = new Map();
    this.touched = new Set();
    const waiters = this.commitWaiters;
    this.commitWaiters = [];
    let failure: Error | undefined;
    try {
      inTransaction(this.db, () => this.apply(batch, touched));
    } catch (error) {
      failure = this.salvage(batch, touched, error);
    }
    for (const waiter of waiters) waiter(failure);
  }

  private apply(batch: Write[], touched: Set<string>): void {
    const added = new Map<string, number>();
    for (const write of batch) {
      const { changes } = run(write);
      if (write.conversation !== undefined && changes > 0) added.set(write.conversation, (added.get(write.conversation) ?? 0) + changes);
    }
    for (const conversation of touched) this.prune(conversation, added.get(conversation) ?? 0);
  }

  /** Keeps a conversation's newest historyKeep chats. */
  private prune(conversation: string, added: number): void {
    const known = this.chatCounts.get(conversation);
    let count = known !== undefined ? known + added : get<{ n: number }>(this.statements.countChats, [conversation])!.n;
    if (count > this.settings.historyKeep) {
      run({ statement: this.statements.pruneOldest, params: [conversation, count - this.settings.historyKeep] });
      count = this.settings.historyKeep;
    }
    this.chatCounts.set(conversation, count);
  }

  /**
   * A batch that failed as a whole is tried again one write at a time, so
   * that one bad write does not take the others with it; what still fails
   * is reported once, with the first error, and returned: the batch's
   * waiters cannot tell whose write it was, so none is told it is stored.
   */
  private salvage(batch: Write[], touched: Set<string>, error: unknown): Error | undefined {
    this.chatCounts.clear(); // the failed batch may have counted chats it rolled back: count again
    let lost = 0;
    for (const write of batch) {
      try {
        inTransaction(this.db, () => run(write));
      } catch {
        lost += write.count ?? 1;
      }
    }
    try {
      inTransaction(this.db, () => this.apply([], touched));
    } catch {
      // Pruning waits for the next batch that touches the conversation.
    }
    const writes = batch.reduce((sum, write) => sum + (write.count ?? 1), 0);
    this.report(error, `committing a batch of ${writes} writes (${lost} lost)`);
    return lost > 0 ? (error instanceof Error ? error : new Error(String(error))) : undefined;
  }

  private report(error: unknown, doing: string): void {
    const message = error instanceof Error ? error.message : String(error);
    this.settings.onError(new Error(`${doing}: ${message}`, { cause: error }));
  }
}



