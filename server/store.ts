/**
 * What the chat remembers: accounts, history, offline messages, rooms, bans
 * and friendships, behind one small interface.
 *
 * The seam is asynchronous for reads (a networked database could implement
 * it) and fire-and-forget for writes: the hub delivers first and never waits
 * on the store; an implementation queues writes and commits them in batches.
 * Reads see every write queued before them.
 *
 * Keys are `nameKey()`s (see protocol.ts); names are kept as shown too.
 */

import { nameKey } from "../protocol.js";
import { HISTORY_KEEP } from "./limits.js";

/** Digits of a chat id: fixed width, so later ids sort after earlier ones as strings. */
export const CHAT_ID_DIGITS = 16;

/** The id of the `n`th chat the server has stored, n from 1. */
export function chatId(n: number): string {
  return String(n).padStart(CHAT_ID_DIGITS, "0");
}

/** The conversation key of a private exchange: the same whoever wrote. Names cannot hold spaces. */
export function privateConversation(keyA: string, keyB: string): string {
  return keyA < keyB ? `@${keyA} ${keyB}` : `@${keyB} ${keyA}`;
}

/** A chat as stored: the live frame's fields, plus the conversation it belongs to. */
export interface StoredChat {
  id: string;
  /** A room key (`#general`) or `privateConversation(a, b)`. */
  conversation: string;
  /** The sender, as shown. */
  client_name: string;
  /** The recipient of a private chat, as shown. */
  to?: string;
  /** The room of a room chat, as shown. */
  room?: string;
  subject: string;
  message: string;
  /** ISO 8601, UTC: the server's clock when it accepted the chat. */
  date: string;
}

export interface Account {
  key: string;
  name: string;
  /** A salted slow hash with its parameters (passwords.ts); never the password. */
  passwordHash: string;
  created: string;
}

/** A room that outlives its members: one owned by an account. Lists hold names as shown. */
export interface RoomRecord {
  name: string;
  owner: string;
  topic: string;
  private: boolean;
  operators: string[];
  /** Members who have accounts: back in the room when they log in. */
  members: string[];
  banned: string[];
  muted: string[];
  invited: string[];
}

/** A lobby ban: of a name, or of the address a guest was connected from. */
export interface BanRecord {
  kind: "name" | "address";
  /** A name key, or an IP address. */
  value: string;
  reason: string;
  actor: string;
  date: string;
}

/** `from` asked `to` (requested), or they are friends (accepted). Keys. */
export interface Friendship {
  from: string;
  to: string;
  status: "requested" | "accepted";
}

/** Chats read back, oldest first, and whether older (or further) ones exist. */
export interface Page {
  chats: StoredChat[];
  more: boolean;
}

/** What waits in an account's mailbox: how many chats, their weight (chatBytes), and how many from one conversation. */
export interface MailboxCount {
  chats: number;
  bytes: number;
  fromConversation: number;
}

/** Notices kept per account: the latest ones. */
export const MAX_NOTICES_PER_ACCOUNT = 50;

/** Bytes a stored chat adds to a frame besides its subject and message: names, id, date, field names. */
const CHAT_FRAME_OVERHEAD_BYTES = 160;

/** About what a chat weighs as a frame: what a read stops at (`maxBytes`), before the hub measures exactly. */
export function chatBytes(chat: Pick<StoredChat, "subject" | "message">): number {
  return Buffer.byteLength(chat.message) + Buffer.byteLength(chat.subject) + CHAT_FRAME_OVERHEAD_BYTES;
}

/** Rows a chunked read asks for first; each further chunk is twice the last. */
export const FIRST_READ_CHUNK = 8;

/**
 * Reads chats in chunks (`read(after, count)` gives up to `count` rows in
 * the order wanted, after the chat `after` or from the start) until `limit`
 * are taken or they weigh `maxBytes` (chatBytes; the first is taken whatever
 * it weighs). Chunks start small and double, so that a page of big chats is
 * not read whole to send a few, and one of small chats takes few reads.
 */
