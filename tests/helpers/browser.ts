/**
 * A real browser for the page's tests, driven by playwright-core: Debian's
 * Chromium where it is installed (`.ci/run` installs it), otherwise the
 * Chromium that the npm package @sparticuz/chromium carries, so that
 * `npm install && npm test` needs nothing but Node and npm.
 */
import fs from "node:fs";
import { chromium as playwright, type Browser } from "playwright-core";
import type { Teardown } from "./helpers.js";

/** Debian's browser; CHROMIUM_PATH names another. */
const SYSTEM_CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The system's browser when there is one, else the packaged one: its path and the arguments it needs. */
async function chromiumToLaunch(): Promise<{ executablePath: string; args: string[] }> {
  if (fs.existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, args: ["--no-sandbox"] };
  // Unpacked to /tmp on first use (several seconds), then reused.
  const { default: packaged } = await import("@sparticuz/chromium");
  // Its --single-process suits one page per browser (a serverless function): here
  // one browser serves a file's tests, and in one process the first page closed
  // would take the browser with it.
  const args = packaged.args.filter((arg) => arg !== "--single-process");
  return { executablePath: await packaged.executablePath(), args };
}

/** A headless browser, closed when the test ends. */
export async function launchBrowser(t: Teardown): Promise<Browser> {
  const browser = await playwright.launch(await chromiumToLaunch());
  t.teardown(() => browser.close());
  return browser;
}
