/**
 * Opening the store a server was given: apart from the stores, so that none
 * imports another.
 */
import { MemoryStore, type Store, type StoreOptions } from "./store.js";
import { MEMORY_PATH } from "./limits.js";

/** The protocols `--db` accepts for PostgreSQL. */
const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Whether a `--db` value names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return POSTGRES_URL.test(db);
}

/** The URL as a log may show it: the password, if any, replaced by `***`. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    // Not a URL the WHATWG parser takes: mask what looks like user:password@.
    return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
  }
}

/**
 * The store for a server: `":memory:"` gives a `MemoryStore` (nothing
 * outlives the process, so SQLite would only be slower); a `postgres://` or
 * `postgresql://` URL connects to that PostgreSQL database (creating or
 * migrating its tables), which several servers may share: no lock; any other
 * path opens (creating and migrating as needed) a SQLite database file, one
 * server per file (database-lock.ts). Each store's module is loaded only
 * when used, so a server without SQLite never loads the native library.
 */
export async function openStore(db: string, options?: StoreOptions): Promise<Store> {
  if (db === MEMORY_PATH) return new MemoryStore(options);
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import("./postgres-store.js");
    return PostgresStore.open(db, options);
  }
  const { SqliteStore } = await import("./sqlite-store.js");
  return SqliteStore.open(db, options);
}

/** A database that cannot be used (unreachable, refused login, a newer schema): its message is one line for the operator. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}