export async function readInChunks(
  read: (after: string | undefined, count: number) => StoredChat[] | Promise<StoredChat[]>,
  limit: number,
  maxBytes = Infinity,
): Promise<Page> {
  const chats: StoredChat[] = [];
  let bytesLeft = maxBytes;
  let chunk = FIRST_READ_CHUNK;
  for (;;) {
    const want = Math.min(limit - chats.length, chunk);
    // One row more than wanted says whether further ones exist.
    const rows = await read(chats.at(-1)?.id, want + 1);
    for (const chat of rows.slice(0, want)) {
      const bytes = chatBytes(chat);
      if (chats.length > 0 && bytes > bytesLeft) return { chats, more: true };
      bytesLeft -= bytes;
      chats.push(chat);
    }
    if (rows.length <= want) return { chats, more: false };
    if (chats.length === limit) return { chats, more: true };
    chunk *= 2;
  }
}

export interface Store {
  /** The number of the last chat stored (0 for none): the hub numbers new chats after it. */
  lastChatNumber(): Promise<number>;
  /**
   * Reserves `count` chat numbers and resolves with the first: no later call,
   * in this process or after a crash of it, returns any of them again. The
   * reservation is committed before it resolves.
   */
  reserveChatNumbers(count: number): Promise<number>;
  /** Queues a chat; `offlineFor`, an account key, also marks it undelivered to that account. */
  appendChat(chat: StoredChat, offlineFor?: string): void;
  /**
   * Calls back once every write queued so far is committed, with an error
   * when some of them could not be: an echo waits for it, so that an echoed
   * chat is never lost. A store that keeps nothing queued calls back at once.
   */
  afterCommit(callback: (error?: Error) => void): void;
  /**
   * Up to `limit` chats of a conversation older than `beforeId` (or the
   * latest), oldest first, and whether older ones exist. Reading stops once
   * the chats read weigh `maxBytes` (chatBytes): a reply that can carry only
   * so much is not built from ten times as much read. The latest chat comes
   * whatever it weighs.
   */
  chatsBefore(conversation: string, limit: number, beforeId?: string, maxBytes?: number): Promise<Page>;
  /** What an account's mailbox (private chats kept while it was away) holds, `conversation`'s share apart. */
  mailboxCount(accountKey: string, conversation: string): Promise<MailboxCount>;
  /**
   * Up to `limit` chats kept for an account, oldest first, weighing at most
   * `maxBytes` (the first whatever it weighs), and whether more wait. They
   * stay kept until `removeOffline`: only what reached the account leaves.
   */
  offlineChats(accountKey: string, limit: number, maxBytes?: number): Promise<Page>;
  /** Queues: the account's kept chats up to `throughId` reached it (or were pruned from their conversation). */
  removeOffline(accountKey: string, throughId: string): void;

  getAccount(key: string): Promise<Account | undefined>;
  /** Which of `keys` are accounts: one read for many names (finding a free `Usuario<N>`). */
  accountKeysAmong(keys: readonly string[]): Promise<Set<string>>;
  /** Which of these chat ids are stored (a survivor storing what a dead server may not have). */
  chatIdsAmong(ids: readonly string[]): Promise<Set<string>>;
  /** Creates an account; false when the key is taken. Committed before it resolves (not queued). */
  createAccount(account: Account): Promise<boolean>;

  loadRooms(): Promise<RoomRecord[]>;
  /** Queues the room's new state (insert or replace, by name key). */
  saveRoom(room: RoomRecord): void;
  deleteRoom(name: string): void;

  loadBans(): Promise<BanRecord[]>;
  saveBan(ban: BanRecord): void;
  removeBan(kind: BanRecord["kind"], value: string): void;

