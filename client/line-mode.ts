/**
 * Line mode: the client in a terminal without the full screen, or reading
 * lines from a pipe as if typed.
 */
import readline from "node:readline";
import { Writable } from "node:stream";
import stringWidth from "string-width";
import { parseCommand, sameRoom } from "../common/commands.js";
import type { Texts } from "../common/catalogue.js";
import { chatLine, describe, errorText, putOutText, rejoinedText, sanitize, toAscii, type DisplayLine, type LineKind } from "../common/format.js";
import { LOBBY, Message } from "../protocol.js";
import { tooShort } from "./run-command.js";
import { ChatClient, EXIT_FAILURE, EXIT_UNDELIVERED, JoinError, joinFailureText, refusalText } from "./connection.js";
import { historyLines, refusedLine, runCommand, socketErrorText } from "./run-command.js";

const COLORS: Record<LineKind, string> = {
  chat: "",
  own: "\x1b[36m",
  private: "\x1b[35m",
  notice: "\x1b[33m",
  error: "\x1b[31m",
  info: "\x1b[2m",
};
const DIM = "\x1b[2m";

export interface LineModeOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { isTTY?: boolean };
  t: Texts;
  /** Join under this name first; ask only if it is refused. */
  name?: string | undefined;
  /** Draw ASCII instead of the client's own symbols (a terminal whose locale is not UTF-8). */
  ascii?: boolean;
}

/**
 * Runs the line interface until the user quits or the input ends; resolves
 * with the exit code. With a terminal it prompts and keeps the prompt below
 * incoming messages; with a pipe it reads lines as if typed. At the end of
 * the input it waits until the server has taken or refused every line sent,
 * and exits EXIT_UNDELIVERED, listing them, if any was not delivered.
 */
export async function runLineMode(client: ChatClient, options: LineModeOptions): Promise<number> {
  const { input, output, t } = options;
  const tty = output.isTTY === true && (input as { isTTY?: boolean }).isTTY === true;
  const ascii = tty && options.ascii === true;
  // In a terminal, readline writes through this: muted while a password is typed.
  let muted = false;
  const echoOutput = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  }) as Writable & { columns?: number; isTTY?: boolean };
  Object.defineProperty(echoOutput, "columns", { get: () => (output as { columns?: number }).columns ?? 80 });
  echoOutput.isTTY = true;
  const rl = readline.createInterface({ input, output: tty ? echoOutput : undefined, terminal: tty });
  const lines = rl[Symbol.asyncIterator]();
  let inputOpen = true;
  rl.on("close", () => (inputOpen = false));
  const undelivered: string[] = [];
  const show = (line: DisplayLine) => {
    let text = ascii ? toAscii(line.text) : line.text;
    const color = line.dim ? DIM : COLORS[line.kind];
    if (tty && color) text = `${color}${text}\x1b[0m`;
    if (tty) {
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
    }
    output.write(`${text}\n`);
    // Prompting resumes the input, so never after it has closed: that would keep the process alive.
    if (tty && inputOpen && !muted) rl.prompt(true);
  };
  const nextLine = async (prompt: string): Promise<string | undefined> => {
    if (tty) {
      rl.setPrompt(prompt);
      rl.prompt();
    }
    const next = await lines.next();
    return next.done ? undefined : next.value;
  };
  /** A password: in a terminal typed without echo; from a pipe, the next line. */
  const nextSecret = async (prompt: string): Promise<string | undefined> => {
    if (!tty) return nextLine(prompt);
    // A line shown just before re-drew the "> " prompt: the password's prompt takes its place.
    readline.clearLine(output, 0);
    readline.cursorTo(output, 0);
    output.write(prompt);
    muted = true;
    try {
      const next = await lines.next();
      return next.done ? undefined : next.value;
    } finally {
      muted = false;
      output.write("\n");
    }
  };
  /** In a terminal, removes the line just typed: a sent message is shown again, formatted. */
  const eraseTyped = (typed: string) => {
    if (!tty) return;
    const columns = (output as { columns?: number }).columns ?? 80;
    const rows = Math.max(1, Math.ceil(stringWidth(rl.getPrompt() + typed) / columns)); // columns, not characters: 漢字 take two
    for (let i = 0; i < rows; i++) output.write("\x1b[1A\x1b[2K");
  };

  let stop: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (stop = resolve));
  client.on("message", (msg) => {
    const line = describe(msg, client.name, t, client.room);
    if (line) show(line);
    // A version 1 server echoes nothing and puts no ref on errors: count what it says was not delivered.
    if (msg.type === "error" && !client.echoes && (msg.code === "unknown_recipient" || msg.code === "rate_limited")) {
      undelivered.push(line?.text ?? msg.message);
    }
  });
  client.on("delivered", (_ref, echo) => show(chatLine(echo, client.name, t, new Date(), client.room)));
  client.on("refused", (_ref, sent, error) => {
    const line = refusedLine(sent, error, t);
    undelivered.push(line.text);
    show(line);
  });
  client.on("history", (batch) => historyLines(batch, client.name, t, client.room).forEach(show));
  client.on("lost", () => show({ kind: "error", text: t.connectionLost(client.address) }));
  // With several servers of one chat, which one it tries now.
  client.on("reconnecting", (delay, attempt) => show({ kind: "info", text: t.reconnecting(delay / 1000, attempt, client.failsOver ? client.address : undefined) }));
  client.on("reconnectFailed", (error) => show({ kind: "error", text: t.reconnectFailed(socketErrorText(error, t)) }));
  client.on("nameHeld", (name, address) => show({ kind: "info", text: t.nameHeld(name, address) }));
  client.on("rejoined", (welcome) => show({ kind: "info", text: rejoinedText(welcome, t) }));
  client.on("putOut", (msg) => {
    // Said once, with what can be done: the client does not come back by itself.
    show({ kind: "error", text: `${putOutText(msg, client.name, !client.account, t)} ${t.comeBackLine}` });
    stop(EXIT_FAILURE);
  });
  client.on("closed", () => stop(EXIT_FAILURE)); // for good, not by quitting: put out by the server
  client.on("rejoinRefused", (error) => {
    show({ kind: "error", text: t.nameLostOnRejoin(refusalText(error, t)) });
    stop(EXIT_FAILURE);
  });
  rl.on("SIGINT", () => rl.close()); // Ctrl+C in a terminal: leave as at end of input

  try {
    const welcome = await joinInteractively(client, options.name, nextLine, nextSecret, show, t);
    if (!welcome) return EXIT_FAILURE;
    show(describe(welcome, client.name, t)!);
    for (;;) {
      const line = await Promise.race([nextLine(promptFor(client)), stopped]);
      if (typeof line === "number") return line;
      if (line === undefined) break;
      const command = parseCommand(line, client.users);
      const result = runCommand(client, command, t);
      if (command.kind === "say" || command.kind === "private") {
        eraseTyped(line);
        // Not sent at all (not connected, too long): not delivered either.
        const refusal = result.lines.find((l) => l.kind === "error");
        if (refusal) undelivered.push(t.notDelivered(sanitize(command.text), refusal.text));
      }
      result.lines.filter((l) => l.pending === undefined).forEach(show); // a pending line shows when its echo comes
      if (result.askPassword) await registerInteractively(client, nextSecret, show, t);
      if (result.quit) break;
    }
    const code = await Promise.race([client.settled().then(() => 0), stopped]);
    if (code !== 0) return code;
    if (undelivered.length > 0) {
      show({ kind: "error", text: t.undeliveredSummary(undelivered.length) });
      undelivered.forEach((text) => show({ kind: "error", text: `  ${text}` }));
      return EXIT_UNDELIVERED;
    }
    return 0;
  } finally {
    rl.close();
    await client.quit();
  }
}

