/**
 * The server's limits and defaults, most of them an option of server.ts: in
 * a module of their own, so that the command's main thread can print its help
 * and read its options without loading the server (which runs in a worker).
 */

/** The database file `server.ts` uses when given no --db: in the working directory. */
export const DEFAULT_DB = "chat.db";

/**
 * Bytes buffered for one reader above which the clients talking to it are
 * paused until it catches up: a flood slows to the pace of its readers
 * instead of piling up in memory.
 */
export const BACKPRESSURE_BYTES = 64 * 1024;

/** How long a reader may stay behind (above BACKPRESSURE_BYTES) before it is cut off as slow. */
export const SLOW_READER_TIMEOUT_MS = 5000;

/**
 * How long a reader behind may hold its talkers paused at a stretch. Past
 * it the talkers go on without it and its frames queue, up to
 * --max-outbound-bytes: while a reader paces its talkers, everyone in the
 * room waits too, so one that does not read must not hold them for the
 * seconds it takes to be cut off. A reader that keeps up clears
 * BACKPRESSURE_BYTES well within this, so a flood still goes at its pace.
 */
export const PACING_GRACE_MS = 250;

/**
 * Time the readers of one address may hold talkers paused, in all, within
 * LAG_WINDOW_MS; then that address's readers pace no one until the window
 * ends. A stretch that outlasts its grace counts the whole grace; one that
 * caught up in time counts nothing. Per address, not per connection: a new
 * connection must not bring a new allowance to stall everyone with.
 */
export const ADDRESS_PACING_BUDGET_MS = 1000;

/** The window over which a reader's stretches behind, and an address's pacing, are added up. */
export const LAG_WINDOW_MS = 60_000;

/** A stretch behind shorter than this is a reader keeping up with a flood, not a slow one: it counts nothing against SLOW_READER_TIMEOUT_MS. */
export const LAG_GRACE_MS = 500;

/** Connections served at once; one more is told `server_full` and closed. */
export const MAX_CLIENTS = 10_000;

/** Frames a client may send per second on average (bursts of twice as many); 0 for no limit. */
export const RATE_LIMIT_PER_SECOND = 20;

/**
 * Connections from one address that may wait to join at once: one place
 * cannot fill --max-clients with connections that never join (a class
 * behind one router joins well under this at a time).
 */
export const MAX_UNJOINED_PER_ADDRESS = 256;

/** Time from connecting to joining. Long, because the seed client joins with its first message. */
export const JOIN_TIMEOUT_MS = 60_000;

/** Time a frame may take to arrive once its first byte has (slow-loris clients). */
export const FRAME_TIMEOUT_MS = 10_000;

/** Silence after which the server pings a client; 0 to never ping. */
export const PING_INTERVAL_MS = 30_000;

/** Time a pinged client has to send anything at all before it is dropped as lost. */
export const PING_TIMEOUT_MS = 15_000;

/**
 * HTTP connections accepted past --max-clients, for a moment each (the
 * request timeout): a full server can still answer the page, and tell a
 * WebSocket client `server_full` rather than hang up on it.
 */
export const FULL_HTTP_SLACK = 100;

/** TCP keep-alive probes start after this much idle time, catching peers whose host vanished. */
export const KEEPALIVE_MS = 30_000;

/** Chats replayed after `welcome` to a client with the `history` feature. */
export const HISTORY_REPLAY = 50;

/** Chats kept per conversation (room or private pair); older ones are pruned. */
export const HISTORY_KEEP = 10_000;

/** The path `openStore()` takes for a store that lives in memory only. */
export const MEMORY_PATH = ":memory:";
