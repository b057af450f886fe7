/**
 * The chat's one ordered log, in Redis: a change is checked, numbered and
 * appended in one atomic step (a Lua script: `INCR` of a sequence, `XADD` to
 * a stream), and every server reads the stream from where it is and applies
 * what it reads, its own changes included. So every server sees the same
 * changes in the same order, and a change's sequence number can be its id.
 * A stream rather than pub/sub: what is appended while a reader reconnects
 * waits for it (the socket.io Redis Streams adapter's reason), and numbering
 * in the script is Centrifugo's `broker_history_add_stream.lua`.
 *
 * The log belongs to an epoch, a random key set once: Redis restarted empty
 * has none, and every append is refused with EpochChanged until a server
 * has restored the shared state (`restore()`), so that no change lands in
 * a log whose readers have not yet been told it started again.
 */
import { createHash, randomBytes } from "node:crypto";
import { duplicateClient, whileUp, type RedisConnection } from "./redis.js";

/** The keys of one chat's log in Redis. One hash tag, so a Redis Cluster keeps them on one node. */
export const DEFAULT_PREFIX = "{chat}:";
/** Entries the stream keeps (about: `MAXLEN ~`); readers further behind than this restore instead. */
export const LOG_MAX_ENTRIES = 100_000;
/** How long one blocking read waits for news before it asks again (and notices a close). */
export const READ_BLOCK_MS = 1_000;
/** Entries one read takes at most. */
export const READ_COUNT = 1_000;
/** The wait before reading again after a failed read (Redis away). */
export const READ_RETRY_MS = 250;

/** An append refused: the log was lost (Redis restarted empty) since this server last restored. */
export class EpochChanged extends Error {
  override readonly name = "EpochChanged";
}

/** One change as read back, in log order. */
export interface LogEntry<Event> {
  /** Its stream id (`MS-N`). */
  id: string;
  seq: number;
  /** The server that appended it. */
  server: string;
  /** The epoch it was appended in. */
  epoch: string;
  event: Event;
}

/**
 * KEYS: sequence, stream, epoch. ARGV: epoch, server, event JSON, max
 * entries. Returns the sequence number given.
 */
const APPEND = `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return redis.error_reply('EPOCH') end
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'seq', seq, 'server', ARGV[2], 'epoch', ARGV[1], 'e', ARGV[3])
return seq`;

/** The append script's SHA-1: sent instead of the script (EVALSHA), which Redis would otherwise hash again on every chat. */
const APPEND_SHA = createHash("sha1").update(APPEND).digest("hex");

