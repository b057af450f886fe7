/** The Python peers of tests/peers/ (clients that share no code with the project), for any test file. */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./helpers.js";

/** The peers need Python 3: without it these tests say so and are skipped, as the terminal test is without tmux. */
export const NEEDS_PYTHON = { skip: spawnSync("python3", ["--version"]).status === 0 ? false : "python3 is not installed: apt-get install python3 (.ci/run does)" };

/** Runs a Python peer to its end; resolves with its exit code and output. */
export function python(script: string, args: Array<string | number>) {
  const child = spawn("python3", [path.join(ROOT, "tests", "peers", script), ...args.map(String)]);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}
