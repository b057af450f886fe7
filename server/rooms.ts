/**
 * Rooms: their names, members and roles. Pure: the hub (hub.ts) decides
 * who may do what and tells the members; a Room only keeps the state.
 *
 * Names are kept as shown; sets hold name keys (protocol.ts `nameKey`).
 */
import { LOBBY, nameKey, roomKey, sortNames } from "../protocol.js";
import type { Session } from "./session.js";
import { type RoomRecord } from "./store.js";

let nextGuestRoom = 0;

export class Room {
  readonly key: string;
  /**
   * Where its chats are stored. An account's room keeps its name's history
   * across restarts; a guest room's history is its own, so a room created
   * later under the same name does not see what was said before.
   */
  readonly conversation: string;
  /** Who is in the room now, by name key. */
  readonly online = new Map<string, Session>();
  /** Account members, by key, with their names: they are back in the room at login. */
  readonly accountMembers = new Map<string, string>();
  /** Name key → name as shown, for each role. */
  readonly operators = new Map<string, string>();
  readonly banned = new Map<string, string>();
  readonly muted = new Map<string, string>();
  readonly invited = new Map<string, string>();
  topic = "";

  constructor(
    readonly name: string,
    /** The creator; "" for the lobby (only the server's admins are its operators) and for a guest room its creator left. */
    public owner: string,
    readonly isPrivate: boolean,
    /** Owned by an account: kept in the store, and lives on when empty. */
    readonly persistent: boolean,
    /** What makes a guest room's conversation its own: by default a counter and the clock; in a cluster, the number of the change that made it (the same on every server). */
    tag = `${(nextGuestRoom++).toString(36)} ${Date.now().toString(36)}`,
  ) {
    this.key = roomKey(name);
    this.conversation = persistent || this.key === LOBBY ? this.key : `${this.key} ${tag}`;
  }

  static fromRecord(record: RoomRecord): Room {
    const room = new Room(record.name, record.owner, record.private, true);
    room.topic = record.topic;
    const fill = (map: Map<string, string>, names: string[]) => names.forEach((name) => map.set(nameKey(name), name));
    fill(room.operators, record.operators);
    fill(room.accountMembers, record.members);
    fill(room.banned, record.banned);
    fill(room.muted, record.muted);
    fill(room.invited, record.invited);
    return room;
  }

  /** The room as the store keeps it: names as shown (keys are derived again on load). */
  toRecord(): RoomRecord {
    return {
      name: this.name,
      owner: this.owner,
      topic: this.topic,
      private: this.isPrivate,
      operators: [...this.operators.values()],
      members: [...this.accountMembers.values()],
      banned: [...this.banned.values()],
      muted: [...this.muted.values()],
      invited: [...this.invited.values()],
    };
  }

  get isLobby(): boolean {
    return this.key === LOBBY;
  }

  isOwner(key: string): boolean {
    return this.owner !== "" && nameKey(this.owner) === key;
  }

  /** Owner or opped; the server's admins are operators everywhere, which the hub checks. */
  isOperator(key: string): boolean {
    return this.isOwner(key) || this.operators.has(key);
  }

  /** May enter a private room: invited, a member who has an account, or its owner. */
  mayEnter(key: string): boolean {
    return !this.isPrivate || this.invited.has(key) || this.accountMembers.has(key) || this.isOwner(key);
  }

  /** Names of who is in the room now, sorted by key. */
  get users(): string[] {
    return sortNames([...this.online.values()].map((session) => session.name!));
  }

  /** Operators' names among who is in the room now (owner included). */
  operatorNames(): string[] {
    return sortNames([...this.online].filter(([key]) => this.isOperator(key)).map(([, session]) => session.name!));
  }

  add(session: Session): void {
    this.online.set(session.key!, session);
    if (this.persistent && session.account) this.accountMembers.set(session.key!, session.name!);
  }

  /**
   * Out of the room: `forget` also drops an account's membership (a part, a
   * kick), a dropped connection keeps it. A guest's roles end with it: a
   * later guest of the same name must not inherit them.
   */
  remove(key: string, forget: boolean): void {
    const member = this.online.get(key);
    this.online.delete(key);
    if (forget) this.accountMembers.delete(key);
    if (member && !member.account) {
      this.operators.delete(key);
      if (this.isOwner(key)) this.owner = "";
    }
  }

  /** A guest room ends with its last member. */
  get abandoned(): boolean {
    return !this.persistent && !this.isLobby && this.online.size === 0;
  }
}
