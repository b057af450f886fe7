/** The server's limits and protections, each an option with a default. */
import t from "tap";
import { encode, type Message } from "../protocol.js";
import { MAX_UNJOINED_PER_ADDRESS } from "../server/limits.js";
import { testServer, within } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";


t.test("--max-clients: the one over the limit is told server_full; the others are untouched", async (t) => {
  const { port } = (await testServer(t, { maxClients: 2 })).address;
  const ana = await Peer.joined(t, port, "ana");
  const bruno = await Peer.joined(t, port, "bruno");
  const third = await Peer.connect(t, port);
  t.match(await third.next(), { type: "error", code: "server_full", message: /full \(2 clients\)/ });
  await third.expectClosed();
  await ana.drain();
  ana.send({ type: "chat", message: "still fine" });
  t.match(await bruno.next(), { type: "chat", message: "still fine" });
  bruno.send({ type: "quit" });
  await bruno.expectClosed();
  await ana.drain();
  await Peer.joined(t, port, "carla"); // a place came free
});

t.test("--rate-limit: beyond the bucket a client is read more slowly; nothing is dropped, all in order", async (t) => {
  const rateLimit = 20; // bursts of 40
  const { port } = (await testServer(t, { rateLimit })).address;
  const sender = await Peer.joined(t, port, "sender");
  const reader = await Peer.joined(t, port, "reader");
  await sender.drain();
  const burst = Array.from({ length: 60 }, (_, i) => `#${i}`);
  const started = Date.now();
  sender.socket.write(Buffer.concat(burst.map((m) => encode({ type: "chat", message: m })))); // one chunk, at once
  t.same(await sender.drain(), [], "no error: over the rate is not an error");
  const delivered = (await reader.drain()).map((m) => m.message);
  t.same(delivered, burst, "every message, in order");
  // 20 beyond the burst at 20 a second: at least a second, however fast the machine.
  t.ok(Date.now() - started >= 900, `paced, not dropped (${Date.now() - started} ms)`);
});

t.test("pasted lines: fifty at once from a client all arrive, in order, with the default rate limit", async (t) => {
  const { port } = (await testServer(t)).address;
  const sender = await Peer.joined(t, port, "sender");
  const reader = await Peer.joined(t, port, "reader");
  await sender.drain();
  const lines = Array.from({ length: 50 }, (_, i) => `msg ${i + 1}`);
  for (const line of lines) sender.send({ type: "chat", message: line });
  sender.send({ type: "quit" }); // takes effect after the frames before it
  await sender.expectClosed();
  const got: string[] = [];
  for (;;) {
    const msg = await reader.next();
    if (msg.type === "leave") break;
    got.push(msg.message);
  }
  t.same(got, lines);
});

t.test("a flood of pings in one write gets a bounded answer and the connection is kept", async (t) => {
  const { port } = (await testServer(t)).address;
  const pinger = await Peer.joined(t, port, "pinger");
  const pings = encode({ type: "ping" });
  pinger.socket.write(Buffer.concat(Array.from({ length: 10_000 }, () => pings)));
  pinger.send({ type: "list" });
  let pongs = 0;
  for (let msg = await pinger.next(); msg.type !== "list"; msg = await pinger.next()) {
    t.equal(msg.type, "pong");
    pongs++;
  }
  t.ok(pongs >= 1 && pongs < 100, `a few pongs, not 10,000 (${pongs})`);
});

t.test("--rate-limit 0 turns it off", async (t) => {
  const { port } = (await testServer(t, { rateLimit: 0 })).address;
  const sender = await Peer.joined(t, port, "sender");
  const reader = await Peer.joined(t, port, "reader");
  await sender.drain();
  for (let i = 0; i < 1000; i++) sender.send({ type: "chat", message: `#${i}` });
  t.same((await sender.drain()).length, 0);
  t.equal((await reader.drain()).length, 1000);
});

