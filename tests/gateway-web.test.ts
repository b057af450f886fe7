/** The page and the WebSocket gateway: the protocol's cases through WebSocket, the page over HTTP, refusals. */
import net from "node:net";
import t from "tap";
import { eventually, type Teardown, testServer, within } from "./helpers/helpers.js";
import { Peer, WsPeer } from "./helpers/test-clients.js";
import { PROTOCOL_CASES, type Connect } from "./helpers/protocol-cases.js";

/** A raw HTTP exchange: what the server answers to `request`, up to its close. */
async function rawHttp(t: Teardown, port: number, request: string): Promise<string> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  t.teardown(() => socket.destroy());
  let answer = "";
  socket.setEncoding("utf8").on("data", (s: string) => (answer += s));
  socket.write(request);
  await within(new Promise((resolve) => socket.once("close", resolve)), "the HTTP answer");
  return answer;
}

t.test("the protocol's cases, through each gateway", async (t) => {
  const gateways: Record<string, (t: Teardown, port: number, webPort: number) => Connect> = {
    "framed TCP": (t, port) => (name) => (name ? Peer.joined(t, port, name) : Peer.connect(t, port)),
    "WebSocket on the chat port": (t, port) => (name) =>
      name ? WsPeer.joined(t, `ws://127.0.0.1:${port}/ws`, name) : WsPeer.connect(t, `ws://127.0.0.1:${port}/ws`),
    "WebSocket on the web port": (t, _port, webPort) => (name) =>
      name ? WsPeer.joined(t, `ws://127.0.0.1:${webPort}/ws`, name) : WsPeer.connect(t, `ws://127.0.0.1:${webPort}/ws`),
  };
  for (const [gateway, connectVia] of Object.entries(gateways)) {
    t.test(gateway, async (t) => {
      for (const testCase of PROTOCOL_CASES) {
        t.test(testCase.name, async (t) => {
          const server = await testServer(t, { webPort: 0 });
          const webPort = Number(new URL(server.pageUrl).port);
          await testCase.run(t, connectVia(t, server.address.port, webPort));
        });
      }
    });
  }
});

t.test("the chat port answers a browser with the page, and still speaks the framed protocol", async (t) => {
  const server = await testServer(t);
  const { port } = server.address;
  t.equal(server.pageUrl, `http://127.0.0.1:${port}/`);
  const page = await fetch(server.pageUrl);
  t.equal(page.status, 200);
  t.match(page.headers.get("content-type"), /text\/html/);
  t.match(page.headers.get("content-security-policy"), /script-src 'self'/, "no inline or foreign script can run");
  t.match(await page.text(), /<script src="\/app\.js"><\/script>/);
  const script = await fetch(new URL("/app.js", server.pageUrl));
  t.match(script.headers.get("content-type"), /javascript/);
  t.match(await script.text(), /WebSocket/);
  t.equal((await fetch(new URL("/nothing", server.pageUrl))).status, 404);
  t.equal((await fetch(server.pageUrl, { method: "POST", body: "x" })).status, 405);
  t.equal((await fetch(new URL("/ws", server.pageUrl))).status, 426, "the endpoint without an upgrade says what it is");
  const peer = await Peer.joined(t, port, "ana");
  peer.send({ type: "list" });
  t.match(await peer.next(), { type: "list", users: ["ana"] });
  t.equal(server.sessionCount, 1, "the page's connections are not chat sessions");
});

t.test("--web-port serves the page too, and pageUrl points at it", async (t) => {
  const server = await testServer(t, { webPort: 0 });
  t.not(new URL(server.pageUrl).port, String(server.address.port));
  const page = await fetch(server.pageUrl);
  t.equal(page.status, 200);
  t.match(await page.text(), /<title>Chat<\/title>/);
});

t.test("a WebSocket message over the body limit closes that connection with 1009; the others see protocol_error", async (t) => {
  const server = await testServer(t, { maxBodyBytes: 1000 });
  const url = `ws://127.0.0.1:${server.address.port}/ws`;
  const ana = await WsPeer.joined(t, url, "ana");
  const big = await WsPeer.joined(t, url, "big");
  await ana.drain();
  big.sendBody(JSON.stringify({ type: "chat", message: "x".repeat(2000) }));
  await big.expectClosed();
  t.equal(big.closeCode, 1009);
  t.match(await ana.next(), { type: "leave", client_name: "big", reason: "protocol_error" });
  ana.send({ type: "chat", message: "still here" });
  t.same(await ana.drain(), []);
});

