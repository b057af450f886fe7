/**
 * The chats this server applied for each other server, for a while: if that
 * server dies between appending a chat and storing it, the survivor that
 * cleans up after it stores what the store lacks, so that a chat delivered
 * anywhere is in the history. Pure: a queue per server, oldest first.
 */
import type { StoredChat } from "../store.js";

/** How long a chat is kept: more than a dead server takes to be found (15 s at most). */
export const RECENT_CHATS_MS = 30_000;
/** Chats kept per server at most, whatever their age: memory stays bounded under any rate. */
export const RECENT_CHATS_MAX = 100_000;

interface Kept {
  chat: StoredChat;
  offlineFor: string | undefined;
  at: number;
}

export class RecentChats {
  private readonly byServer = new Map<string, { items: Kept[]; head: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  add(server: string, chat: StoredChat, offlineFor?: string): void {
    let queue = this.byServer.get(server);
    if (!queue) this.byServer.set(server, (queue = { items: [], head: 0 }));
    const at = this.now();
    queue.items.push({ chat, offlineFor, at });
    while (queue.head < queue.items.length && (queue.items[queue.head]!.at < at - RECENT_CHATS_MS || queue.items.length - queue.head > RECENT_CHATS_MAX)) {
      queue.head++;
    }
    // Dropped entries are cut off in one go once they are half the array, so each costs O(1) in all.
    if (queue.head > queue.items.length / 2) {
      queue.items.splice(0, queue.head);
      queue.head = 0;
    }
  }

  /** The chats kept for `server`, oldest first, and forgets them. */
  take(server: string): Array<{ chat: StoredChat; offlineFor: string | undefined }> {
    const queue = this.byServer.get(server);
    this.byServer.delete(server);
    return queue ? queue.items.slice(queue.head).map(({ chat, offlineFor }) => ({ chat, offlineFor })) : [];
  }

  /** Forgets `server`'s chats (it stopped normally: it stored them). */
  forget(server: string): void {
    this.byServer.delete(server);
  }
}
