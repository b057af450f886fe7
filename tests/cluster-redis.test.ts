/**
 * The cluster's Redis parts against a real redis-server: the shared log
 * (one order for every reader, numbers never given twice, nothing queued
 * while Redis is away, an epoch that says Redis lost everything), name
 * and heartbeats. (Names raced across servers: tests/cluster.test.ts.)
 */
import t from "tap";
import { Heartbeats } from "../server/cluster/heartbeats.js";
import { redisClient, RedisUnavailable, type RedisConnection } from "../server/cluster/redis.js";
import { EpochChanged, SharedLog, type LogEntry } from "../server/cluster/shared-log.js";
import { eventually, type Teardown } from "./helpers/helpers.js";
import { hasRedis, NO_REDIS, TestRedis } from "./helpers/redis.js";

type Event = { from: string; n: number };

async function connected(t: Teardown, redis: TestRedis): Promise<RedisConnection> {
  const client = redisClient(redis.url);
  await client.connect();
  t.teardown(() => client.destroy());
  return client;
}

/** Collects what a reader of `log` hands on, from the start. */
function reading(t: Teardown, log: SharedLog<Event>) {
  const entries: Array<LogEntry<Event>> = [];
  const reader = log.follow("0", (batch) => entries.push(...batch));
  t.teardown(() => reader.close());
  return entries;
}

t.test("the cluster's Redis parts", { skip: hasRedis ? false : NO_REDIS }, async (t) => {
  const redis = await TestRedis.start(t);

  t.test("appends from two servers at once reach every reader in one order, numbered 1, 2, 3, ...", async (t) => {
    const prefix = "{order}:";
    const logs = await Promise.all(["a", "b"].map(async (server) => new SharedLog<Event>(await connected(t, redis), { server, prefix })));
    for (const log of logs) await log.restore();
    const readers = logs.map((log) => reading(t, log));
    const senders = ["a1", "a2", "b1", "b2"];
    const perSender = 200;
    await Promise.all(
      senders.map(async (from) => {
        const log = logs[from.startsWith("a") ? 0 : 1]!;
        for (let n = 0; n < perSender; n++) await log.append({ from, n });
      }),
    );
    const total = senders.length * perSender;
    await eventually(() => readers.every((entries) => entries.length === total), "both readers to have everything");
    t.same(readers[0]!.map((e) => e.seq), Array.from({ length: total }, (_, i) => i + 1), "numbered in log order, none skipped");
    t.same(readers[1], readers[0], "both readers saw the same entries in the same order");
    for (const from of senders) {
      const own = readers[0]!.filter((e) => e.event.from === from).map((e) => e.event.n);
      t.same(own, [...Array(perSender).keys()], `${from}'s own in the order sent`);
    }
  });

  t.test("servers that stop beating are found dead, and one survivor claims each cleanup", async (t) => {
    const beats = new Heartbeats(await connected(t, redis), "{beats}:");
    await beats.beat("a", 10_000);
    await beats.beat("b", 30);
    await new Promise((resolve) => setTimeout(resolve, 60)); // b's heartbeat expires: time itself is the event
    t.same(await beats.dead(), ["b"]);
    const claims = await Promise.all(["a", "c", "d"].map((survivor) => beats.claimCleanup("b", survivor)));
    t.same(claims.filter(Boolean).length, 1, "one claim wins");
    await beats.forget("b");
    t.same(await beats.dead(), []);
  });

  t.test("Redis away: an append fails at once and is not sent later; Redis back empty: EpochChanged until restored, and numbers go on above the floor", async (t) => {
    const client = await connected(t, redis);
    const log = new SharedLog<Event>(client, { server: "a", prefix: "{epoch}:" });
    await log.restore();
    t.equal(await log.append({ from: "a", n: 1 }), 1);
    const before = log.epoch;
    await redis.stop();
    await t.rejects(log.append({ from: "a", n: 2 }), RedisUnavailable, "refused while away");
    await redis.restart();
    await eventually(() => client.isReady, "the client to reconnect");
    await t.rejects(log.append({ from: "a", n: 3 }), EpochChanged, "a log that started again refuses until restored");
    const other = new SharedLog<Event>(await connected(t, redis), { server: "b", prefix: "{epoch}:" });
    await other.restore(1000);
    await log.restore(10);
    t.not(log.epoch, before, "a new epoch");
    t.equal(log.epoch, other.epoch, "both servers adopted the same one");
    t.equal(await log.append({ from: "a", n: 4 }), 1001, "numbers go on above the highest floor");
    const entries = reading(t, log);
    await eventually(() => entries.length === 1, "the reader to see the new log");
    t.same(entries.map((e) => e.event.n), [4], "the refused appends were never sent later");
  });
});
