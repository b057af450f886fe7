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

/**
 * Hashes one address may have waiting or computing at once: the queue is
 * shared, and without a share per address a few connections from one place
 * keep it full, so that no one else can log in or register.
 */
export const MAX_HASHES_PER_ADDRESS = 2;

/**
 * Thrown when a hash cannot be computed now: the queue is full, or this
 * address has its share in flight. Not a wrong password: it counts against no one.
 */
export class HashBusy extends Error {
  override readonly name = "HashBusy";
}

let running = 0;
const waiting: Array<() => void> = [];
/** Hashes in flight (waiting or computing) by address. */
const inFlight = new Map<string, number>();

/** Runs `work` in its turn of the shared queue; `address` (a client's, when known) takes at most its share of it. */
async function limited<T>(address: string | undefined, work: () => Promise<T>): Promise<T> {
  const mine = address === undefined ? 0 : (inFlight.get(address) ?? 0);
  if (mine >= MAX_HASHES_PER_ADDRESS) throw new HashBusy("Your other logins are still being checked; try again in a moment");
  if (running >= MAX_CONCURRENT_HASHES && waiting.length >= MAX_QUEUED_HASHES) {
    throw new HashBusy("The server is checking many passwords; try again in a moment");
  }
  if (address !== undefined) inFlight.set(address, mine + 1);
  try {
    if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  } finally {
    if (address !== undefined) {
      const left = inFlight.get(address)! - 1;
      if (left === 0) inFlight.delete(address);
      else inFlight.set(address, left);
    }
  }
}

function derive(address: string | undefined, password: string, salt: Buffer, costLog2: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** costLog2;
  return limited(
    address,
    () =>
      new Promise<Buffer>((resolve, reject) =>
        scrypt(password.normalize("NFC"), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
          error ? reject(error) : resolve(key),
        ),
      ),
  );
}

/** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, base64: the parameters travel with the hash, so they can change later. */
export async function hashPassword(password: string, costLog2 = PASSWORD_COST_LOG2, address?: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(address, password, salt, costLog2, BLOCK_SIZE, PARALLELISM);
  return ["scrypt", costLog2, BLOCK_SIZE, PARALLELISM, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Whether `password` is the one `stored` was made from; `address` (the client's) takes its share of the hash queue. */
export async function verifyPassword(password: string, stored: string, address?: string): Promise<boolean> {
  const [scheme, cost, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await derive(address, password, Buffer.from(salt, "base64"), Number(cost), Number(r), Number(p));
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

  /** Takes back the last failure counted: the check it was counted for could not be made. */
  retract(nameKey: string, address: string): void {
    const entry = this.failures.get(`${nameKey} ${address}`);
    if (entry && entry.blockedUntil === 0) entry.times.pop();
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

/** Failed logins for one name, from all addresses together, before its checks are spaced out. */
export const NAME_FAILURES_BEFORE_PACING = 10;
/** The spacing of a paced name's checks at first; it doubles with every NAME_FAILURES_BEFORE_PACING failures more. */
export const PACED_CHECK_INTERVAL_MS = 1_000;
/** The widest spacing: about ten guesses in a window, once a name is under a long attack. */
export const MAX_PACED_CHECK_INTERVAL_MS = 60_000;
/** Longest a check waits for its turn; a later one is answered `busy` (counted against no one). */
export const MAX_PACED_CHECK_WAIT_MS = 30_000;
/** Addresses remembered per name as ones it logged in from: they are never paced. */
export const KNOWN_ADDRESSES_PER_NAME = 8;

interface NameRecord {
  failures: number[];
  /** When the next paced check of this name may run. */
  nextCheckAt: number;
  /** Addresses this name logged in from lately, the latest last. */
  known: string[];
}

/**
 * Failed logins by name, from every address: the per-address limit alone
 * lets forty addresses make two hundred guesses. Past
 * NAME_FAILURES_BEFORE_PACING failures in the window, checks of that name's
 * password from addresses it has not logged in from take turns, spaced
 * further apart as failures grow. A delay, not a refusal: the attacker
 * cannot lock the owner out, who logs in at once from an address it used
 * before and after a wait from a new one. Pure, with an injectable clock.
 */
export class NamePacing {
  private readonly names = new Map<string, NameRecord>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Milliseconds a check of `nameKey`'s password from `address` waits for its
   * turn (0: none), or undefined when the turn is too far off (answer `busy`).
   * Taking a turn reserves it: parallel guesses wait one behind another.
   */
  turn(nameKey: string, address: string): number | undefined {
    const record = this.names.get(nameKey);
    if (!record || record.known.includes(address)) return 0;
    const now = this.now();
    const failures = this.recentFailures(record, now);
    if (failures < NAME_FAILURES_BEFORE_PACING) return 0;
    const at = Math.max(now, record.nextCheckAt);
    if (at - now > MAX_PACED_CHECK_WAIT_MS) return undefined;
    const doublings = Math.floor(failures / NAME_FAILURES_BEFORE_PACING) - 1;
    record.nextCheckAt = at + Math.min(MAX_PACED_CHECK_INTERVAL_MS, PACED_CHECK_INTERVAL_MS * 2 ** doublings);
    return at - now;
  }

  fail(nameKey: string): void {
    const now = this.now();
    const record = this.record(nameKey, now);
    record.failures = [...record.failures.filter((time) => time > now - FAILED_LOGIN_WINDOW_MS), now];
  }

  /** The owner got in from `address`: it is never paced from there. The failures still count for other addresses. */
  succeed(nameKey: string, address: string): void {
    const record = this.record(nameKey, this.now());
    record.known = [...record.known.filter((known) => known !== address), address].slice(-KNOWN_ADDRESSES_PER_NAME);
  }

  private recentFailures(record: NameRecord, now: number): number {
    return record.failures.filter((time) => time > now - FAILED_LOGIN_WINDOW_MS).length;
  }

  private record(nameKey: string, now: number): NameRecord {
    let record = this.names.get(nameKey);
    if (!record) {
      if (this.names.size >= MAX_TRACKED_LOGINS) this.prune(now);
      this.names.set(nameKey, (record = { failures: [], nextCheckAt: 0, known: [] }));
    }
    return record;
  }

  /** Forgets names with no recent failure (their known addresses too: the map stays bounded). */
  private prune(now: number): void {
    for (const [key, record] of this.names) if (this.recentFailures(record, now) === 0) this.names.delete(key);
  }
}

/** Accounts one address may register within REGISTRATION_WINDOW_MS (a class behind one router registers together). */
export const MAX_REGISTRATIONS_PER_ADDRESS = 30;
export const REGISTRATION_WINDOW_MS = 10 * 60_000;
/** Addresses tracked before the expired ones are swept out. */
export const MAX_TRACKED_REGISTRATIONS = 10_000;

/** Registrations by address in a sliding window. Pure, with an injectable clock. */
export class Registrations {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether `address` may register one more account now. */
  allowed(address: string): boolean {
    return this.recent(address).length < MAX_REGISTRATIONS_PER_ADDRESS;
  }

  /** Counts an account registered from `address`. */
  add(address: string): void {
    if (this.times.size >= MAX_TRACKED_REGISTRATIONS) for (const key of this.times.keys()) if (this.recent(key).length === 0) this.times.delete(key);
    this.times.set(address, [...this.recent(address), this.now()]);
  }

  private recent(address: string): number[] {
    const since = this.now() - REGISTRATION_WINDOW_MS;
    return (this.times.get(address) ?? []).filter((time) => time > since);
  }
}
