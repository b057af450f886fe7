/**
 * Opening the store a server was given: apart from both stores, so that
 * neither imports the other.
 */
import { MemoryStore, type Store, type StoreOptions } from "./store.js";
import { MEMORY_PATH } from "./limits.js";

/**
 * The store for a server: `":memory:"` gives a `MemoryStore` (nothing
 * outlives the process, so SQLite would only be slower); any other path
 * opens (creating and migrating as needed) a SQLite database file. The
 * SQLite module is loaded only then, so a server without a database never
 * loads the native library.
 */
export async function openStore(path: string, options?: StoreOptions): Promise<Store> {
  if (path === MEMORY_PATH) return new MemoryStore(options);
  const { SqliteStore } = await import("./sqlite-store.js");
  return SqliteStore.open(path, options);
}

