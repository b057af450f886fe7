/** Processes and their children, read from /proc: whether a test left any behind, and what a benchmark target costs. */
import fs from "node:fs";

/** The direct children of `pid`. */
export function childPids(pid: number): number[] {
  return childrenByParent().get(pid) ?? [];
}

/** Every process below `pid`, children's children included. */
export function descendants(pid: number): number[] {
  return withDescendants([pid]).slice(1);
}

/** `pids` and every process below each, from one reading of /proc. */
export function withDescendants(pids: readonly number[]): number[] {
  const children = childrenByParent();
  const tree = (pid: number): number[] => [pid, ...(children.get(pid) ?? []).flatMap(tree)];
  return pids.flatMap(tree);
}

/** Every live process's children, by parent, from one reading of /proc. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    // The name in parentheses may hold spaces or ")": the fields after the last ")" are fixed.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  return children;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
