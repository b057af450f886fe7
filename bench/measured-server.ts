/**
 * The real server (startServer) in a process the benchmark can measure: each
 * line "gc" on standard input collects garbage, then prints the resident and
 * heap memory as JSON. Run with --expose-gc. An argument names a SQLite
 * database file or a PostgreSQL URL (the store on); without one, the store
 * is in memory. A second names a Redis (`redis://...`): the server is then
 * one of several forming one chat.
 *
 * The default options, but for the rate limit (the load generator's senders
 * are meant to go as fast as their readers) and room for 10,000 idle
 * connections beside the generator's own. (The load generator's clients ask
 * for no features, so they are never pinged.)
 */
import readline from "node:readline";
import v8 from "node:v8";
import { startServer } from "../server/chat-server.js";

const db = process.argv[2];
/** A second argument: Redis's URL, for one of several servers forming one chat. */
const redis = process.argv[3];
const server = await startServer({ port: 0, rateLimit: 0, maxClients: 20_000, ...(db && { db }), ...(redis && { redis }) });
console.log(`listening on ${server.address.host}:${server.address.port}`);
readline.createInterface({ input: process.stdin }).on("line", () => {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  // The young generation: a burst grows it (to 32 MB), and V8 shrinks it back only once the process has been idle a while.
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
  console.log(JSON.stringify({ rss, heapTotal, heapUsed, external, arrayBuffers, young, connections: server.connectionCount }));
});
process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
