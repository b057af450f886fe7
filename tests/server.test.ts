import t from "tap";
import { encode, MAX_BODY_BYTES } from "../protocol.js";
import { testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

t.test("joining", async (t) => {
  t.test("welcomes with the granted name and who is online, and tells the others", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = await Peer.joined(t, port, "ana");
    const bruno = await Peer.connect(t, port);
    bruno.send({ type: "join", client_name: "bruno" });
    t.match(await bruno.next(), { type: "welcome", client_name: "bruno", users: ["ana", "bruno"], message: /bruno/ });
    t.match(await ana.next(), { type: "join", client_name: "bruno", message: "bruno joined" });
    t.same(await bruno.drain(), [], "the newcomer gets no notice of its own join");
  });

  t.test("an empty or missing name gets the next free Usuario<N>", async (t) => {
    const { port } = (await testServer(t)).address;
    const names: string[] = [];
    const peers: Peer[] = [];
    for (const request of [{ client_name: "" }, {}, { client_name: "" }]) {
      const peer = await Peer.connect(t, port);
      peer.send({ type: "join", ...request });
      names.push((await peer.next()).client_name);
      peers.push(peer);
    }
    t.same(names, ["Usuario0", "Usuario1", "Usuario2"]);
    peers[1]!.send({ type: "quit" });
    await peers[1]!.expectClosed();
    await peers[0]!.drain(); // the leave has been handled
    const again = await Peer.connect(t, port);
    again.send({ type: "join" });
    t.equal((await again.next()).client_name, "Usuario1", "a freed number is reused");
  });

  t.test("refuses invalid and taken names, and lets the client try again", async (t) => {
    const { port } = (await testServer(t)).address;
    await Peer.joined(t, port, "Ana");
    const peer = await Peer.connect(t, port);
    for (const [name, code] of [
      ["ana maria", "name_invalid"],
      ["x".repeat(33), "name_invalid"],
      ["ana!", "name_invalid"],
      ["ANA", "name_taken"],
      ["server", "name_invalid"],
    ]) {
      peer.send({ type: "join", client_name: name });
      t.match(await peer.next(), { type: "error", code, client_name: "server" }, `${name}: ${code}`);
    }
    peer.send({ type: "join", client_name: "Ana_2" });
    t.match(await peer.next(), { type: "welcome", client_name: "Ana_2" });
    peer.send({ type: "join", client_name: "other" });
    t.match(await peer.next(), { type: "error", code: "bad_message", message: /Already joined as Ana_2/ });
  });

  t.test("before joining, only join, ping and quit are allowed", async (t) => {
    const { port } = (await testServer(t)).address;
    const peer = await Peer.connect(t, port);
    peer.send({ type: "ping" });
    t.match(await peer.next(), { type: "pong" });
    for (const type of ["chat", "list"] as const) {
      peer.send({ type, message: "hi" });
      t.match(await peer.next(), { type: "error", code: "not_joined" }, type);
    }
    peer.send({ type: "quit" });
    await peer.expectClosed();
  });
});