t.test("malformed upgrades are refused cleanly and the server goes on", async (t) => {
  const server = await testServer(t, { webPort: 0 });
  const webPort = Number(new URL(server.pageUrl).port);
  for (const port of [server.address.port, webPort]) {
    const noKey = await rawHttp(t, port, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
    t.match(noKey, /^HTTP\/1\.1 400/, "an upgrade without a key gets 400");
    const badVersion = await rawHttp(
      t,
      port,
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n\r\n",
    );
    t.match(badVersion, /^HTTP\/1\.1 400/, "an unknown version gets 400");
    const elsewhere = await rawHttp(
      t,
      port,
      "GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    t.match(elsewhere, /^HTTP\/1\.1 404/, "an upgrade elsewhere than /ws gets 404");
    const garbage = await rawHttp(t, port, "GET \u0000\u0001 nonsense\r\n\r\n");
    t.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/, "a broken request line is answered 400");
  }
  const ana = await WsPeer.joined(t, `ws://127.0.0.1:${server.address.port}/ws`, "ana");
  ana.send({ type: "list" });
  t.match(await ana.next(), { type: "list", users: ["ana"] });
});

t.test("WebSocket clients count toward --max-clients and are told server_full (on the web port)", async (t) => {
  // On the chat port a full server answers at once, before any byte says which protocol the peer speaks.
  const server = await testServer(t, { maxClients: 1, webPort: 0 });
  const url = `ws://127.0.0.1:${new URL(server.pageUrl).port}/ws`;
  await WsPeer.joined(t, url, "ana");
  const extra = await WsPeer.connect(t, url);
  t.match(await extra.next(), { type: "error", code: "server_full" });
  await extra.expectClosed();
});

t.test("the join time limit and shutdown cover WebSocket clients", async (t) => {
  const server = await testServer(t, { joinTimeoutMs: 200 });
  const url = `ws://127.0.0.1:${server.address.port}/ws`;
  const idle = await WsPeer.connect(t, url);
  t.match(await idle.next(), { type: "error", code: "timeout" });
  await idle.expectClosed();
  const ana = await WsPeer.joined(t, url, "ana");
  const closing = server.close();
  t.match(await ana.next(), { type: "error", code: "server_shutdown" });
  await ana.expectClosed();
  await closing;
});

t.test("a WebSocket frame begun and never finished is cut by the frame time limit", async (t) => {
  const server = await testServer(t, { frameTimeoutMs: 300 });
  const socket = net.connect({ port: server.address.port, host: "127.0.0.1" });
  t.teardown(() => socket.destroy());
  let answer = "";
  socket.setEncoding("latin1").on("data", (s: string) => (answer += s));
  socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  await eventually(() => answer.includes("\r\n\r\n"), "the upgrade");
  t.match(answer, /^HTTP\/1\.1 101/);
  socket.write(Buffer.from([0x81, 0x85, 1, 2, 3])); // a text frame of 5 bytes: its header, part of its mask, then nothing
  await within(new Promise((resolve) => socket.once("close", resolve)), "the connection to be cut", 10_000);
  t.match(answer, /A frame took more than 0\.3 s to arrive/);
});

t.test("a WebSocket client that stops reading is cut off as slow", async (t) => {
  const server = await testServer(t, { slowReaderTimeoutMs: 300, rateLimit: 0 });
  const url = `ws://127.0.0.1:${server.address.port}/ws`;
  const talker = await Peer.joined(t, server.address.port, "talker");
  const sleeper = await WsPeer.joined(t, url, "sleeper");
  await talker.drain();
  sleeper.ws.pause();
  const text = "z".repeat(60_000);
  for (let i = 0; i < 400; i++) talker.send({ type: "chat", message: text });
  for (;;) {
    const msg = await talker.next();
    if (msg.type === "leave") {
      t.match(msg, { client_name: "sleeper", reason: "slow" });
      break;
    }
  }
  sleeper.ws.resume();
  await sleeper.expectClosed();
});
