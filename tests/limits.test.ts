/** The server's limits and protections, each an option with a default. */
import t from "tap";
import { ChatClient } from "../client.js";
import { encode, type Message } from "../protocol.js";
import { Peer, testServer, within } from "./helpers.js";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

t.test("--rate-limit: beyond the bucket, messages are dropped with one rate_limited, and the connection kept", async (t) => {
  const rateLimit = 50; // bursts of 100
  const { port } = (await testServer(t, { rateLimit })).address;
  const sender = await Peer.joined(t, port, "sender");
  const reader = await Peer.joined(t, port, "reader");
  await sender.drain();
  const burst = Array.from({ length: 300 }, (_, i) => `#${i}`);
  const started = Date.now();
  sender.socket.write(Buffer.concat(burst.map((m) => encode({ type: "chat", message: m })))); // one chunk, at once
  const errors = (await sender.drain()).filter((m) => m.type === "error");
  const delivered = (await reader.drain()).map((m) => m.message);
  // Tokens that came back while the server read the burst (a busy machine reads it more slowly).
  const refilled = Math.ceil(((Date.now() - started) * rateLimit) / 1000);
  t.match(errors[0], { code: "rate_limited", message: /More than 50 messages a second/ });
  t.ok(errors.length <= 1 + refilled, `told once per streak of drops, not 200 times (${errors.length})`);
  t.ok(delivered.length >= 95 && delivered.length <= 100 + refilled, `one burst of 100 delivered (${delivered.length}, ${refilled} refilled)`);
  t.same(delivered, burst.slice(0, delivered.length), "the first ones, in order");
  await wait(100); // the bucket refills at 50 a second: 5 tokens
  sender.send({ type: "chat", message: "after a pause" });
  t.match(await reader.next(), { message: "after a pause" });
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

t.test("a joined client that answers nothing to a ping leaves as lost; one that answers stays", async (t) => {
  const server = await testServer(t, { pingIntervalMs: 100, pingTimeoutMs: 1000 }); // a second to answer: room for a busy machine
  const { port } = server.address;
  const client = new ChatClient({ port, reconnect: false });
  t.teardown(() => client.close());
  await client.connect();
  await client.join("alive");
  const seed = await Peer.connect(t, port);
  seed.send({ client_name: "seed", subject: "", message: "hi", date: "" } as never);
  const left = new Promise<Message>((resolve) => client.on("message", (m) => m.type === "leave" && resolve(m)));
  const mute = await Peer.joined(t, port, "mute");
  t.match(await mute.next(), { type: "ping" });
  t.match(await within(left, "the leave notice"), { type: "leave", client_name: "mute", reason: "lost" });
  await mute.expectClosed();
  t.same(server.users, ["alive", "seed"], "the client that answers and the seed client, which is never pinged");
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