t.test("a connection that does not join in time is told timeout and closed", async (t) => {
  const { port } = (await testServer(t, { joinTimeoutMs: 200 })).address;
  const ana = await Peer.joined(t, port, "ana");
  const idle = await Peer.connect(t, port);
  t.match(await idle.next(), { type: "error", code: "timeout", message: /No join within 0.2 s/ });
  await idle.expectClosed();
  t.same(await ana.drain(), [], "a joined client stays");
});

t.test("slow loris: a frame dribbled a byte at a time is dropped by the frame timeout", async (t) => {
  const { port } = (await testServer(t, { frameTimeoutMs: 300 })).address;
  const ana = await Peer.joined(t, port, "ana");
  const loris = await Peer.joined(t, port, "loris");
  await ana.drain();
  const bytes = Buffer.from(`Content-length: 40\n${"x".repeat(40)}`);
  let sent = 0;
  const dribble = setInterval(() => sent < bytes.length && loris.socket.write(bytes.subarray(sent, ++sent)), 30);
  t.teardown(() => clearInterval(dribble));
  t.match(await loris.next(), { type: "error", code: "timeout", message: /frame took more than 0.3 s/ });
  await loris.expectClosed();
  t.match(await ana.next(), { type: "leave", client_name: "loris", reason: "timeout" });
  t.ok(sent < bytes.length, "cut before the frame could complete");
});

t.test("a client with the ping feature that answers nothing leaves as lost; one without it is never pinged", async (t) => {
  const server = await testServer(t, { pingIntervalMs: 100, pingTimeoutMs: 1000 }); // a second to answer: room for a busy machine
  const { port } = server.address;
  const silent = await Peer.joined(t, port, "silent"); // version 1: no features
  const seed = await Peer.connect(t, port);
  seed.send({ client_name: "seed", subject: "", message: "hi", date: "" } as never);
  const mute = await Peer.connect(t, port);
  mute.send({ type: "join", client_name: "mute", features: ["ping"] });
  t.match(await mute.next(), { type: "welcome", features: ["ping"] });
  t.match(await mute.next(), { type: "ping" });
  await mute.expectClosed();
  const seen = [await silent.next(), await silent.next(), await silent.next(), await silent.next()];
  t.match(seen, [{ type: "join", client_name: "seed" }, { type: "chat", message: "hi" }, { type: "join", client_name: "mute" }, { type: "leave", client_name: "mute", reason: "lost" }]);
  t.same(server.users, ["seed", "silent"], "the silent version 1 client and the seed client stay");
});

t.test("a frame whose header came but whose body never does times out", async (t) => {
  const { port } = (await testServer(t, { frameTimeoutMs: 300 })).address;
  const holder = await Peer.joined(t, port, "holder");
  holder.send("Content-length: 10\n");
  t.match(await holder.next(), { type: "error", code: "timeout", message: /frame took more than 0.3 s/ });
  await holder.expectClosed();
});

t.test("a reader that empties its buffer only now and then is cut off as slow; the talker loses nothing", async (t) => {
  const { port } = (await testServer(t, { slowReaderTimeoutMs: 1500, rateLimit: 0 })).address;
  const talker = await Peer.joined(t, port, "talker");
  const laggard = await Peer.joined(t, port, "laggard");
  const reader = await Peer.joined(t, port, "reader");
  await talker.drain();
  await laggard.drain();
  laggard.socket.pause();
  // Reads one chunk every 800 ms: each stretch behind is shorter than the limit, but they add up.
  const sips = setInterval(() => {
    laggard.socket.once("data", () => laggard.socket.pause());
    laggard.socket.resume();
  }, 800);
  t.teardown(() => clearInterval(sips));
  const text = "q".repeat(20_000);
  let sent = 0;
  let left: Message | undefined;
  const readAll = (async () => {
    for (;;) {
      const msg = await reader.next();
      if (msg.type === "leave") left = msg;
      if (msg.type === "chat" && msg.message === "last") return;
    }
  })();
  while (!left && sent < 2000) {
    talker.send({ type: "chat", message: text });
    sent++;
    await new Promise((resolve) => setImmediate(resolve));
    if (sent % 50 === 0) await talker.drain();
  }
  talker.send({ type: "chat", message: "last" });
  await within(readAll, "the reader to get everything", 20_000);
  t.match(left, { type: "leave", client_name: "laggard", reason: "slow" });
});

