/** Small helpers shared by the scripts' `main()` functions. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** True when the module at `moduleUrl` is the script Node was asked to run. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(script);
  } catch {
    return false;
  }
}

/** An error in the command line: the script prints it with a hint and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parses a TCP port (0 to 65535) given on the command line. */
export function parsePort(text: string, option = "--port"): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new UsageError(`${option} must be a number from 0 to 65535, not "${text}"`);
  }
  return port;
}

/** Parses a positive whole number given on the command line. */
export function parseCount(text: string, option: string, min = 1): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min) {
    throw new UsageError(`${option} must be a whole number of at least ${min}, not "${text}"`);
  }
  return value;
}

/** Runs a script's main(), turning a UsageError into one line and exit code 2. */
export function runMain(main: () => Promise<unknown>, usageHint: string): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${usageHint}\n`);
      process.exit(2);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

type ParseArgsConfig = NonNullable<Parameters<typeof parseArgs>[0]>;

/** `util.parseArgs` in strict mode, with its errors turned into UsageErrors. */
export function parseOptions<const T extends ParseArgsConfig["options"]>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
