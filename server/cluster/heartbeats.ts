/**
 * Which servers of the chat are alive: each one keeps a key with an expiry
 * (its heartbeat) and is listed in a set. A listed server whose key expired
 * has died (or paused past it): one survivor, the one that claims its
 * cleanup first (`SET NX`), removes its users and tells everyone they left.
 */
import { whileUp, type RedisConnection } from "./redis.js";

/** A heartbeat lasts this long; a server beats at a third of it. Its users are gone from the others within about this. */
export const HEARTBEAT_MS = 10_000;
/** How long one survivor's claim to clean up after a dead server lasts (it may die too). */
export const CLEANUP_CLAIM_MS = 30_000;

export class Heartbeats {
  private readonly members: string;

  constructor(
    private readonly redis: RedisConnection,
    /** Prefix of the keys, e.g. `{chat}:`. */
    private readonly prefix: string,
  ) {
    this.members = `${prefix}servers`;
  }

  /** Says `server` is alive for `ms` more, and lists it. */
  async beat(server: string, ms = HEARTBEAT_MS): Promise<void> {
    await whileUp(() => this.redis.multi().set(`${this.prefix}alive:${server}`, String(Date.now()), { PX: ms }).sAdd(this.members, server).exec());
  }

  /** The listed servers whose heartbeat has expired. */
  async dead(): Promise<string[]> {
    const servers = (await whileUp(() => this.redis.sMembers(this.members))).map(String);
    if (servers.length === 0) return [];
    const alive = await whileUp(() => this.redis.mGet(servers.map((server) => `${this.prefix}alive:${server}`)));
    return servers.filter((_, i) => alive[i] === null);
  }

  /** Claims the cleanup after `deadServer` for `survivor`; true for the one survivor that gets it. */
  async claimCleanup(deadServer: string, survivor: string, ms = CLEANUP_CLAIM_MS): Promise<boolean> {
    return (await whileUp(() => this.redis.set(`${this.prefix}cleanup:${deadServer}`, survivor, { NX: true, PX: ms }))) === "OK";
  }

  /** Takes a server off the list: it stopped normally, or its cleanup is done. */
  async forget(server: string): Promise<void> {
    await whileUp(() => this.redis.multi().sRem(this.members, server).del(`${this.prefix}alive:${server}`).exec());
  }
}
