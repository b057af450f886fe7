/**
 * Opening the store a server was given: apart from the stores, so that none
 * imports another.
 */
import { MemoryStore, type Store, type StoreOptions } from "./store.js";
import { MEMORY_PATH } from "./limits.js";
import { isPostgresUrl } from "./database-url.js";

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
