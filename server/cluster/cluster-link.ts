/**
 * A server's link to the other servers of its chat (`--redis URL`): the
 * shared log it appends to and reads, its heartbeat, and the cleanup after
 * a server that died. The hub decides what a change means (hub.ts: ask,
 * append, apply); this only carries changes and watches the servers.
 */
import { randomBytes } from "node:crypto";
import type { ClusterPort, LoggedEvent } from "./events.js";
import { CLEANUP_CLAIM_MS, HEARTBEAT_MS, Heartbeats } from "./heartbeats.js";
import { redisClient, type RedisConnection } from "./redis.js";
import { RedisAttempts } from "./shared-attempts.js";
import { DEFAULT_PREFIX, EpochChanged, SharedLog, type LogEntry, type LogReader } from "./shared-log.js";

/** Redis could not be reached when the server started: it does not start (exit 1, one line). */
export class RedisUnreachableError extends Error {
  override readonly name = "RedisUnreachableError";
}

/** Environment variable that shortens the heartbeat (tests of a dead server): milliseconds. */
export const HEARTBEAT_ENV = "CHAT_CLUSTER_HEARTBEAT_MS";

export interface ClusterLinkOptions {
  /** `redis://HOST:PORT` */
  url: string;
  log?: (line: string) => void;
  /** @default HEARTBEAT_MS, or CHAT_CLUSTER_HEARTBEAT_MS */
  heartbeatMs?: number;
  /** Keys' prefix, so that several chats can share one Redis. @default DEFAULT_PREFIX */
  prefix?: string;
}

export class ClusterLink implements ClusterPort {
  readonly server = randomBytes(6).toString("hex");
  /** The Redis it is linked through. */
  readonly url: string;
  readonly attempts: RedisAttempts;
  private readonly shared: SharedLog<LoggedEvent>;
  private readonly heartbeats: Heartbeats;
  private readonly heartbeatMs: number;
  private reader: LogReader<LoggedEvent> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private restoring: Promise<void> | undefined;
  private stopped = false;
  private readFailureSaid = false;
  /** The hub, once started. */
  private member: LogMember | undefined;

  private constructor(
    private readonly redis: RedisConnection,
    private readonly options: ClusterLinkOptions,
  ) {
    this.url = options.url;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    this.shared = new SharedLog<LoggedEvent>(redis, { server: this.server, prefix });
    this.heartbeats = new Heartbeats(redis, prefix);
    this.attempts = new RedisAttempts(redis, prefix);
    this.heartbeatMs = options.heartbeatMs ?? (Number(process.env[HEARTBEAT_ENV]) || HEARTBEAT_MS);
  }

  /**
   * Connects to Redis; rejects with RedisUnreachableError when the first
   * attempt fails (the server then does not start, as with a database it
   * cannot reach). Later, node-redis reconnects by itself.
   */
  static async connect(options: ClusterLinkOptions): Promise<ClusterLink> {
    let link: ClusterLink | undefined;
    let firstError: (error: Error) => void = () => {};
    const failed = new Promise<never>((_, reject) => (firstError = reject));
    const redis = redisClient(options.url, {
      onState: (up, why) => {
        if (link) link.redisState(up, why);
        else if (!up) firstError(new Error(why ?? "unreachable"));
      },
    });
    try {
      // connect() itself would go on trying for ever: the first failure decides.
      await Promise.race([redis.connect(), failed]);
    } catch (error) {
      redis.destroy();
      throw new RedisUnreachableError(`Cannot reach Redis at ${options.url}: ${(error as Error).message}`);
    }
    link = new ClusterLink(redis, options);
    return link;
  }

