/** The launcher's --demo: types a short conversation into its clients and waits for their user lists. */
import { LANGS, TEXTS } from "../common/catalogue.js";
import { demoScript, type Instance } from "./plan.js";
import { sleep, type Supervisor } from "./supervisor.js";

/** How long the demo waits for every client to show its user list. */
export const DEMO_TIMEOUT_MS = 15_000;

/**
 * The start of the line a client shows for /clientes ("Online (" today), in
 * each language, taken from the client's own texts so a rewording follows.
 */
export const LIST_LINE_PREFIXES: readonly string[] = LANGS.map((lang) => {
  const sample = TEXTS[lang].online([], 0);
  return sample.slice(0, sample.indexOf("0"));
});

/**
 * Types the demo, then waits until every client has shown its user list (or
 * has stopped), at most DEMO_TIMEOUT_MS. Resolves with the names of the
 * clients whose list did not come.
 */
export async function runDemo(supervisor: Supervisor): Promise<string[]> {
  const listed = new Set<string>();
  const waiting = () =>
    supervisor.clients.filter((c) => !listed.has(c.name) && (c.state === "connected" || c.state === "connecting"));
  let onEvent = () => {};
  const allListed = new Promise<void>((resolve) => {
    onEvent = () => {
      if (waiting().length === 0) resolve();
    };
  });
  const onLine = (instance: Instance, line: string) => {
    if (instance.kind === "client" && LIST_LINE_PREFIXES.some((prefix) => line.startsWith(prefix))) listed.add(instance.name);
    onEvent();
  };
  supervisor.on("line", onLine);
  supervisor.on("state", onEvent);
  try {
    const deadline = sleep(DEMO_TIMEOUT_MS);
    for (const step of demoScript(supervisor.instances)) {
      if (step.after) await Promise.race([shown(supervisor, step.after.from, step.after.text), deadline]);
      supervisor.send(step.to, step.text);
    }
    await Promise.race([allListed, deadline]);
    return waiting().map((c) => c.name);
  } finally {
    supervisor.off("line", onLine);
    supervisor.off("state", onEvent);
  }
}

/** Resolves when client `from` shows a line containing `text` (a line shown from now on). */
function shown(supervisor: Supervisor, from: string, text: string): Promise<void> {
  return new Promise((resolve) => {
    const onLine = (instance: Instance, line: string) => {
      if (instance.name !== from || !line.includes(text)) return;
      supervisor.off("line", onLine);
      resolve();
    };
    supervisor.on("line", onLine);
  });
}
