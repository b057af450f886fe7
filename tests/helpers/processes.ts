/** Child processes as `ps` sees them: whether a test left any behind. */
import { execFileSync } from "node:child_process";

/** The direct children of `pid`. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((s) => s.trim())
      .map(Number);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/** Every process below `pid`, children's children included. */
export function descendants(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendants(child)]);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
