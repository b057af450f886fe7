/** Clients that share no code with the project: Python scripts in tests/peers/. */
import t from "tap";
import { testServer, within } from "./helpers/helpers.js";
import { NEEDS_PYTHON, python } from "./helpers/python.js";
import { Peer } from "./helpers/test-clients.js";

t.test("a client written from the protocol alone joins, sends, receives and quits", NEEDS_PYTHON, async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  const py = python("independent_client.py", [port, "py"]);
  t.match(await ana.next(), { type: "join", client_name: "py" });
  t.match(await ana.next(), { type: "chat", client_name: "py", message: "hello from python ✓" });
  t.match(await ana.next(), { type: "chat", client_name: "py", message: "psst", to: "ana" });
  ana.send({ type: "chat", message: "hi py" });
  const { code, stdout, stderr } = await within(py.done, "the Python client to finish");
  t.equal(code, 0, stderr);
  const received = stdout.trim().split("\n").map((line) => JSON.parse(line));
  t.match(received, [
    { type: "welcome", client_name: "py", users: ["ana", "py"] },
    { type: "list", users: ["ana", "py"] },
    { type: "chat", client_name: "ana", message: "hi py" },
  ]);
  t.match(await ana.next(), { type: "leave", client_name: "py", reason: "quit" });
});

t.test("the seed 000 client works unchanged: implicit join, its own broadcasts, strict reading", NEEDS_PYTHON, async (t) => {
  const { port } = (await testServer(t)).address;
  const ana = await Peer.joined(t, port, "ana");
  // It reads 3 frames: its welcome, its own message back, then ana's reply.
  const seed = python("seed_client.py", [port, "joao", "olá, mundo\nsegunda linha", 3]);
  t.match(await ana.next(), { type: "join", client_name: "joao" });
  t.match(await ana.next(), { type: "chat", client_name: "joao", message: "olá, mundo\nsegunda linha" });
  ana.send({ type: "chat", message: "oi joão" });
  const { code, stdout, stderr } = await within(seed.done, "the seed client to finish");
  t.equal(code, 0, stderr);
  t.match(stdout, /^joao: Welcome, joao! Online \(2\): ana, joao\njoao: olá, mundo\nsegunda linha\nana: oi joão\n$/);
});

t.test("the seed client under a taken name becomes Usuario0 and is told so", NEEDS_PYTHON, async (t) => {
  const { port } = (await testServer(t)).address;
  await Peer.joined(t, port, "ana");
  const seed = python("seed_client.py", [port, "ana", "hi", 2]);
  const { code, stdout, stderr } = await within(seed.done, "the seed client to finish");
  t.equal(code, 0, stderr);
  t.match(stdout, /^Usuario0: The name "ana" is already in use; you are Usuario0\nUsuario0: hi\n$/);
});
