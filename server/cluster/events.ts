/**
 * The changes servers of one chat append to the shared log and apply in
 * its order (docs/cluster.md). Each names the session it comes from by an
 * id unique in the chat (`SERVER/N`), and carries what only the server that
 * asked could know (a password was right, an account exists, its friends):
 * applying an entry needs no store read and no clock, so every server that
 * applies it reaches the same state.
 */
import type { LeaveReason, MessageFields } from "../../protocol.js";

/** A change as appended by the server whose client asked for it. */
export type ChangeEvent =
  /** A client joins under a name its server granted (the password checked there). */
  | {
      kind: "join";
      sid: string;
      name: string;
      account: boolean;
      /** A seed client's bare Message: it joins and its text is a chat. */
      implicit: boolean;
      /** The name was a Usuario<N> chosen by the server: taken meanwhile, the server chooses again. */
      byDefault: boolean;
      /** Why the asked name was refused (an implicit join). */
      refusal?: string;
      features: string[];
      address: string;
      /** Keys of the account's accepted friends, read from the store by its server. */
      friends: string[];
      frame: MessageFields;
      /** Its server's clock: the seed's implicit chat is stamped with it everywhere. */
      date: string;
    }
  /** A frame whose effect needs nothing from the store: a chat, part, topic, moderation; `offline`: a chat kept for an absent account. */
  | { kind: "frame"; sid: string; frame: MessageFields; date: string; offline?: { key: string; name: string } }
  /** A room entered (its replay was read by the client's server before). */
  | { kind: "enter"; sid: string; frame: MessageFields }
  /** A guest registered its name: its server stored the account. */
  | { kind: "registered"; sid: string; frame: MessageFields }
  /** A friendship changed: its server stored it. */
  | { kind: "friendship"; sid: string; frame: MessageFields; other: { key: string; name: string }; status: "requested" | "accepted" | "removed" }
  /** A client's connection ended on its server. */
  | { kind: "leave"; sid: string; reason: LeaveReason }
  /** Every client of a server is gone: it stopped (`shutdown`) or died (`lost`, appended by a survivor). */
  | { kind: "gone"; server: string; reason: LeaveReason }
  /** A server joins the chat (or the log started again): every other server answers with its roster. */
  | { kind: "hello"; server: string }
  /**
   * The clients a server holds, with their rooms, as of log entry `asOf`: the
   * others make their picture of it match (after Redis lost the log, or for a
   * newcomer), leaving alone what changed after `asOf`.
   */
  | { kind: "roster"; server: string; sessions: RosterEntry[]; asOf: number };

/** One client in a roster: what its join said, and the rooms it is in. */
export interface RosterEntry {
  sid: string;
  name: string;
  account: boolean;
  features: string[];
  address: string;
  friends: string[];
  rooms: string[];
}

/** Each appended event also carries a token, so that its server recognises it when it reads it back. */
export type LoggedEvent = ChangeEvent & { token: string };

/** The shared log as the hub sees it (cluster-link.ts provides it). */
export interface ClusterPort {
  /** This server's id in the chat. */
  readonly server: string;
  /** Appends an event; resolves with its number. Rejects when Redis is away (nothing is then appended later). */
  append(event: LoggedEvent): Promise<number>;
  /** Wrong passwords counted across every server. */
  readonly attempts: SharedAttempts;
}

/** The attempt limit's count shared by the servers (a wrong password on any counts on all). */
export interface SharedAttempts {
  blocked(nameKey: string, address: string): Promise<boolean>;
  fail(nameKey: string, address: string): Promise<void>;
  succeed(nameKey: string, address: string): Promise<void>;
}