  /** Every friendship and request that involves the account. */
  friendships(key: string): Promise<Friendship[]>;
  /** Queues a friendship (insert or replace, one per unordered pair). */
  saveFriendship(friendship: Friendship): void;
  removeFriendship(keyA: string, keyB: string): void;
  /**
   * Queues a frame's fields for an account to get at its next login (friend
   * requests, invitations): nothing when `accountKey` is no account. A
   * notice replaces the account's earlier one `about` the same thing (a
   * room's invitation, a friendship), and only the latest
   * MAX_NOTICES_PER_ACCOUNT are kept: what they tell is also kept elsewhere
   * (the room's invited list, the friendship), so an old notice is news lost,
   * never a right.
   */
  addNotice(accountKey: string, about: string, fields: Record<string, unknown>): void;
  /** The notices kept for an account, oldest first (at most MAX_NOTICES_PER_ACCOUNT); they are no longer kept. */
  takeNotices(accountKey: string): Promise<Record<string, unknown>[]>;

  /** Resolves once every queued write is committed. */
  flush(): Promise<void>;
  /** Flushes and releases the database. Afterwards writes are ignored and reads reject with `StoreClosedError`. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Options and helpers shared by both stores

/** Options of `openStore()`, `MemoryStore` and `SqliteStore`. */
export interface StoreOptions {
  /** Chats kept per conversation (default `HISTORY_KEEP`). */
  historyKeep?: number;
  /**
   * Told of every write that could not be done (disk full, a malformed chat
   * id): writes are fire-and-forget, so this is the only way their failures
   * surface. Writes after `close()` are ignored without a word: that is a
   * server shutting down around late events. Default: one line on standard
   * error.
   */
  onError?: (error: Error) => void;
}

/** The test of a well-formed chat id: `chatId(n)`'s fixed width, digits only. */
const CHAT_ID_PATTERN = new RegExp(`^\\d{${CHAT_ID_DIGITS}}$`);

/** Whether `id` is one `chatId()` could have made; other ids would break string order. */
export function isChatId(id: string): boolean {
  return CHAT_ID_PATTERN.test(id);
}

/** The error a read gets once the store is closed. */
export class StoreClosedError extends Error {
  constructor() {
    super("the store is closed");
    this.name = "StoreClosedError";
  }
}

/**
 * The error a read gets, and an echo's wait, while a networked store cannot
 * reach its database: the hub answers `unavailable` ("try again in a
 * moment"), as nothing was stored.
 */
export class StoreUnavailableError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`the database cannot be reached: ${reason}`, options);
    this.name = "StoreUnavailableError";
  }
}

/** The settings both stores derive from `StoreOptions`, checked once. */
export function storeSettings(options: StoreOptions = {}): Required<StoreOptions> {
  const historyKeep = options.historyKeep ?? HISTORY_KEEP;
  if (!Number.isSafeInteger(historyKeep) || historyKeep < 1) {
    throw new RangeError(`historyKeep must be a positive integer, not ${historyKeep}`);
  }
  const onError = options.onError ?? ((error: Error) => console.error(`store: ${error.message}`));
  return { historyKeep, onError };
}

/**
 * A page size both stores agree on: whole, at least 0, and never more than
 * can be kept (which also turns Infinity into something SQL can bind).
 */
export function pageLimit(limit: number, historyKeep: number): number {
  return Number.isNaN(limit) ? 0 : Math.min(historyKeep, Math.max(0, Math.floor(limit)));
}

