/** Password checks are shared and slow: no one address can take them all, and a busy server is not a wrong password. */
import { once } from "node:events";
import net from "node:net";
import t from "tap";
import { Decoder, encode, type Message, type MessageFields } from "../protocol.js";
import { startServer } from "../server/chat-server.js";
import {
  FAILED_LOGIN_WINDOW_MS,
  hashPassword,
  MAX_FAILED_LOGINS,
  MAX_PACED_CHECK_WAIT_MS,
  MAX_REGISTRATIONS_PER_ADDRESS,
  NAME_FAILURES_BEFORE_PACING,
  NamePacing,
  PACED_CHECK_INTERVAL_MS,
} from "../server/passwords.js";
import { MemoryStore } from "../server/store.js";

/** Costly enough that checks queue up behind each other, as they do at the real cost. */
const COST = 14;
const FLOODERS = 12;
const PASSWORD = "right password";

/** Connects from `from` (any 127.x address is this machine), sends `frames`, resolves with the first answer. */
async function ask(port: number, from: string, ...frames: MessageFields[]): Promise<Message> {
  const socket = net.connect({ port, host: "127.0.0.1", localAddress: from });
  socket.on("error", () => {});
  await once(socket, "connect");
  const decoder = new Decoder();
  for (const frame of frames) socket.write(encode(frame));
  try {
    for (;;) {
      const [chunk] = (await once(socket, "data")) as [Buffer];
      const [first] = decoder.push(chunk) as Message[];
      if (first) return first;
    }
  } finally {
    socket.destroy();
  }
}

const login = (port: number, from: string, name: string) => ask(port, from, { type: "join", client_name: name, password: PASSWORD });

async function serverWith(t: { teardown(fn: () => unknown): void }, names: string[]) {
  const store = new MemoryStore();
  const passwordHash = await hashPassword(PASSWORD, COST);
  for (const name of names) await store.createAccount({ key: name, name, passwordHash, created: new Date().toISOString() });
  const server = await startServer({ port: 0, store, passwordCostLog2: COST, rateLimit: 0 });
  t.teardown(() => server.close());
  return server.address.port;
}

t.test("connections from one address logging in over and over leave room for everyone else's logins", async (t) => {
  const flooders = Array.from({ length: FLOODERS }, (_, i) => `flood${i}`);
  const port = await serverWith(t, [...flooders, "honest"]);
  let flooding = true;
  const floods = flooders.map(async (name) => {
    for (let round = 0; flooding && round < 200; round++) await login(port, "127.0.0.1", name);
  });
  const answers: string[] = [];
  for (let i = 0; i < 5; i++) answers.push((await login(port, "127.0.0.2", "honest")).type);
  flooding = false;
  await Promise.all(floods);
  t.same(answers, Array(5).fill("welcome"), "the honest user got in every time");
});

t.test("a login refused because the checks are busy is not a wrong password: the right one still gets in", async (t) => {
  const port = await serverWith(t, ["ana"]);
  const answers = await Promise.all(Array.from({ length: MAX_FAILED_LOGINS * 2 }, () => login(port, "127.0.0.1", "ana")));
  const codes = answers.map((answer) => answer.code ?? answer.type);
  t.ok(codes.includes("busy"), "more at once than one address may have checked: some are told busy");
  t.notOk(codes.includes("too_many_attempts"), "none is counted as a wrong password");
  t.match(await login(port, "127.0.0.1", "ana"), { type: "welcome" });
});

t.test("one address registers at most MAX_REGISTRATIONS_PER_ADDRESS accounts in a while; others still can", async (t) => {
  const server = await startServer({ port: 0, passwordCostLog2: 4, rateLimit: 0 });
  t.teardown(() => server.close());
  const { port } = server.address;
  const results: string[] = [];
  for (let i = 0; i <= MAX_REGISTRATIONS_PER_ADDRESS; i++) results.push(await askRegistered(port, "127.0.0.1", `user${i}`));
  t.same(results.slice(0, MAX_REGISTRATIONS_PER_ADDRESS), Array(MAX_REGISTRATIONS_PER_ADDRESS).fill("registered"));
  t.equal(results[MAX_REGISTRATIONS_PER_ADDRESS], "too_many_attempts");
  t.equal(await askRegistered(port, "127.0.0.3", "elsewhere"), "registered", "another address is not held back");
});