t.test("chatting", async (t) => {
  t.test("a message reaches every other joined client once, stamped by the server", async (t) => {
    const server = await testServer(t);
    const { port } = server.address;
    const [ana, bruno, carla] = [await Peer.joined(t, port, "ana"), await Peer.joined(t, port, "bruno"), await Peer.joined(t, port, "carla")];
    const lurker = await Peer.connect(t, port);
    await ana.drain();
    await bruno.drain();
    const before = Date.now();
    ana.send({ type: "chat", client_name: "carla", date: "1999-01-01T00:00:00Z", subject: "Provas", message: "olá\n🎉" });
    for (const peer of [bruno, carla]) {
      const got = await peer.next();
      t.match(got, { type: "chat", client_name: "ana", subject: "Provas", message: "olá\n🎉" });
      t.ok(Date.parse(got.date) >= before - 1000, "the server's clock, not the client's claim");
      t.notOk("to" in JSON.parse(JSON.stringify(got)), "a broadcast has no recipient");
    }
    t.same(await ana.drain(), [], "the sender does not get its own message back");
    t.same(await lurker.drain(), [], "a connection that has not joined gets nothing");
  });

  t.test("a private message reaches only its recipient", async (t) => {
    const { port } = (await testServer(t)).address;
    const [ana, bruno, carla] = [await Peer.joined(t, port, "ana"), await Peer.joined(t, port, "Bruno"), await Peer.joined(t, port, "carla")];
    await ana.drain();
    await bruno.drain();
    ana.send({ type: "chat", to: "bruno", message: "segredo" });
    t.match(await bruno.next(), { type: "chat", client_name: "ana", to: "Bruno", message: "segredo" });
    t.same(await carla.drain(), []);
    t.same(await ana.drain(), []);
    ana.send({ type: "chat", to: "zed", message: "hello?" });
    t.match(await ana.next(), { type: "error", code: "unknown_recipient", message: /zed/ });
    ana.send({ type: "chat", to: "", message: "empty to is everyone" });
    t.match(await carla.next(), { message: "empty to is everyone" });
  });

  t.test("list answers the sorted names", async (t) => {
    const { port } = (await testServer(t)).address;
    const carla = await Peer.joined(t, port, "carla");
    await Peer.joined(t, port, "Ana");
    await Peer.joined(t, port, "bruno");
    await carla.drain();
    carla.send({ type: "list" });
    t.match(await carla.next(), { type: "list", users: ["Ana", "bruno", "carla"], message: "Online (3): Ana, bruno, carla" });
  });

  t.test("a message too long to deliver once stamped is refused, and the connection goes on", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = await Peer.joined(t, port, "ana");
    const bruno = await Peer.joined(t, port, "bruno");
    await ana.drain();
    const emptyChat = encode({ type: "chat", message: "" });
    const emptyChatBytes = emptyChat.length - emptyChat.indexOf("\n") - 1;
    const text = "x".repeat(MAX_BODY_BYTES - emptyChatBytes);
    ana.send({ type: "chat", message: text }); // fits as sent; not with the server's fields added
    t.match(await ana.next(), { type: "error", code: "bad_message", message: /too long/ });
    t.same(await bruno.drain(), []);
    ana.send({ type: "chat", message: "short" });
    t.match(await bruno.next(), { message: "short" });
  });
});

t.test("leaving", async (t) => {
  t.test("quit closes the connection and the others see leave with reason quit", async (t) => {
    const server = await testServer(t);
    const { port } = server.address;
    const ana = await Peer.joined(t, port, "ana");
    const bruno = await Peer.joined(t, port, "bruno");
    bruno.send({ type: "quit" });
    await bruno.expectClosed();
    t.match(await ana.next(), { type: "join", client_name: "bruno" });
    t.match(await ana.next(), { type: "leave", client_name: "bruno", reason: "quit", message: "bruno left (quit)" });
    t.same(server.users, ["ana"]);
  });

  t.test("an abrupt disconnect is a leave with reason lost, seen at once", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = await Peer.joined(t, port, "ana");
    const bruno = await Peer.joined(t, port, "bruno");
    await ana.drain();
    bruno.socket.destroy();
    t.match(await ana.next(), { type: "leave", client_name: "bruno", reason: "lost" });
    const again = await Peer.joined(t, port, "bruno");
    t.ok(again, "the name is free again");
  });

  t.test("close() tells every client server_shutdown and closes every socket", async (t) => {
    const server = await testServer(t);
    const { port } = server.address;
    const ana = await Peer.joined(t, port, "ana");
    const idle = await Peer.connect(t, port);
    await ana.drain();
    const closing = server.close();
    t.match(await ana.next(), { type: "error", code: "server_shutdown" });
    t.match(await idle.next(), { type: "error", code: "server_shutdown" });
    await Promise.all([ana.expectClosed(), idle.expectClosed(), closing]);
    await t.rejects(Peer.connect(t, port), { code: "ECONNREFUSED" }, "the port is released");
  });
});