/** A copy of a chat with exactly the stored fields: `to` and `room` only when set. */
export function copyChat(chat: StoredChat): StoredChat {
  const copy: StoredChat = {
    id: chat.id,
    conversation: chat.conversation,
    client_name: chat.client_name,
    subject: chat.subject,
    message: chat.message,
    date: chat.date,
  };
  if (chat.to !== undefined && chat.to !== null) copy.to = chat.to;
  if (chat.room !== undefined && chat.room !== null) copy.room = chat.room;
  return copy;
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Text as a UTF-8 database keeps it: a lone surrogate (a JSON `\\ud800`
 * escape can make one) becomes U+FFFD. MemoryStore stores this form too, so
 * both stores give back the same.
 */
export function storableText(text: string): string {
  return LONE_SURROGATE.test(text) ? Buffer.from(text, "utf8").toString("utf8") : text;
}

/** A shallow copy with every top-level string in its storable form (lists are kept as JSON, which keeps them). */
export function storable<T extends object>(record: T): T {
  const copy = { ...record } as Record<string, unknown>;
  for (const [field, value] of Object.entries(copy)) if (typeof value === "string") copy[field] = storableText(value);
  return copy as T;
}

export function copyRoom(room: RoomRecord): RoomRecord {
  return {
    ...room,
    operators: [...room.operators],
    members: [...room.members],
    banned: [...room.banned],
    muted: [...room.muted],
    invited: [...room.invited],
  };
}

/**
 * Notices go through JSON in both stores, so what comes back is what a
 * database could keep (no `undefined`, no functions, dates as strings).
 */
export function noticeCopy(fields: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
}

/** A chat as a database row gives it back (both SQL stores): `to` and `room` may be null. */
export interface ChatRow {
  id: string;
  conversation: string;
  client_name: string;
  to: string | null;
  room: string | null;
  subject: string;
  message: string;
  date: string;
}

/** A room as a database row gives it back: its lists as JSON text; `private` a boolean, or SQLite's 0/1. */
export interface RoomRow {
  name: string;
  owner: string;
  topic: string;
  private: boolean | number;
  operators: string;
  members: string;
  banned: string;
  muted: string;
  invited: string;
}

export function chatFromRow(row: ChatRow): StoredChat {
  return copyChat(row as unknown as StoredChat);
}

export function roomFromRow(row: RoomRow): RoomRecord {
  const list = (json: string) => JSON.parse(json) as string[];
  return {
    name: row.name,
    owner: row.owner,
    topic: row.topic,
    private: row.private === true || row.private === 1,
    operators: list(row.operators),
    members: list(row.members),
    banned: list(row.banned),
    muted: list(row.muted),
    invited: list(row.invited),
  };
}

/** An unordered pair of keys in the order a friendship row keeps it (a < b). */
export function orderedPair(keyA: string, keyB: string): [string, string] {
  return keyA < keyB ? [keyA, keyB] : [keyB, keyA];
}

/** The key of an unordered pair of account keys (keys cannot hold spaces). */
export function pairKey(keyA: string, keyB: string): string {
  return keyA < keyB ? `${keyA} ${keyB}` : `${keyB} ${keyA}`;
}

/** Plain code-unit order, so both stores list rooms, bans and friendships alike. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Lists in the order both stores use. */
export const byRoomKey = (a: RoomRecord, b: RoomRecord) => compareText(nameKey(a.name), nameKey(b.name));
export const byBan = (a: BanRecord, b: BanRecord) => compareText(a.kind, b.kind) || compareText(a.value, b.value);
export const byPair = (a: Friendship, b: Friendship) => compareText(pairKey(a.from, a.to), pairKey(b.from, b.to));

// ---------------------------------------------------------------------------
// The memory store

/** Index of the first id in the sorted `ids`, from `low` on, that is not before `id`. */
function lowerBound(ids: string[], id: string, low = 0): number {
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ids[middle]! < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A conversation's chat ids, sorted; those before `first` are pruned already. */
interface ConversationIds {
  ids: string[];
  first: number;
}

/**
 * Everything in Maps, for tests and for a server started without a database.
 * It applies writes at once (so there is nothing to flush), and otherwise
 * behaves as `SqliteStore` does: the same caps, paging, copies and order.
 */
export class MemoryStore implements Store {
  private readonly settings: Required<StoreOptions>;
  private readonly chats = new Map<string, StoredChat>();
  private readonly conversations = new Map<string, ConversationIds>();
  private readonly offline = new Map<string, Set<string>>();
  private readonly accounts = new Map<string, Account>();
  private readonly rooms = new Map<string, RoomRecord>();
  private readonly bans = new Map<string, BanRecord>();
  private readonly friends = new Map<string, Friendship>();
  private readonly notices = new Map<string, Array<{ about: string; fields: Record<string, unknown> }>>();
  private lastNumber = 0;
  /** The last chat number reserved. */
  private reservedUpTo = 0;
  private closed = false;

  constructor(options?: StoreOptions) {
    this.settings = storeSettings(options);
  }

  async lastChatNumber(): Promise<number> {
    this.checkOpen();
    return this.lastNumber;
  }

  async reserveChatNumbers(count: number): Promise<number> {
    this.checkOpen();
    const first = Math.max(this.reservedUpTo, this.lastNumber) + 1;
    this.reservedUpTo = first + count - 1;
    return first;
  }

  appendChat(chat: StoredChat, offlineFor?: string): void {
    if (!this.writable() || !this.validId(chat.id)) return;
    // An id is stored once: the hub numbers chats uniquely, so a repeat is a replay, not news.
    if (!this.chats.has(chat.id)) this.insertChat(storable(copyChat(chat)));
    if (offlineFor !== undefined) this.offlineIds(offlineFor).add(chat.id);
  }

  afterCommit(callback: (error?: Error) => void): void {
    callback(this.closed ? new StoreClosedError() : undefined);
  }

  async chatsBefore(conversation: string, limit: number, beforeId?: string, maxBytes?: number): Promise<Page> {
    this.checkOpen();
    const { ids, first } = this.conversations.get(conversation) ?? { ids: [], first: 0 };
    const end = beforeId === undefined ? ids.length : lowerBound(ids, beforeId, first);
    // Newest first from `end`, as a database reads them.
    const read = (after: string | undefined, count: number) => {
      const to = after === undefined ? end : lowerBound(ids, after, first);
      return ids.slice(Math.max(first, to - count), to).reverse().map((id) => copyChat(this.chats.get(id)!));
    };
    const page = await readInChunks(read, pageLimit(limit, this.settings.historyKeep), maxBytes);
    return { chats: page.chats.reverse(), more: page.more };
  }

  async mailboxCount(accountKey: string, conversation: string): Promise<MailboxCount> {
    this.checkOpen();
    const count: MailboxCount = { chats: 0, bytes: 0, fromConversation: 0 };
    for (const chat of this.keptChats(accountKey)) {
      count.chats++;
      count.bytes += chatBytes(chat);
      if (chat.conversation === conversation) count.fromConversation++;
    }
    return count;
  }

  async offlineChats(accountKey: string, limit: number, maxBytes?: number): Promise<Page> {
    this.checkOpen();
    const kept = this.keptChats(accountKey);
    const read = (after: string | undefined, count: number) => {
      const from = after === undefined ? 0 : kept.findIndex((chat) => chat.id > after);
      return from < 0 ? [] : kept.slice(from, from + count).map(copyChat);
    };
    return readInChunks(read, Math.max(0, Math.floor(limit)), maxBytes);
  }

  removeOffline(accountKey: string, throughId: string): void {
    if (!this.writable()) return;
    const ids = this.offline.get(accountKey);
    for (const id of ids ?? []) if (id <= throughId) ids!.delete(id);
    if (ids?.size === 0) this.offline.delete(accountKey);
  }

  /** An account's kept chats, oldest first; a chat pruned from its conversation since is gone for its reader too. */
  private keptChats(accountKey: string): StoredChat[] {
    const ids = [...(this.offline.get(accountKey) ?? [])].sort(compareText);
    return ids.flatMap((id) => this.chats.get(id) ?? []);
  }

  async getAccount(key: string): Promise<Account | undefined> {
    this.checkOpen();
    const account = this.accounts.get(key);
    return account && { ...account };
  }

  async accountKeysAmong(keys: readonly string[]): Promise<Set<string>> {
    this.checkOpen();
    return new Set(keys.filter((key) => this.accounts.has(key)));
  }

  async chatIdsAmong(ids: readonly string[]): Promise<Set<string>> {
    this.checkOpen();
    return new Set(ids.filter((id) => this.chats.has(id)));
  }

  async createAccount(account: Account): Promise<boolean> {
    this.checkOpen();
    if (this.accounts.has(account.key)) return false;
    this.accounts.set(account.key, storable(account));
    return true;
  }

  async loadRooms(): Promise<RoomRecord[]> {
    this.checkOpen();
    return [...this.rooms.values()].map(copyRoom).sort(byRoomKey);
  }

  saveRoom(room: RoomRecord): void {
    if (this.writable()) this.rooms.set(nameKey(storableText(room.name)), storable(copyRoom(room)));
  }

  deleteRoom(name: string): void {
    if (this.writable()) this.rooms.delete(nameKey(storableText(name)));
  }

  async loadBans(): Promise<BanRecord[]> {
    this.checkOpen();
    return [...this.bans.values()].map((ban) => ({ ...ban })).sort(byBan);
  }

  saveBan(ban: BanRecord): void {
    if (!this.writable()) return;
    ban = storable(ban);
    this.bans.set(`${ban.kind} ${ban.value}`, ban);
  }

  removeBan(kind: BanRecord["kind"], value: string): void {
    if (this.writable()) this.bans.delete(`${kind} ${value}`);
  }

  async friendships(key: string): Promise<Friendship[]> {
    this.checkOpen();
    const mine = [...this.friends.values()].filter((f) => f.from === key || f.to === key);
    return mine.map((f) => ({ ...f })).sort(byPair);
  }

  saveFriendship(friendship: Friendship): void {
    if (!this.writable()) return;
    friendship = storable(friendship);
    this.friends.set(pairKey(friendship.from, friendship.to), friendship);
  }

  removeFriendship(keyA: string, keyB: string): void {
    if (this.writable()) this.friends.delete(pairKey(keyA, keyB));
  }

  addNotice(accountKey: string, about: string, fields: Record<string, unknown>): void {
    if (!this.writable() || !this.accounts.has(accountKey)) return;
    const notices = (this.notices.get(accountKey) ?? []).filter((notice) => notice.about !== about);
    notices.push({ about, fields: noticeCopy(fields) });
    this.notices.set(accountKey, notices.slice(-MAX_NOTICES_PER_ACCOUNT));
  }

  async takeNotices(accountKey: string): Promise<Record<string, unknown>[]> {
    this.checkOpen();
    const notices = this.notices.get(accountKey) ?? [];
    this.notices.delete(accountKey);
    return notices.map((notice) => notice.fields);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  private writable(): boolean {
    return !this.closed;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private validId(id: string): boolean {
    if (isChatId(id)) return true;
    this.settings.onError(new Error(`chat id ${JSON.stringify(id)} is not ${CHAT_ID_DIGITS} digits: not stored`));
    return false;
  }

  /** Files a chat in its conversation, in id order, and prunes that conversation to historyKeep. */
  private insertChat(chat: StoredChat): void {
    const conversation = this.conversationIds(chat.conversation);
    const { ids } = conversation;
    if (ids.length === 0 || ids[ids.length - 1]! < chat.id) ids.push(chat.id);
    else ids.splice(lowerBound(ids, chat.id, conversation.first), 0, chat.id);
    this.chats.set(chat.id, chat);
    this.lastNumber = Math.max(this.lastNumber, Number(chat.id));
    while (ids.length - conversation.first > this.settings.historyKeep) this.chats.delete(ids[conversation.first++]!);
    // Pruned ids are cut from the array once they are half of it: a splice per chat would move the whole conversation each time.
    if (conversation.first > 0 && conversation.first * 2 >= ids.length) {
      ids.splice(0, conversation.first);
      conversation.first = 0;
    }
  }

  private conversationIds(conversation: string): ConversationIds {
    let ids = this.conversations.get(conversation);
    if (!ids) this.conversations.set(conversation, (ids = { ids: [], first: 0 }));
    return ids;
  }

  private offlineIds(accountKey: string): Set<string> {
    let ids = this.offline.get(accountKey);
    if (!ids) this.offline.set(accountKey, (ids = new Set()));
    return ids;
  }
}