/** The line mode's prompt: the current room, when it is not the lobby. */
export function promptFor(client: ChatClient): string {
  return sameRoom(client.room, LOBBY) ? "> " : `${sanitize(client.room)}> `;
}

/** Asks for a new password twice, hidden, and registers the name with it. */
async function registerInteractively(
  client: ChatClient,
  nextSecret: (prompt: string) => Promise<string | undefined>,
  show: (line: DisplayLine) => void,
  t: Texts,
): Promise<void> {
  const first = await nextSecret(t.newPassword);
  if (first === undefined) return show({ kind: "error", text: t.noPassword });
  if (tooShort(first)) return show({ kind: "error", text: errorText("weak_password", { detail: "" }, t) }); // before asking again
  const second = await nextSecret(t.repeatPassword);
  if (second === undefined) return show({ kind: "error", text: t.noPassword });
  if (first !== second) return show({ kind: "error", text: t.passwordsDiffer });
  const answer = await client.register(first);
  show(describe(answer, client.name, t) ?? { kind: "error", text: t.error(sanitize(answer.message)) });
}

/** Joins under `name`, then under names read from input until one is accepted; asks for the password of a registered name. */
async function joinInteractively(
  client: ChatClient,
  name: string | undefined,
  nextLine: (prompt: string) => Promise<string | undefined>,
  nextSecret: (prompt: string) => Promise<string | undefined>,
  show: (line: DisplayLine) => void,
  t: Texts,
): Promise<Message | undefined> {
  if (name === undefined) show({ kind: "info", text: t.nameRules });
  let password = client.password;
  for (let candidate = name; ; ) {
    candidate ??= (await nextLine(t.namePrompt))?.trim();
    if (candidate === undefined) {
      show({ kind: "error", text: t.noName });
      return undefined;
    }
    try {
      return await client.join(candidate, password);
    } catch (error) {
      let said = false; // the reason is said once, not again as "Name refused" when no other password comes
      if (error instanceof JoinError && error.needsPassword) {
        said = error.code !== "password_required";
        if (said) show({ kind: "error", text: refusalText(error, t) });
        password = await nextSecret(t.passwordPrompt(sanitize(candidate)));
        if (password !== undefined) continue; // the same name, with this password
      }
      if (error instanceof JoinError && error.refusesName) {
        if (!said) show({ kind: "error", text: t.nameRefused(refusalText(error, t)) });
        candidate = undefined;
        password = undefined;
        continue;
      }
      show({ kind: "error", text: joinFailureText(error, client.address, t) }); // the server full, gone, ...
      return undefined;
    }
  }
}
