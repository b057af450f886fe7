/**
 * The client script against the real server, end to end: delivery (echoes,
 * flow control, lines not delivered), accounts across a restart, history.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";
import { EXIT_UNDELIVERED } from "../client/connection.js";
import { startServer } from "../server/chat-server.js";
import { PARALLEL_SUBTESTS, Script, testServer, within } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

/** This machine can be busy: a child process may take many seconds to start. */
const SLOW = { ms: 60_000 };

// These need the server's version 2 (echo, flow control, accounts, history).
t.test("against the real server", async (t) => {
  t.jobs = PARALLEL_SUBTESTS;
  t.test("50 piped lines all arrive in order, each shown once the server took it, exit 0", async (t) => {
    const { port } = (await testServer(t)).address;
    const bruno = await Peer.joined(t, port, "bruno");
    const lines = Array.from({ length: 50 }, (_, i) => `msg ${i + 1}`);
    const dora = new Script(t, "client.ts", ["--port", String(port), "--name", "dora"]);
    await dora.waitFor(/Welcome, dora!/, SLOW);
    lines.forEach((line) => dora.type(line));
    dora.child.stdin.end();
    t.match(await within(dora.exited, "the client to exit", 60_000), { code: 0 });
    const got: string[] = [];
    while (got.length < 50) {
      const msg = await bruno.next();
      if (msg.type === "chat") got.push(msg.message);
    }
    t.same(got, lines);
    t.equal(dora.stdout.match(/you \[No subject\]: msg \d+/g)?.length, 50);
  });

  t.test("a private line to a name not online is marked not delivered, and exit code 2", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
    await ana.waitFor(/Welcome, ana!/, SLOW);
    ana.type("@zed hi");
    ana.child.stdin.end();
    t.match(await ana.exited, { code: EXIT_UNDELIVERED });
    t.match(ana.stdout, /✗ "hi": Not delivered: zed is not online\./);
  });

  t.test("register; across a restart on the same database the client logs back in; the name needs its password; the history comes back", async (t) => {
    const db = path.join(mkdtempSync(path.join(tmpdir(), "chat-client-")), "chat.db");
    t.teardown(() => rmSync(path.dirname(db), { recursive: true, force: true }));
    const first = await startServer({ port: 0, db });
    const { port } = first.address;
    const ana = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
    await ana.waitFor(/Welcome, ana!/, SLOW);
    ana.type("/register");
    ana.type("a good password");
    ana.type("a good password");
    await ana.waitFor(/The name ana is now registered/, SLOW);
    ana.type("remember this");
    await ana.waitFor(/you \[No subject\]: remember this/, SLOW);

    await first.close();
    await testServer(t, { port, db });
    await ana.waitFor(/Reconnected as ana/, SLOW);
    ana.child.stdin.end();
    t.match(await ana.exited, { code: 0 });

    const stranger = new Script(t, "client.ts", ["--port", String(port), "--name", "ana"]);
    stranger.child.stdin.end();
    t.not((await stranger.exited).code, 0, "no password: not joined");
    t.match(stranger.stdout, /registered: its password is needed/);

    const back = new Script(t, "client.ts", ["--port", String(port), "--name", "ana", "--password", "a good password"]);
    await back.waitFor(/— earlier messages —\n.*you \[No subject\]: remember this/, SLOW);
    await back.waitFor(/Welcome, ana!/, SLOW);
    back.child.stdin.end();
    t.match(await back.exited, { code: 0 });
  });

  t.test("private messages sent to an account while it was away arrive at its next login, as private lines", async (t) => {
    const { port } = (await testServer(t)).address;
    const owner = await Peer.joined(t, port, "dora");
    owner.send({ type: "register", password: "dora's password" });
    let answer = await owner.next();
    while (answer.type !== "registered") answer = await owner.next();
    owner.send({ type: "quit" });
    await owner.expectClosed();
    const bruno = await Peer.joined(t, port, "bruno");
    bruno.send({ type: "chat", to: "dora", message: "while you were away", ref: "1" });
    t.same((await bruno.drain()).filter((m) => m.type === "error"), [], "accepted for an account that is offline");
    const dora = new Script(t, "client.ts", ["--port", String(port), "--name", "dora"], { CHAT_PASSWORD: "dora's password" });
    await dora.waitFor(/bruno → you \(private\) \[No subject\]: while you were away/, SLOW);
    t.match(dora.stdout, /— earlier messages —\n\[[^\]]+\] bruno → you \(private\)/);
    dora.child.stdin.end();
    t.match(await dora.exited, { code: 0 });
  });
});
