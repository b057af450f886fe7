/**
 * What `--db` says about a PostgreSQL database: whether it names one, how a
 * log shows it, and the error of one that cannot be used. Apart from the
 * stores and open-store.ts, which all import it, so that none imports another.
 */

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

/** A database that cannot be used (unreachable, a refused login, a newer schema): its message is one line for the operator. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}
