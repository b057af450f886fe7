/** The launcher without a terminal: each instance's output prefixed with its name, input lines "NAME text" typed into that client. */
import { once } from "node:events";
import readline from "node:readline";
import { routeLine, type LauncherOptions } from "./plan.js";
import { sleep, StartError, type Supervisor } from "./supervisor.js";
import { runDemo } from "./demo.js";
import { detectLang, LAUNCHER_TEXTS } from "../common/catalogue.js";

export const INDEPENDENT_SERVERS = LAUNCHER_TEXTS.en.independent;

export async function runPiped(supervisor: Supervisor, options: LauncherOptions, stopped: Promise<void>): Promise<number> {
  const t = LAUNCHER_TEXTS[detectLang(options.lang)];
  const say = (line: string) => process.stdout.write(`[launcher] ${line}\n`);
  supervisor.on("line", (instance, line) => process.stdout.write(`[${instance.name}] ${line}\n`));
  // While starting, a death stops everything and the start's failure says so: "the others go on" would not be true.
  let started = false;
  supervisor.on("state", (instance) => {
    if (instance.state === "dead" && started) say(t.died(instance.name, instance.ended ?? ""));
    else if (instance.state === "stopped" && !supervisor.stopping) say(t.quit(instance.name));
  });
  try {
    await supervisor.start();
  } catch (error) {
    if (!(error instanceof StartError)) throw error;
    say(t.cannotStart(error.instance, error.why));
    await supervisor.stop();
    return 1;
  }
  started = true;
  say(options.cluster ? `${t.clusterTitle(options.servers, supervisor.clients.length)} ${t.oneChat}` : `${t.running(options.servers, supervisor.clients.length)} ${t.independent}`);
  if (options.demo) {
    const silent = await runDemo(supervisor);
    if (silent.length > 0) say(t.demoSilent(silent));
  }

  const input = readline.createInterface({ input: process.stdin });
  const clientNames = supervisor.clients.map((c) => c.name);
  input.on("line", (line) => {
    const route = routeLine(line, clientNames, t);
    const problem = route && ("error" in route ? route.error : supervisor.send(route.to, route.text));
    if (problem) say(problem);
  });
  const inputEnded = once(input, "close");
  const timeUp = options.durationSeconds === undefined ? new Promise(() => {}) : sleep(options.durationSeconds * 1000);
  await Promise.race([inputEnded, timeUp, stopped]);
  input.close();
  say(t.stopping);
  await supervisor.stop();
  return 0;
}