  /**
   * Joins the log: adopts its epoch (numbers continuing above the member's floor, the
   * store's), reads it from its start and applies what is there (the chat as
   * it stands: who is online, rooms), then follows it and starts beating.
   * Resolves once caught up, before the server takes its first client.
   */
  async start(member: LogMember): Promise<void> {
    this.member = member;
    await this.shared.restore(await member.numberFloor());
    const end = await this.shared.position();
    let caughtUp: () => void = () => {};
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    if (end === "0") {
      member.caughtUp();
      caughtUp();
    }
    this.reader = this.shared.follow(
      "0",
      (entries) => {
        member.applyEntries(entries);
        const last = entries.at(-1);
        if (last && !streamIdBefore(last.id, end)) {
          member.caughtUp();
          caughtUp();
        }
      },
      (error) => {
        // Said once while Redis is away (the reader tries again every READ_RETRY_MS).
        if (!this.readFailureSaid) this.options.log?.(`shared log: cannot read: ${error.message}`);
        this.readFailureSaid = true;
      },
    );
    await ready;
    // The others answer with their rosters: who is online even if the log no longer holds their joins.
    await this.shared.append({ kind: "hello", server: this.server, token: "link hello" });
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs / 3).unref();
  }

  append(event: LoggedEvent): Promise<number> {
    return this.shared.append(event).catch((error: unknown) => {
      if (error instanceof EpochChanged) void this.restore();
      throw error;
    });
  }

  /** Stops normally: every server hears that this one's clients left (`shutdown`), and it is taken off the list. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    try {
      await this.shared.append({ kind: "gone", server: this.server, reason: "shutdown", token: "link stop" });
      await this.heartbeats.forget(this.server);
    } catch (error) {
      // Redis is away: the survivors find this server dead within a heartbeat.
      this.options.log?.(`shared log: could not say goodbye: ${(error as Error).message}`);
    }
    await this.reader?.close();
    this.redis.destroy();
  }

  /**
   * Redis is back, or refused an append for a lost log: adopts the log's
   * epoch and, if Redis started again empty (a new epoch), numbers continue
   * above every one applied here and this server's clients go back into the
   * log (its roster), so that every server has them again.
   */
  private restore(): Promise<void> {
    this.restoring ??= (async () => {
      const before = this.shared.epoch;
      // Above every number this server applied and every chat stored: another server may have been further on.
      const epoch = await this.shared.restore(await this.member!.numberFloor());
      if (epoch === before) return;
      this.member!.logLost();
      await this.shared.append(this.member!.rosterEvent());
      this.options.log?.(`shared log: started again (epoch ${epoch}); this server's clients told to the others`);
    })()
      .catch((error: unknown) => this.options.log?.(`shared log: cannot restore yet: ${(error as Error).message}`))
      .finally(() => (this.restoring = undefined));
    return this.restoring;
  }

  /** Says this server is alive; and, for each listed server that is not, the one survivor that claims it appends its clients' departure. */
  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.heartbeats.beat(this.server, this.heartbeatMs);
      for (const dead of await this.heartbeats.dead()) {
        if (dead === this.server || !(await this.heartbeats.claimCleanup(dead, this.server, Math.max(CLEANUP_CLAIM_MS, this.heartbeatMs * 3)))) continue;
        this.options.log?.(`server ${dead} stopped beating: its clients are gone`);
        await this.append({ kind: "gone", server: dead, reason: "lost", token: `link gone ${dead}` });
        await this.heartbeats.forget(dead);
      }
    } catch (error) {
      this.options.log?.(`heartbeat: ${(error as Error).message}`);
    }
  }

  private redisState(up: boolean, why?: string): void {
    if (this.stopped) return;
    this.options.log?.(up ? "Redis is back" : `Redis is away: ${why ?? ""}; changes are refused (unavailable) until it is back`);
    if (up) this.readFailureSaid = false;
    if (up && this.reader) void this.restore();
  }
}

/** What a link needs of the hub it carries changes for. */
export interface LogMember {
  /** The highest number given so far that this server knows of (applied, or a chat stored): the log numbers above it. */
  numberFloor(): Promise<number>;
  /** Applies entries of the log, in order. */
  applyEntries(entries: Array<LogEntry<LoggedEvent>>): void;
  /** This server's clients and their rooms, to put back into a log that started again. */
  rosterEvent(): LoggedEvent;
  /** The log started again: what this server appended and has not read back never will be. */
  logLost(): void;
  /** What the log held when this server joined it is applied: from now on it is live. */
  caughtUp(): void;
}

/** Whether stream id `a` (`MS-N`) comes before `b`. */
function streamIdBefore(a: string, b: string): boolean {
  const [aMs = 0n, aN = 0n] = a.split("-").map(BigInt);
  const [bMs = 0n, bN = 0n] = b.split("-").map(BigInt);
  return aMs < bMs || (aMs === bMs && aN < bN);
}
