/**
 * Wrong passwords counted in Redis, so that several servers of one chat
 * allow together what one server allows (MAX_FAILED_LOGINS per name and
 * address in FAILED_LOGIN_WINDOW_MS), not that many on each. Each server
 * still counts its own (passwords.ts): this is the sum across servers.
 */
import { FAILED_LOGIN_WINDOW_MS, MAX_FAILED_LOGINS } from "../passwords.js";
import type { SharedAttempts } from "./events.js";
import { whileUp, type RedisConnection } from "./redis.js";

/** KEYS: count, block. ARGV: window ms, limit. Counts one failure; at the limit the pair is blocked for a window. */
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
  redis.call('DEL', KEYS[1])
end
return n`;

export class RedisAttempts implements SharedAttempts {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  async blocked(nameKey: string, address: string): Promise<boolean> {
    return (await whileUp(() => this.redis.exists(this.key("blocked", nameKey, address)))) === 1;
  }

  async fail(nameKey: string, address: string): Promise<void> {
    const keys = [this.key("fails", nameKey, address), this.key("blocked", nameKey, address)];
    await whileUp(() => this.redis.eval(FAIL, { keys, arguments: [String(FAILED_LOGIN_WINDOW_MS), String(MAX_FAILED_LOGINS)] }));
  }

  async succeed(nameKey: string, address: string): Promise<void> {
    await whileUp(() => this.redis.del(this.key("fails", nameKey, address)));
  }

  private key(kind: string, nameKey: string, address: string): string {
    return `${this.prefix}${kind}:${nameKey} ${address}`;
  }
}
