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

/** Digits of a chat id: fixed width, so later ids sort after earlier ones as strings. */
export const CHAT_ID_DIGITS = 16;
/** Chats kept per conversation (room or private pair); older ones are pruned. */
export const HISTORY_KEEP = 10_000;

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

export interface Store {
  /** The number of the last chat stored (0 for none): the hub numbers new chats after it. */
  lastChatNumber(): Promise<number>;
  /** Queues a chat; `offlineFor`, an account key, also marks it undelivered to that account. */
  appendChat(chat: StoredChat, offlineFor?: string): void;
  /** Up to `limit` chats of a conversation older than `beforeId` (or the latest), oldest first, and whether older ones exist. */
  chatsBefore(conversation: string, limit: number, beforeId?: string): Promise<{ chats: StoredChat[]; more: boolean }>;
  /** The chats kept for an account while it was offline, oldest first; they are no longer kept as undelivered. */
  takeOffline(accountKey: string): Promise<StoredChat[]>;

  getAccount(key: string): Promise<Account | undefined>;
  /** Creates an account; false when the key is taken. */
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
  /** Queues a frame's fields for an account to get at its next login (friend requests, ...). */
  addNotice(accountKey: string, fields: Record<string, unknown>): void;
  /** The notices kept for an account, oldest first; they are no longer kept. */
  takeNotices(accountKey: string): Promise<Record<string, unknown>[]>;

  /** Resolves once every queued write is committed. */
  flush(): Promise<void>;
  /** Flushes and releases the database. */
  close(): Promise<void>;
}
