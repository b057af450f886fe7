/**
 * Names held across servers: a name is a Redis key whose value says which
 * server's session holds it, with an expiry the holder renews. Claiming is
 * `SET NX`, so of two servers racing for a name one wins; renewing and
 * releasing check the value first (fencing), so a server that paused past
 * its lease and finds the name taken cannot extend or free the new
 * holder's. The holder's value is `SERVER/SESSION`.
 */
import { whileUp, type RedisConnection } from "./redis.js";

/** How long a claim lasts unless renewed; the holder renews at a third of it. */
export const LEASE_MS = 15_000;

/** KEYS: names. ARGV: holder, ms. Extends each name still held by holder; returns those that are not (lost). */
const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) else table.insert(lost, key) end
end
return lost`;

/** KEYS: name. ARGV: holder. Deletes it only if holder holds it; 1 when it did. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class Leases {
  constructor(
    private readonly redis: RedisConnection,
    /** Prefix of the keys, e.g. `{chat}:name:`. */
    private readonly prefix: string,
  ) {}

  /** The Redis key of a name key. */
  keyOf(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Claims `name` for `holder`; false when someone holds it. */
  async claim(name: string, holder: string, ms = LEASE_MS): Promise<boolean> {
    return (await whileUp(() => this.redis.set(this.keyOf(name), holder, { NX: true, PX: ms }))) === "OK";
  }

  /** Extends the names `holder` still holds; resolves with those it no longer does. */
  async renew(names: readonly string[], holder: string, ms = LEASE_MS): Promise<string[]> {
    if (names.length === 0) return [];
    const keys = names.map((name) => this.keyOf(name));
    const lost = (await whileUp(() => this.redis.eval(RENEW, { keys, arguments: [holder, String(ms)] }))) as string[];
    return lost.map((key) => key.slice(this.prefix.length));
  }

  /** Frees `name` if `holder` holds it; false when it did not (expired, or someone else's now). */
  async release(name: string, holder: string): Promise<boolean> {
    return Number(await whileUp(() => this.redis.eval(RELEASE, { keys: [this.keyOf(name)], arguments: [holder] }))) === 1;
  }

  /** Who holds `name`, or null. */
  async holder(name: string): Promise<string | null> {
    const value = await whileUp(() => this.redis.get(this.keyOf(name)));
    return value === null ? null : String(value);
  }
}
