/**
 * Passwords: salted slow hashes (scrypt, built into Node), compared in
 * constant time, and a limit on failed attempts. No password is ever kept,
 * logged or sent back: only `hashPassword`'s result is stored.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** Fewest characters a password may have. */
export const MIN_PASSWORD_CHARS = 8;
/** log2 of scrypt's cost N. OWASP's recommendation for scrypt is N = 2^17, r = 8, p = 1. */
export const PASSWORD_COST_LOG2 = 17;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Hashes computed at once; the others wait. Each takes 128 MiB at the default cost, so a login flood cannot take the memory. */
export const MAX_CONCURRENT_HASHES = 2;

/** Failed logins for one name from one address before that address is refused for it. */
export const MAX_FAILED_LOGINS = 5;
/** (name, address) pairs tracked before the expired ones are swept out. */
export const MAX_TRACKED_LOGINS = 10_000;
/** The window in which failures count, and how long the refusal lasts. */
export const FAILED_LOGIN_WINDOW_MS = 10 * 60_000;

/** Hashes waiting for their turn; one more is refused, so a flood of logins cannot delay everyone's for long. */
export const MAX_QUEUED_HASHES = 8;

/** Thrown when MAX_QUEUED_HASHES wait already. */
export class HashQueueFull extends Error {
  override readonly name = "HashQueueFull";
}

let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) {
    if (waiting.length >= MAX_QUEUED_HASHES) throw new HashQueueFull("Too many passwords are being checked; try again in a moment");
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, salt: Buffer, costLog2: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** costLog2;
  return limited(
    () =>
      new Promise<Buffer>((resolve, reject) =>
        scrypt(password.normalize("NFC"), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
          error ? reject(error) : resolve(key),
        ),
      ),
  );
}

/** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, base64: the parameters travel with the hash, so they can change later. */
export async function hashPassword(password: string, costLog2 = PASSWORD_COST_LOG2): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, costLog2, BLOCK_SIZE, PARALLELISM);
  return ["scrypt", costLog2, BLOCK_SIZE, PARALLELISM, salt.toString("base64"), key.toString("base64")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, cost, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await derive(password, Buffer.from(salt, "base64"), Number(cost), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Why a password cannot be registered, or undefined. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_CHARS) return `A password has at least ${MIN_PASSWORD_CHARS} characters`;
  return undefined;
}

/**
 * Failed logins by (name, address): the MAX_FAILED_LOGINS-th failure within
 * the window refuses that address for that name for a whole window. Pure,
 * with an injectable clock.
 */
export class LoginAttempts {
  private readonly failures = new Map<string, { times: number[]; blockedUntil: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  blocked(nameKey: string, address: string): boolean {
    const entry = this.failures.get(`${nameKey} ${address}`);
    return entry !== undefined && entry.blockedUntil > this.now();
  }

  fail(nameKey: string, address: string): void {
    const key = `${nameKey} ${address}`;
    const now = this.now();
    if (this.failures.size >= MAX_TRACKED_LOGINS) this.prune(now);
    const times = [...(this.failures.get(key)?.times ?? []).filter((time) => time > now - FAILED_LOGIN_WINDOW_MS), now];
    const blockedUntil = times.length >= MAX_FAILED_LOGINS ? now + FAILED_LOGIN_WINDOW_MS : 0;
    this.failures.set(key, { times: blockedUntil ? [] : times, blockedUntil });
  }

  succeed(nameKey: string, address: string): void {
    this.failures.delete(`${nameKey} ${address}`);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) {
      if (entry.blockedUntil <= now && entry.times.every((time) => time <= now - FAILED_LOGIN_WINDOW_MS)) this.failures.delete(key);
    }
  }
}
