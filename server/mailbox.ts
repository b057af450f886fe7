/**
 * The mailbox: private chats kept for an account while it is away. Its
 * bounds, the sentence that refuses one more, and what guests have left in
 * it by address (pure; the hub asks the store for the counts).
 */
import { chatBytes, type MailboxCount } from "./store.js";

/** Private chats kept for one account while it is away; one more is refused with `mailbox_full`. */
export const MAILBOX_MAX_CHATS = 500;
/** What those chats may weigh in all (chatBytes): a mailbox of long messages fills sooner. */
export const MAILBOX_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Chats one sender may leave in one mailbox: a share, so that one sender
 * cannot fill it for everyone. One name's; for guests also one address's
 * (GuestShares), or a guest would get a new share under each name it took.
 */
export const MAILBOX_MAX_FROM_ONE = 100;
/** Kept chats delivered at a time; the next page follows once this one has left the server. */
export const MAILBOX_PAGE = 50;
/** What one page of kept chats may weigh: with a login's replays, well under what the server holds for a reader. */
export const MAILBOX_PAGE_BYTES = 128 * 1024;

/** Why one more chat (`subject`, `message`) does not fit in a mailbox, or undefined when it does. */
export function mailboxRefusal(
  mailbox: MailboxCount,
  chat: { subject: string; message: string },
  recipient: string,
  /** What the sender's address has left there as a guest (0 for an account). */
  guestShare = 0,
): string | undefined {
  if (mailbox.fromConversation >= MAILBOX_MAX_FROM_ONE || guestShare >= MAILBOX_MAX_FROM_ONE) {
    return `You have left ${recipient} ${MAILBOX_MAX_FROM_ONE} messages already: the rest can wait until ${recipient} is back`;
  }
  if (mailbox.chats >= MAILBOX_MAX_CHATS || mailbox.bytes + chatBytes(chat) > MAILBOX_MAX_BYTES) {
    return `${recipient}'s mailbox is full: the message was not kept`;
  }
  return undefined;
}

/**
 * Chats guests left in each account's mailbox, by address: a guest who
 * comes back under another name keeps the share it had. Kept in this
 * process (forgotten at a restart, and each server of several counts its
 * own), and started again when the account logs in and reads its mailbox.
 * An entry stands for at least one kept chat, so the store's bound on the
 * mailbox bounds this too.
 */
export class GuestShares {
  private readonly left = new Map<string, Map<string, number>>();

  count(accountKey: string, address: string): number {
    return this.left.get(accountKey)?.get(address) ?? 0;
  }

  add(accountKey: string, address: string): void {
    let byAddress = this.left.get(accountKey);
    if (!byAddress) this.left.set(accountKey, (byAddress = new Map()));
    byAddress.set(address, (byAddress.get(address) ?? 0) + 1);
  }

  /** The account is reading its mailbox: the guests' shares start again. */
  clear(accountKey: string): void {
    this.left.delete(accountKey);
  }
}
