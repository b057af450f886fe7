/**
 * One server per database file. SQLite would let two processes share a file,
 * and each server numbers chats from what it read at start: two servers on
 * one file give the same ids to different chats, and one server's copies are
 * silently dropped. A lock file beside the database, holding the owner's
 * process id, keeps a second server out and lets it say who holds the file.
 * A lock whose process is gone (a crash, kill -9) is taken over.
 */
import fs from "node:fs";
import path from "node:path";

/** The lock file's name: the database's, with this after it. */
export const LOCK_SUFFIX = ".lock";

export class DatabaseInUseError extends Error {
  override readonly name = "DatabaseInUseError";
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`The database ${file} is in use by process ${pid} (another server?): stop it, or give this one another --db`);
  }
}

/** The lock files this process holds: its own pid in a lock file is stale only when it is not one of them. */
const held = new Set<string>();

/** Takes the lock of database `file`, or throws DatabaseInUseError; returns the function that releases it. */
export function lockDatabase(file: string): () => void {
  const lockFile = path.resolve(file + LOCK_SUFFIX);
  if (held.has(lockFile)) throw new DatabaseInUseError(file, process.pid);
  if (!tryCreate(lockFile)) {
    const holder = readHolder(lockFile);
    if (holder !== undefined && holder !== process.pid && isRunning(holder)) throw new DatabaseInUseError(file, holder);
    // Stale: its process is gone. Of two servers taking it over at once, one creates the new lock.
    fs.rmSync(lockFile, { force: true });
    if (!tryCreate(lockFile)) throw new DatabaseInUseError(file, readHolder(lockFile) ?? 0);
  }
  held.add(lockFile);
  return () => {
    if (!held.delete(lockFile)) return;
    if (readHolder(lockFile) === process.pid) fs.rmSync(lockFile, { force: true });
  };
}

function tryCreate(lockFile: string): boolean {
  try {
    fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function readHolder(lockFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockFile, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}
