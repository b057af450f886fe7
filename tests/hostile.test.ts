/** Hostile input against a running server: it keeps serving, and honest clients lose nothing. */
import fc from "fast-check";
import t from "tap";
import { encode } from "../protocol.js";
import { eventually, testServer, within } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

const KNOWN_TYPES = ["join", "chat", "list", "quit", "ping", "pong", "welcome", "error", "leave"];

/** One hostile connection's script: the chunks it writes, and whether it then hangs up abruptly. */
const hostileScript = fc.record({
  chunks: fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), // noise
      fc.string({ maxLength: 70 }).map((s) => Buffer.from(`Content-length: ${s}\n`)), // broken headers
      fc.nat({ max: 70_000 }).map((n) => Buffer.from(`content-length:${n}\r\n`)), // huge or half frames
      fc
        .record({ type: fc.constantFrom(...KNOWN_TYPES), client_name: fc.anything(), message: fc.anything(), to: fc.anything(), users: fc.anything() }, { requiredKeys: ["type"] })
        .map((fields) => frame(JSON.stringify(fields))), // known types, wrong field types
      fc.json().map(frame), // any JSON at all
      fc.string({ unit: "binary", maxLength: 40 }).map((name) => encode({ type: "join", client_name: name })),
      fc.nat({ max: 15_000 }).map((n) => encode({ type: "chat", to: "é".repeat(n), client_name: "ж".repeat(n), message: "x" })), // long strings quoted back
      fc.constant(Buffer.concat(Array.from({ length: 200 }, (_, i) => encode({ type: "chat", message: `flood ${i}` })))),
    ),
    { maxLength: 6 },
  ),
  abrupt: fc.boolean(),
});

function frame(json: string): Buffer {
  const body = Buffer.from(json);
  return Buffer.concat([Buffer.from(`Content-length: ${body.length}\n`), body]);
}

t.test("hundreds of hostile connections: the server keeps serving and honest clients get everything, in order", async (t) => {
  const server = await testServer(t, { rateLimit: 0, frameTimeoutMs: 500 });
  const { port } = server.address;
  const sender = await Peer.joined(t, port, "honest");
  const readers = [await Peer.joined(t, port, "reader1"), await Peer.joined(t, port, "reader2")];
  await sender.drain();
  await readers[0]!.drain();

  const scripts = fc.sample(hostileScript, { numRuns: 300, seed: 20261121 });
  const attacks = scripts.map(async (script, i) => {
    const peer = await Peer.connect(t, port);
    for (const chunk of script.chunks) {
      // Any split of the bytes: here, halves written separately.
      peer.socket.write(chunk.subarray(0, chunk.length >> 1));
      peer.socket.write(chunk.subarray(chunk.length >> 1));
      if (i % 3 === 0) sender.send({ type: "chat", message: `honest ${i}` }); // interleave honest traffic
    }
    if (script.abrupt) peer.socket.destroy();
    else peer.socket.end();
    await peer.closed;
  });
  await within(Promise.all(attacks), "every hostile connection to close", 30_000);

  const expected = scripts.flatMap((script, i) => (i % 3 === 0 ? script.chunks.map(() => `honest ${i}`) : []));
  sender.send({ type: "chat", message: "last" });
  for (const reader of readers) {
    const got: string[] = [];
    for (let msg = await reader.next(); msg.message !== "last"; msg = await reader.next()) {
      if (msg.type === "chat" && msg.client_name === "honest") got.push(msg.message);
    }
    t.same(got, expected, "every honest message, once, in order");
  }
  t.same(server.users, ["honest", "reader1", "reader2"], "no hostile client is left joined");
  await eventually(() => server.connectionCount === 3, "the server has seen every hostile connection close");
  t.pass("nor connected: what they held is released");
  const late = await Peer.joined(t, port, "late");
  late.send({ type: "list" });
  t.match(await late.next(), { type: "list", users: ["honest", "late", "reader1", "reader2"] });
});

t.test("one sender's thousands of messages arrive complete and in order at every reader", async (t) => {
  const { port } = (await testServer(t, { rateLimit: 0 })).address;
  const sender = await Peer.joined(t, port, "sender");
  const readers = await Promise.all(["r1", "r2", "r3", "r4", "r5"].map((name) => Peer.joined(t, port, name)));
  await sender.drain();
  await Promise.all(readers.map((r) => r.drain()));
  const count = 5000;
  sender.socket.write(Buffer.concat(Array.from({ length: count }, (_, i) => encode({ type: "chat", message: `${i} ${"x".repeat(i % 300)}` }))));
  for (const reader of readers) {
    let next = 0;
    while (next < count) {
      const msg = await reader.next();
      if (msg.type !== "chat") continue;
      if (Number(msg.message.split(" ")[0]) !== next) break;
      next++;
    }
    t.equal(next, count, "all of them, in order");
  }
});