t.test("bad input", async (t) => {
  t.test("a bad header gets an error and closes that connection only", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = await Peer.joined(t, port, "ana");
    const bad = await Peer.joined(t, port, "bad");
    await ana.drain();
    bad.send("GET / HTTP/1.1\r\n\r\n");
    t.match(await bad.next(), { type: "error", code: "bad_header" });
    await bad.expectClosed();
    t.match(await ana.next(), { type: "leave", client_name: "bad", reason: "protocol_error" });
    const bruno = await Peer.joined(t, port, "bruno");
    ana.send({ type: "chat", message: "still here" });
    t.match(await bruno.next(), { message: "still here" });
  });

  t.test("a declared length over the limit gets frame_too_large and a close", async (t) => {
    const { port } = (await testServer(t, { maxBodyBytes: 1000 })).address;
    const peer = await Peer.connect(t, port);
    peer.send("Content-length: 1001\n");
    t.match(await peer.next(), { type: "error", code: "frame_too_large", message: /1001 bytes exceeds the limit of 1000/ });
    await peer.expectClosed();
  });

  t.test("bad JSON, wrong field types and unknown types are answered and the connection goes on", async (t) => {
    const { port } = (await testServer(t)).address;
    const peer = await Peer.joined(t, port, "ana");
    const cases: Array<[string, string]> = [
      ["{oops", "bad_json"],
      ["[1]", "bad_json"],
      ['{"type":"chat","message":42}', "bad_message"],
      ['{"type":"teleport"}', "unknown_type"],
      ['{"type":"welcome"}', "unknown_type"],
      ['{"type":"chat"}', "bad_message"],
    ];
    for (const [body, code] of cases) {
      peer.send(`Content-length: ${Buffer.byteLength(body)}\n${body}`);
      t.match(await peer.next(), { type: "error", code }, body);
    }
    peer.send({ type: "ping" });
    t.match(await peer.next(), { type: "pong" });
  });

  t.test("a client that stops reading is cut off with reason slow; readers get every message", async (t) => {
    const { port } = (await testServer(t, { slowReaderTimeoutMs: 300, rateLimit: 0 })).address;
    const talker = await Peer.joined(t, port, "talker");
    const reader = await Peer.joined(t, port, "reader");
    const sleeper = await Peer.joined(t, port, "sleeper");
    await talker.drain();
    await reader.drain();
    sleeper.socket.pause();
    const text = "z".repeat(60_000);
    const count = 400; // 24 MB: more than any loopback socket buffer holds
    let received = 0;
    let leave: unknown;
    const readAll = (async () => {
      while (received < count) {
        const msg = await reader.next();
        if (msg.type === "chat") received++;
        else if (msg.type === "leave") leave = msg;
      }
    })();
    for (let i = 0; i < count; i++) talker.send({ type: "chat", message: text });
    await readAll;
    t.equal(received, count, "the reading client got every message");
    if (!leave) leave = await reader.next();
    t.match(leave, { type: "leave", client_name: "sleeper", reason: "slow" });
    sleeper.socket.resume();
    await sleeper.expectClosed();
  });

  t.test("huge names, recipients and types are quoted short in the errors, and the server stays up", async (t) => {
    const { port } = (await testServer(t)).address;
    const peer = await Peer.connect(t, port);
    const huge = "ж".repeat(30_000);
    peer.send({ type: "join", client_name: huge });
    t.match(await peer.next(), { type: "error", code: "name_invalid", message: /: "ж{40}…"$/ });
    peer.send({ type: "join", client_name: "ana" });
    await peer.next();
    peer.send({ type: "chat", to: huge, message: "hi" });
    t.match(await peer.next(), { type: "error", code: "unknown_recipient", message: /^No user named "ж{40}…" is online$/ });
    const body = `{"type":"${"x".repeat(60_000)}"}`;
    peer.send(`Content-length: ${body.length}\n${body}`);
    t.match(await peer.next(), { type: "error", code: "unknown_type", message: /"x{40}…"$/ });
    peer.send({ type: "ping" });
    t.match(await peer.next(), { type: "pong" });
  });

  t.test("a user list too long for one frame is cut short, with the count", async (t) => {
    const { port } = (await testServer(t, { rateLimit: 0 })).address;
    // 32 characters, 88 bytes each: a few hundred fill a frame.
    const name = (i: number) => `${String(i).padStart(4, "0")}${"漢".repeat(28)}`;
    const peers: Peer[] = [];
    for (let i = 0; i < 400; i += 100) {
      peers.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => Peer.joined(t, port, name(i + j))))));
    }
    const last = peers.at(-1)!;
    last.send({ type: "list" });
    let list = await last.next();
    while (list.type !== "list") list = await last.next();
    t.equal(list.count, 400);
    const shown = list.users!.length;
    t.ok(shown > 200 && shown < 400, `${shown} names fit`);
    t.same(list.users, Array.from({ length: shown }, (_, i) => name(i)), "the first ones, sorted");
    t.match(list.message, new RegExp(`^Online \\(400\\): 0000漢+, .*, and ${400 - shown} more$`));
  });

  t.test("a seed client's trailing newline counted in the length is accepted", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = await Peer.joined(t, port, "ana");
    const body = JSON.stringify({ type: "ping" }) + "\n";
    ana.send(`Content-length:${Buffer.byteLength(body)}\n${body}`);
    t.match(await ana.next(), { type: "pong" });
  });
});

