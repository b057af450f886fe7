/**
 * Stopping the server the way people run it, `npx tsx server.ts`, while it is
 * busy. tsx passes a signal on to its child and kills the child if it does
 * not acknowledge within ~30 ms: the stop must still be the documented one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import Database from "libsql";
import t from "tap";
import { Decoder, encode, type Message } from "../protocol.js";
import { ROOT, tempDir, within } from "./helpers/helpers.js";

const TSX_CLI = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
/** Clients sending chats as fast as the server takes them. */
const FLOODERS = 8;
/** Chats each flooder keeps in flight. */
const IN_FLIGHT = 16;
/** Clients that only read: every chat is written to each of them, so the server's turns are long. */
const LISTENERS = 400;
/** Echoes seen before the signal: the server is well into its work. */
const ECHOES_BEFORE_STOP = 400;
/** Chats each client sends at most: the flood is bounded. */
const MAX_CHATS_EACH = 1000;
const STOP_WAIT_MS = 30_000;
/** Each chat is a paragraph long, as a pasted one is: more to write to every listener. */
const FILLER = "lorem ipsum ".repeat(150);

/** A client that sends chats until the server stops it, counting echoes and listening for the shutdown notice. */
class Flooder {
  readonly echoed: string[] = [];
  toldShutdown = false;
  readonly closed: Promise<unknown>;
  private sent = 0;

  private constructor(
    private readonly socket: net.Socket,
    readonly name: string,
  ) {
    const decoder = new Decoder();
    socket.on("data", (chunk: Buffer) => decoder.push(chunk).forEach((frame) => this.received(frame as Message)));
    socket.on("error", () => {});
    this.closed = once(socket, "close");
  }

  static async start(port: number, name: string): Promise<Flooder> {
    const socket = net.connect({ port, host: "127.0.0.1" });
    await once(socket, "connect");
    const flooder = new Flooder(socket, name);
    socket.write(encode({ type: "join", client_name: name, features: ["echo"] }));
    return flooder;
  }

  private received(frame: Message): void {
    if (frame.type === "welcome") this.sendMore();
    else if (frame.type === "chat" && frame.client_name === this.name && frame.id) {
      this.echoed.push(frame.id);
      this.sendMore();
    } else if (frame.type === "error" && frame.code === "server_shutdown") this.toldShutdown = true;
  }

  /** Keeps a few chats in flight: each echo sends another. */
  private sendMore(): void {
    while (this.sent < MAX_CHATS_EACH && this.sent - this.echoed.length < IN_FLIGHT && this.socket.writable) {
      this.socket.write(encode({ type: "chat", message: `${this.name} ${this.sent++} ${FILLER}` }));
    }
  }
}

/** A client that joins and reads everything, as a person's client does. */
async function listen(port: number, name: string): Promise<net.Socket> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {}).resume();
  await once(socket, "connect");
  socket.write(encode({ type: "join", client_name: name }));
  return socket;
}

/** Starts server.ts through the real tsx command, in a process group of its own (as a terminal's job is). */
async function startUnderTsx(t: { teardown(fn: () => unknown): void }, db: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [TSX_CLI, "server.ts", "--port", "0", "--db", db, "--rate-limit", "0", "--quiet"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
  });
  let output = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
  const port = await within(
    new Promise<number>((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (text: string) => {
        output += text;
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", () => reject(new Error(`server.ts exited before listening: ${output}`)));
    }),
    "server.ts under tsx to listen",
    60_000,
  );
  return { child, port };
}

function storedIds(db: string): Set<string> {
  const database = new Database(db, { readonly: true });
  try {
    return new Set((database.prepare("SELECT id FROM chats").all() as Array<{ id: string }>).map((row) => row.id));
  } finally {
    database.close();
  }
}

const STOPS: Array<[string, (child: ChildProcess) => void]> = [
  ["kill PID of the tsx process", (child) => child.kill("SIGTERM")],
  ["Ctrl+C in a terminal (SIGINT to the whole process group)", (child) => process.kill(-child.pid!, "SIGINT")],
];

for (const [how, stop] of STOPS) {
  t.test(`${how}, while busy: exit 0, every client told, every echoed chat stored`, async (t) => {
    const db = path.join(tempDir(t), "chat.db");
    const { child, port } = await startUnderTsx(t, db);
    const listeners = await Promise.all(Array.from({ length: LISTENERS }, (_, i) => listen(port, `l${i}`)));
    t.teardown(() => listeners.forEach((socket) => socket.destroy()));
    const flooders = await Promise.all(Array.from({ length: FLOODERS }, (_, i) => Flooder.start(port, `f${i}`)));
    const echoes = () => flooders.reduce((sum, f) => sum + f.echoed.length, 0);
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => echoes() >= ECHOES_BEFORE_STOP && (clearInterval(check), resolve()), 5);
      }),
      `${ECHOES_BEFORE_STOP} echoes`,
      60_000,
    );
    const exited = once(child, "exit");
    stop(child);
    const [code, signal] = await within(exited, "server.ts to exit", STOP_WAIT_MS);
    t.same({ code, signal }, { code: 0, signal: null }, "a clean exit, not tsx's SIGKILL");
    await Promise.all(flooders.map((f) => within(f.closed, `${f.name}'s connection to close`)));
    t.same(flooders.filter((f) => !f.toldShutdown).map((f) => f.name), [], "every client was told server_shutdown");
    const stored = storedIds(db);
    const lost = flooders.flatMap((f) => f.echoed).filter((id) => !stored.has(id));
    t.same(lost, [], `all ${echoes()} echoed chats are in the database`);
  });
}
