/**
 * Run before `npm test` (package.json "pretest"): builds tap's Test class for
 * the plugins package.json asks for, when the installed one was built for others.
 *
 * Why: package.json drops tap's default TypeScript plugin (ts-node costs about
 * 10 s of CPU in every test process and every script a test starts) and loads
 * tsx instead. tap notices the change and rebuilds by itself, but only after
 * its runner has loaded the old plugins, so the first run after `npm ci` would
 * still pay ts-node everywhere. Building here first makes every run fast.
 *
 * Plain JavaScript: it runs before any TypeScript loader.
 */
import { spawnSync } from "node:child_process";
import { cpSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { TapConfig } from "@tapjs/config";
import { signature } from "@tapjs/test";

const config = await TapConfig.load();
if (signature !== config.pluginSignature) {
  separateFromOtherCopies();
  const tap = spawnSync("npx", ["tap", "build"], { stdio: "inherit" });
  if (tap.status !== 0) process.exit(tap.status ?? 1);
}

/**
 * tap writes its build into files inside node_modules/@tapjs/test. Where that
 * folder is hard-linked with another project's (a shared cache, or worktrees
 * copied with links), writing in place would change the other project's tap
 * too: give this project copies of its own first.
 */
function separateFromOtherCopies() {
  const require = createRequire(import.meta.url);
  const testPackage = path.dirname(require.resolve("@tapjs/test/package.json"));
  const built = path.join(testPackage, "test-built");
  if (statSync(path.join(built, "dist", "esm", "index.js")).nlink <= 1) return;
  const copy = `${built}.copy`;
  rmSync(copy, { recursive: true, force: true });
  cpSync(built, copy, { recursive: true, verbatimSymlinks: true });
  rmSync(built, { recursive: true });
  renameSync(copy, built);
}