t.test("seed Message without type (the original client)", async (t) => {
  t.test("joins implicitly under its client_name, is delivered, and gets its own broadcasts", async (t) => {
    const { port } = (await testServer(t)).address;
    const ana = await Peer.joined(t, port, "ana");
    const seed = await Peer.connect(t, port);
    seed.send({ client_name: "joao", subject: "", message: "oi", date: "01/01/2024 10:00:00" } as never);
    t.match(await seed.next(), { type: "welcome", client_name: "joao" });
    t.match(await seed.next(), { type: "chat", client_name: "joao", message: "oi" });
    t.match(await ana.next(), { type: "join", client_name: "joao" });
    t.match(await ana.next(), { type: "chat", client_name: "joao", message: "oi" });
    seed.send({ client_name: "ana", subject: "", message: "pretending", date: "" } as never);
    t.match(await ana.next(), { client_name: "joao", message: "pretending" }, "keeps the name whatever later frames claim");
  });

  t.test("a refused name falls back to Usuario<N>, and the client is told so", async (t) => {
    const { port } = (await testServer(t)).address;
    await Peer.joined(t, port, "ana");
    const seed = await Peer.connect(t, port);
    seed.send({ client_name: "ana", subject: "", message: "oi", date: "" } as never);
    t.match(await seed.next(), { type: "welcome", client_name: "Usuario0", message: /"ana" is already in use; you are Usuario0/ });
    t.match(await seed.next(), { type: "chat", client_name: "Usuario0", message: "oi" });
  });
});

t.test("one write per turn: receivers whose turns differ each get exactly their own frames, in order", async (t) => {
  // One TCP write from the sender: its frames are handled in one turn, and every
  // receiver's frames of that turn go out joined. Six receivers get the same
  // broadcasts with a different private between them: more variants beginning
  // with the same frame than the server shares (MAX_SHARED_VARIANTS).
  const { port } = (await testServer(t, { rateLimit: 0 })).address;
  const sender = await Peer.joined(t, port, "sender");
  const names = ["r1", "r2", "r3", "r4", "r5", "r6", "plain"];
  const readers: Peer[] = [];
  for (const name of names) readers.push(await Peer.joined(t, port, name));
  await Promise.all([sender, ...readers].map((peer) => peer.drain()));
  const frames = [
    encode({ type: "chat", message: "first" }),
    ...names.slice(0, 6).map((name) => encode({ type: "chat", to: name, message: `for ${name}` })),
    encode({ type: "chat", message: "last" }),
  ];
  sender.send(Buffer.concat(frames));
  for (const [i, reader] of readers.entries()) {
    const got = (await reader.drain()).map((msg) => msg.message);
    const expected = names[i] === "plain" ? ["first", "last"] : ["first", `for ${names[i]}`, "last"];
    t.same(got, expected, `${names[i]} got its frames and no one else's`);
  }
});
