/** TLS on every port (framed, text, https and wss) with a throwaway certificate made by openssl. */
import fs from "node:fs";
import https from "node:https";
import tls from "node:tls";
import t from "tap";
import { PARALLEL_SUBTESTS, Script, type Teardown, testServer, throwawayCertificate, within } from "./helpers/helpers.js";
import { LinePeer, Peer, WsPeer } from "./helpers/test-clients.js";
import { PROTOCOL_CASES } from "./helpers/protocol-cases.js";

t.jobs = PARALLEL_SUBTESTS;

/** One certificate for the file: making an RSA key is the slow part of every test here. Removed when the file ends. */
const files = throwawayCertificate(t);

/** A TLS server and how a client trusts it: the certificate as its CA. */
async function tlsServer(t: Teardown) {
  const server = await testServer(t, { tls: files, textPort: 0, webPort: 0 });
  const ca = fs.readFileSync(files.cert);
  return { server, ca, port: server.address.port, textPort: server.textAddress!.port, webPort: Number(new URL(server.pageUrl).port) };
}

/** GET over https, trusting `ca`; the status and body. */
function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (s: string) => (body += s));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

t.test("framed clients over TLS: the protocol's cases, with the certificate verified", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  for (const testCase of PROTOCOL_CASES) {
    t.test(testCase.name, async (t) => {
      const { ca, port } = await tlsServer(t);
      const options = { tls: { ca, servername: "localhost" } };
      await testCase.run(t, (name) => (name ? Peer.joined(t, port, name, options) : Peer.connect(t, port, options)));
    });
  }
});

t.test("a client that cannot verify the certificate refuses it; a plain client gets nowhere", async (t) => {
  const { port } = await tlsServer(t);
  const refused = await new Promise<Error>((resolve) => {
    const socket = tls.connect({ port, host: "127.0.0.1" }, () => resolve(new Error("connected")));
    socket.once("error", resolve);
    t.teardown(() => socket.destroy());
  });
  t.match(refused, { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "a self-signed certificate is refused without --ca or --insecure");
  const plain = await Peer.connect(t, port);
  plain.send({ type: "join", client_name: "plain" });
  await plain.expectClosed();
  t.same(plain.frames, [], "a plain-text client gets no frame from a TLS port");
});

t.test("the text port, the page and the WebSocket over TLS, in one conversation", async (t) => {
  const { server, ca, port, textPort, webPort } = await tlsServer(t);
  t.equal(server.pageUrl, `https://127.0.0.1:${webPort}/`);
  const framed = await Peer.joined(t, port, "framed", { tls: { ca, servername: "localhost" } });
  const text = await LinePeer.connect(t, textPort, { tls: true });
  await text.waitFor(/Your name: /);
  text.line("text");
  await text.waitFor(/Welcome, text!/);
  const web = await WsPeer.joined(t, `wss://localhost:${webPort}/ws`, "web", { ca });
  const onChatPort = await WsPeer.connect(t, `wss://localhost:${port}/ws`, { ca });
  onChatPort.send({ type: "join", client_name: "web2" });
  t.match(await onChatPort.next(), { type: "welcome", client_name: "web2" });
  await framed.drain();
  text.line("hello over TLS");
  t.match(await framed.next(), { type: "chat", client_name: "text", message: "hello over TLS" });
  t.match(await onChatPort.next(), { type: "chat", client_name: "text", message: "hello over TLS" });
  onChatPort.send({ type: "chat", message: "wss here" });
  await text.waitFor(/web2 >> wss here/);
  t.match(await web.next(), { type: "join", client_name: "web2" });
  t.match(await web.next(), { type: "chat", client_name: "text" });
  t.match(await web.next(), { type: "chat", client_name: "web2", message: "wss here" });
  for (const url of [`https://localhost:${webPort}/`, `https://localhost:${port}/`]) {
    const page = await httpsGet(url, ca);
    t.equal(page.status, 200, url);
    t.match(page.body, /<title>Chat<\/title>/);
  }
});

t.test("server.ts --tls-cert/--tls-key: the banner says https, and the options go together", async (t) => {
  const script = new Script(t, "server.ts", ["--port", "0", "--text-port", "0", "--db", ":memory:", "--tls-cert", files.cert, "--tls-key", files.key]);
  await script.waitFor(/^listening on 127\.0\.0\.1:\d+ \(TLS\)$/m, { ms: 60_000 });
  await script.waitFor(/^plain text on 127\.0\.0\.1:(\d+) \(openssl s_client -quiet -connect 127\.0\.0\.1:\1\)$/m); // not nc: that port speaks TLS
  await script.waitFor(/^open https:\/\/127\.0\.0\.1:\d+\/ in a browser$/m);
  script.child.kill("SIGTERM");
  t.match(await within(script.exited, "the server to stop", 30_000), { code: 0 });
  const alone = new Script(t, "server.ts", ["--port", "0", "--db", ":memory:", "--tls-cert", files.cert]);
  t.match(await within(alone.exited, "the refusal", 30_000), { code: 2 });
  t.match(alone.stderr, /--tls-cert and --tls-key go together/);
  const missing = new Script(t, "server.ts", ["--port", "0", "--db", ":memory:", "--tls-cert", "/nonexistent.pem", "--tls-key", files.key]);
  t.match(await within(missing.exited, "the refusal", 30_000), { code: 1 });
  t.match(missing.stderr, /Cannot use the TLS certificate or key/);
});

t.test("client.ts over TLS: --ca trusts the server's certificate, --tls alone refuses it and says why, --insecure accepts it", async (t) => {
  const server = await testServer(t, { tls: files });
  const port = String(server.address.port);
  const base = ["--host", "127.0.0.1", "--port", port, "--plain"];

  const trusted = new Script(t, "client.ts", [...base, "--ca", files.cert, "--name", "tina"]);
  await trusted.waitFor(/Welcome, tina!/);
  trusted.child.stdin.end();
  t.match(await trusted.exited, { code: 0 });

  const refused = new Script(t, "client.ts", [...base, "--tls", "--name", "ugo"]);
  t.match(await refused.exited, { code: 1 });
  t.match(refused.stderr, /certificate cannot be verified \(trust it with --ca FILE, or accept it with --insecure\)\.\n/);
  t.notMatch(refused.stderr, /Is it running/, "it is running: its certificate was refused");

  const plain = new Script(t, "client.ts", [...base, "--name", "wes"]);
  t.match(await plain.exited, { code: 1 });
  t.match(plain.stdout, /The server at 127\.0\.0\.1:\d+ did not let this client join: .*add --tls\./, "a hint, not 'connection lost'");
  t.notMatch(plain.stdout, /lost/);

  const insecure = new Script(t, "client.ts", [...base, "--insecure", "--name", "vera"]);
  await insecure.waitFor(/Welcome, vera!/);
  insecure.child.stdin.end();
  t.match(await insecure.exited, { code: 0 });
});