/** KEYS: epoch. ARGV: a fresh epoch. Sets it if there is none; returns the epoch in force. */
const ADOPT_EPOCH = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then redis.call('SET', KEYS[1], ARGV[1]); epoch = ARGV[1] end
return epoch`;

/** KEYS: sequence. ARGV: a floor. Raises the sequence to at least the floor (never lowers it). */
const RAISE_SEQUENCE = `
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]); now = tonumber(ARGV[1]) end
return now`;

export interface SharedLogOptions {
  /** Who appends: written with each entry. */
  server: string;
  /** @default DEFAULT_PREFIX */
  prefix?: string;
  /** @default LOG_MAX_ENTRIES */
  maxEntries?: number;
}

export class SharedLog<Event> {
  private readonly keys: { sequence: string; stream: string; epoch: string };
  private readonly maxEntries: number;
  /** The epoch this server has restored into, and appends in. */
  epoch = "";

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: SharedLogOptions,
  ) {
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    this.keys = { sequence: `${prefix}seq`, stream: `${prefix}log`, epoch: `${prefix}epoch` };
    this.maxEntries = options.maxEntries ?? LOG_MAX_ENTRIES;
  }

  /**
   * Adopts the log's epoch (starting one when Redis has none: the first
   * server, or Redis restarted empty), raising the sequence to `floor` so
   * that no number given before is given again. Call it before appending,
   * and again after EpochChanged, once the shared state is restored.
   */
  async restore(floor = 0): Promise<string> {
    const fresh = randomBytes(8).toString("hex");
    this.epoch = String(await whileUp(() => this.redis.eval(ADOPT_EPOCH, { keys: [this.keys.epoch], arguments: [fresh] })));
    await whileUp(() => this.redis.eval(RAISE_SEQUENCE, { keys: [this.keys.sequence], arguments: [String(floor)] }));
    // Loaded before any append: otherwise the first appends after a restart could each find it missing (NOSCRIPT) and be
    // sent again as the script itself, behind later appends of this connection that found it loaded by another server.
    await whileUp(() => this.redis.scriptLoad(APPEND));
    return this.epoch;
  }

  /**
   * Appends `event` and resolves with its sequence number. The command is
   * sent before this returns: appends made one after another reach the log
   * in that order. Rejects with RedisUnavailable or EpochChanged; nothing is
   * then appended, and nothing is kept to be appended later.
   */
  async append(event: Event): Promise<number> {
    const keys = [this.keys.sequence, this.keys.stream, this.keys.epoch];
    const args = [this.epoch, this.options.server, JSON.stringify(event), String(this.maxEntries)];
    try {
      // Redis restarted has forgotten the script: NOSCRIPT, and the script itself is sent (which loads it again).
      const appendOnce = () =>
        this.redis.evalSha(APPEND_SHA, { keys, arguments: args }).catch((error: unknown) => {
          if (error instanceof Error && /NOSCRIPT/.test(error.message)) return this.redis.eval(APPEND, { keys, arguments: args });
          throw error;
        });
      return Number(await whileUp(appendOnce));
    } catch (error) {
      if (error instanceof Error && /\bEPOCH\b/.test(error.message)) throw new EpochChanged("the shared log was lost: restoring");
      throw error;
    }
  }

  /** The stream id of the last entry ("0" for none): where a reader starts to see only what comes next. */
  async position(): Promise<string> {
    const last = await whileUp(() => this.redis.xRevRange(this.keys.stream, "+", "-", { COUNT: 1 }));
    return last?.[0]?.id ?? "0";
  }

  /**
   * Reads the log after stream id `from`, on a connection of its own, and
   * hands each batch of entries to `onEntries`, in order, until `close()`.
   * While Redis is away it retries; `onFailure` hears why.
   */
  follow(from: string, onEntries: (entries: Array<LogEntry<Event>>) => void, onFailure?: (error: Error) => void): LogReader<Event> {
    return new LogReader<Event>(duplicateClient(this.redis), this.keys.stream, from, onEntries, onFailure);
  }
}

/** A loop of blocking reads of the stream (see SharedLog.follow). */
export class LogReader<Event> {
  private closed = false;
  readonly done: Promise<void>;

  constructor(
    private readonly connection: RedisConnection,
    private readonly stream: string,
    /** The stream id of the last entry handed on. */
    public lastId: string,
    private readonly onEntries: (entries: Array<LogEntry<Event>>) => void,
    private readonly onFailure?: (error: Error) => void,
  ) {
    this.done = this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connection.destroy(); // ends a blocking read at once
    await this.done;
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      try {
        if (!this.connection.isOpen) await this.connection.connect();
        const reply = await this.connection.xRead({ key: this.stream, id: this.lastId }, { BLOCK: READ_BLOCK_MS, COUNT: READ_COUNT });
        const messages = streamMessages(reply);
        if (messages.length === 0) continue;
        this.onEntries(messages.map(({ id, message }) => entryOf<Event>(id, message)));
        this.lastId = messages.at(-1)!.id; // only once handed on: a failure reads the batch again rather than skip it
      } catch (error) {
        if (this.closed) return;
        this.onFailure?.(error as Error);
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
      }
    }
  }
}

/** The messages of an XREAD reply for one stream (node-redis gives `[{ name, messages: [{ id, message }] }]`, over RESP2 or RESP3). */
function streamMessages(reply: unknown): Array<{ id: string; message: Record<string, string> }> {
  const streams = reply as Array<{ messages: Array<{ id: string; message: Record<string, string> }> }> | null;
  return streams?.[0]?.messages ?? [];
}

function entryOf<Event>(id: string, fields: Record<string, string>): LogEntry<Event> {
  return { id, seq: Number(fields.seq), server: fields.server!, epoch: fields.epoch!, event: JSON.parse(fields.e!) as Event };
}
