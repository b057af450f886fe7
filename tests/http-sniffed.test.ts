/** HTTP on the chat port gets the same time limit and the same count as on the web port. */
import { once } from "node:events";
import net from "node:net";
import t from "tap";
import { testServer, within } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** A connection to the chat port that starts an HTTP request and never finishes it. */
async function halfRequest(t: { teardown(fn: () => unknown): void }, port: number, bytes: string): Promise<net.Socket> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  t.teardown(() => socket.destroy());
  await once(socket, "connect");
  socket.write(bytes);
  return socket;
}

t.test("a request that never ends is cut at the frame time limit, a single G included", async (t) => {
  const server = await testServer(t, { frameTimeoutMs: 300 });
  const { port } = server.address;
  for (const bytes of ["G", "GET / HTTP/1.1\r\nHost: x\r\n"]) {
    const socket = await halfRequest(t, port, bytes);
    await within(once(socket, "close"), `the server to close ${JSON.stringify(bytes)}`);
  }
});

t.test("half-sent HTTP requests count against --max-clients: the next chat client is told server_full", async (t) => {
  const server = await testServer(t, { maxClients: 2 });
  const { port } = server.address;
  for (let i = 0; i < 2; i++) await halfRequest(t, port, "GET / HTTP/1.1\r\n");
  // The server has seen both as HTTP once it counts them.
  await within(
    (async () => {
      while (server.connectionCount < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    "both requests counted",
  );
  const late = await Peer.connect(t, port);
  t.match(await late.next(), { type: "error", code: "server_full" });
});

t.test("headers over 16 KiB get 431, a malformed request 400, on the web port and on the chat port alike", async (t) => {
  const server = await testServer(t, { webPort: 0 });
  const ports = { chat: server.address.port, web: Number(new URL(server.pageUrl).port) };
  const answer = async (port: number, request: string) => {
    const socket = await halfRequest(t, port, request);
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    await within(once(socket, "close"), "the server to answer and close");
    return text.split("\r\n")[0];
  };
  for (const [where, port] of Object.entries(ports)) {
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`;
    t.equal(await answer(port, big), "HTTP/1.1 431 Request Header Fields Too Large", `${where} port: 431`);
    t.equal(await answer(port, "GET / HTTP/1.1\r\nHost x\r\n\r\n"), "HTTP/1.1 400 Bad Request", `${where} port: 400`);
  }
});