t.test("--max-outbound-bytes: a reader that stops is cut off once that much waits for it, however many talk", async (t) => {
  // The slow-reader timeout is long here: only the byte limit can cut the sleeper quickly.
  const { port } = (await testServer(t, { maxOutboundBytes: 150_000, slowReaderTimeoutMs: 60_000, rateLimit: 0 })).address;
  const sleeper = await Peer.joined(t, port, "sleeper");
  const talkers = await Promise.all(["t1", "t2", "t3", "t4", "t5"].map((name) => Peer.joined(t, port, name)));
  const watcher = talkers[0]!;
  sleeper.socket.pause();
  await Promise.all(talkers.map((talker) => talker.drain()));
  const left = (async () => {
    for (;;) {
      const msg = await watcher.next();
      if (msg.type === "leave") return msg;
    }
  })();
  const text = "y".repeat(30_000);
  const flood = Buffer.concat(Array.from({ length: 200 }, () => encode({ type: "chat", message: text })));
  for (const talker of talkers) talker.socket.write(flood);
  t.match(await within(left, "the sleeper to be cut off", 20_000), { type: "leave", client_name: "sleeper", reason: "slow" });
});

t.test("a ping with a ref is always answered, even in the same read as another ping", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  ana.send(Buffer.concat([encode({ type: "ping", ref: "a" }), encode({ type: "ping", ref: "b" }), encode({ type: "ping" })]));
  const refs = [(await ana.next()).ref, (await ana.next()).ref];
  t.same(refs, ["a", "b"]);
});

t.test("a moderation reason is bounded like a topic: a longer one is refused, and nothing is done", async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  const bruno = await Peer.joined(t, port, "bruno");
  ana.send({ type: "enter", room: "#x" });
  while ((await ana.next()).type !== "entered");
  bruno.send({ type: "enter", room: "#x" });
  while ((await bruno.next()).type !== "entered");
  ana.send({ type: "kick", room: "#x", target: "bruno", reason: "x".repeat(201), ref: "k" });
  let answer = await ana.next();
  while (answer.ref !== "k") answer = await ana.next();
  t.match(answer, { type: "error", code: "bad_message", message: /at most 200 characters/ });
  bruno.send({ type: "list", room: "#x" });
  let list = await bruno.next();
  while (list.type !== "list") list = await bruno.next();
  t.match(list, { users: ["ana", "bruno"] }, "bruno is still in #x");
});

t.test("connections that never join: one address may keep MAX_UNJOINED_PER_ADDRESS waiting; the next is refused, other addresses are not", async (t) => {
  const { port } = (await testServer(t)).address;
  const waiting: Peer[] = [];
  for (let i = 0; i < MAX_UNJOINED_PER_ADDRESS; i++) waiting.push(await Peer.connect(t, port));
  await waiting.at(-1)!.drain(); // the server has taken every one of them
  const extra = await Peer.connect(t, port);
  t.match(await extra.next(), { type: "error", code: "server_full", message: /have not joined/ });
  await extra.expectClosed();
  t.ok(await Peer.joined(t, port, "elsewhere", { localAddress: "127.0.0.2" }), "another address gets in");
  waiting[0]!.send({ type: "join", client_name: "ana" });
  t.match(await waiting[0]!.next(), { type: "welcome" });
  t.ok(await Peer.joined(t, port, "bia"), "once one of them joined, the address may connect again");
});
