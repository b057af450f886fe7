/** Only the server's own page (and origins listed with --allow-origin) may open the chat's WebSocket. */
import { once } from "node:events";
import t from "tap";
import WebSocket from "ws";
import { startServer } from "../server/chat-server.js";
import { originAllowed } from "../server/gateway-web.js";

/** Opens /ws with this Origin (none when undefined); resolves with the HTTP status of a refusal, or "open". */
async function handshake(port: number, origin: string | undefined): Promise<number | "open"> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, origin === undefined ? {} : { origin });
  ws.on("error", () => {});
  const outcome = await Promise.race([
    once(ws, "open").then(() => "open" as const),
    once(ws, "unexpected-response").then(([, res]) => (res as { statusCode: number }).statusCode),
  ]);
  ws.terminate();
  return outcome;
}

t.test("a page of another site cannot open the WebSocket; the server's own page and non-browsers can", async (t) => {
  const server = await startServer({ port: 0 });
  t.teardown(() => server.close());
  const { port } = server.address;
  t.equal(await handshake(port, `http://127.0.0.1:${port}`), "open", "the page the server serves");
  t.equal(await handshake(port, undefined), "open", "no Origin: not a browser");
  t.equal(await handshake(port, "https://evil.example"), 403);
  t.equal(await handshake(port, "null"), 403, "a sandboxed page or a file");
  t.equal(await handshake(port, `http://127.0.0.1:${port + 1}`), 403, "another port is another origin");
});

t.test("--allow-origin lets the pages of the origins listed in", async (t) => {
  const server = await startServer({ port: 0, allowOrigins: ["https://chat.example.com"] });
  t.teardown(() => server.close());
  const { port } = server.address;
  t.equal(await handshake(port, "https://chat.example.com"), "open");
  t.equal(await handshake(port, "https://other.example.com"), 403);
});

t.test("originAllowed compares scheme, host and port as browsers send them", async (t) => {
  const none = new Set<string>();
  t.ok(originAllowed("http://LOCALHOST:9999", "localhost:9999", none), "hosts without case");
  t.ok(originAllowed("https://127.0.0.1:9999", "127.0.0.1:9999", none), "https on the same host and port");
  t.notOk(originAllowed("ftp://127.0.0.1:9999", "127.0.0.1:9999", none));
  t.notOk(originAllowed("not a url", "127.0.0.1:9999", none));
  t.notOk(originAllowed("http://127.0.0.1:9999", undefined, none), "no Host to compare with");
  t.ok(originAllowed("null", "127.0.0.1:9999", new Set(["null"])), "null only when listed");
});