/** Joins as `name` from `from`, registers, and resolves with the registration's answer: `registered` or the error code. */
async function askRegistered(port: number, from: string, name: string): Promise<string> {
  const socket = net.connect({ port, host: "127.0.0.1", localAddress: from });
  socket.on("error", () => {});
  await once(socket, "connect");
  const decoder = new Decoder();
  socket.write(encode({ type: "join", client_name: name }));
  socket.write(encode({ type: "register", password: PASSWORD }));
  try {
    for (;;) {
      const [chunk] = (await once(socket, "data")) as [Buffer];
      for (const frame of decoder.push(chunk) as Message[]) {
        if (frame.type === "registered") return "registered";
        if (frame.type === "error") return frame.code ?? "error";
      }
    }
  } finally {
    socket.destroy();
  }
}

t.test("NamePacing: past a name's free failures, checks from new addresses take turns further apart; known addresses never wait", async (t) => {
  let now = 1_000_000;
  const pacing = new NamePacing(() => now);
  pacing.succeed("ana", "10.0.0.1");
  for (let i = 0; i < NAME_FAILURES_BEFORE_PACING - 1; i++) pacing.fail("ana");
  t.equal(pacing.turn("ana", "10.9.9.9"), 0, "under the threshold: no wait");
  pacing.fail("ana");
  t.same([pacing.turn("ana", "10.9.9.1"), pacing.turn("ana", "10.9.9.2"), pacing.turn("ana", "10.9.9.3")], [0, 1, 2].map((i) => i * PACED_CHECK_INTERVAL_MS), "parallel guesses wait one behind another");
  t.equal(pacing.turn("ana", "10.0.0.1"), 0, "the owner's known address does not wait");
  t.equal(pacing.turn("bia", "10.9.9.1"), 0, "another name is not paced");
  for (let i = 0; i < NAME_FAILURES_BEFORE_PACING; i++) pacing.fail("ana");
  now += 10 * PACED_CHECK_INTERVAL_MS; // past the turns taken above, well within the window
  t.same([pacing.turn("ana", "10.9.9.4"), pacing.turn("ana", "10.9.9.5")], [0, 2 * PACED_CHECK_INTERVAL_MS], "twice the failures, twice the spacing");
  let turns = 0;
  while (turns < 1000 && pacing.turn("ana", "10.9.9.6") !== undefined) turns++; // bounded: a bug must fail, not hang
  t.ok(turns <= MAX_PACED_CHECK_WAIT_MS / (2 * PACED_CHECK_INTERVAL_MS) + 1, "a turn too far off is refused (busy), not queued without end");
  now += FAILED_LOGIN_WINDOW_MS + 1;
  t.equal(pacing.turn("ana", "10.9.9.7"), 0, "failures older than the window are forgotten");
});

t.test("guesses at one name from many addresses are spaced out, and the owner at a known address gets in at once", async (t) => {
  const port = await serverWith(t, ["ana"]);
  t.match(await login(port, "127.0.0.2", "ana"), { type: "welcome" }, "the owner logs in from home once");
  const guess = (from: string) => ask(port, from, { type: "join", client_name: "ana", password: "a wrong guess" });
  // One wrong guess from each of many addresses: no address reaches its own limit.
  for (let i = 0; i < NAME_FAILURES_BEFORE_PACING; i++) t.match(await guess(`127.0.1.${i + 1}`), { code: "bad_password" });
  const started = Date.now();
  const guesses = [guess("127.0.2.1"), guess("127.0.2.2"), guess("127.0.2.3")].map((answer) => answer.then(() => Date.now() - started));
  const owner = login(port, "127.0.0.2", "ana").then((answer) => ({ answer, after: Date.now() - started }));
  const times = await Promise.all(guesses);
  const { answer, after } = await owner;
  t.match(answer, { type: "welcome" }, "the owner is not locked out");
  t.ok(Math.max(...times) >= 2 * PACED_CHECK_INTERVAL_MS * 0.9, `the third guess waited its turn (${Math.max(...times)} ms)`);
  t.ok(after < Math.max(...times), `the owner at a known address did not wait behind them (${after} ms)`);
});
