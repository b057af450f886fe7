/**
 * A client the server puts out on purpose (issue 18, items 1 to 4): kicked or
 * banned from the lobby, banned when it comes back, or taken over by another
 * login. It does not reconnect by itself; it says who put it out, why, and
 * what can be done: line mode exits 1, the full screen goes back to the name
 * screen.
 */
import { render } from "ink-testing-library";
import t from "tap";
import { ChatApp } from "../client/view.js";
import { ChatClient, EXIT_FAILURE } from "../client/connection.js";
import { TEXTS } from "../common/catalogue.js";
import { FakeServer, welcome } from "./helpers/fake-server.js";
import { eventually, Script, testServer, within } from "./helpers/helpers.js";

type Tester = import("tap").Test;
const en = TEXTS.en;

/** A client joined under `name` (with its password, for an account). */
async function joined(t: Tester, port: number, name: string, password?: string): Promise<ChatClient> {
  const client = new ChatClient({ port, reconnect: false });
  t.teardown(() => client.close());
  await client.connect();
  await client.join(name, password);
  return client;
}

/** A server whose admin `ana` is logged in; resolves with the port and ana's client. */
async function withAdmin(t: Tester): Promise<{ port: number; ana: ChatClient }> {
  const { port } = (await testServer(t, { admins: ["ana"] })).address;
  const first = await joined(t, port, "ana");
  await first.register("ana password");
  await first.quit();
  return { port, ana: await joined(t, port, "ana", "ana password") };
}

/** A line-mode client (a pipe) joined under `name`; its input stays open, as a person's would. */
async function lineClient(t: Tester, port: number, name: string, lang = "en"): Promise<Script> {
  const script = new Script(t, "client.ts", ["--port", String(port), "--name", name, "--lang", lang]);
  await script.waitFor(lang === "en" ? /Welcome/ : /Bem-vindo/);
  return script;
}

t.test("line mode: a lobby kick ends the client with who and why, and it does not reconnect (item 1)", async (t) => {
  const { port, ana } = await withAdmin(t);
  const carla = await lineClient(t, port, "carla");
  ana.request({ type: "kick", target: "carla", reason: "bye" });
  t.match(await within(carla.exited, "carla's client to exit"), { code: EXIT_FAILURE });
  t.match(carla.stdout, /ana kicked you out of the server \(reason: bye\)\. Start the client again to come back\./);
  t.notMatch(carla.stdout, /Reconnect/, "no reconnection");
  t.notMatch(carla.stdout, /Connection to the server .* lost/, "not told as a lost connection");
});

t.test("line mode: a lobby ban says what is banned, in Portuguese too (items 2, 3)", async (t) => {
  const { port, ana } = await withAdmin(t);
  const dora = await lineClient(t, port, "dora", "pt");
  ana.request({ type: "ban", target: "dora", reason: "spam" });
  t.match(await within(dora.exited, "dora's client to exit"), { code: EXIT_FAILURE });
  t.match(dora.stdout, /ana baniu você do servidor \(motivo: spam\): este nome fica recusado até um admin retirar o banimento, e também convidados deste endereço\./);
  t.notMatch(dora.stdout, /Reconect/);
  const eva = new Script(t, "client.ts", ["--port", String(port), "--name", "eva", "--lang", "pt"]);
  t.match(await within(eva.exited, "eva's client to exit"), { code: EXIT_FAILURE }, "a new guest from that address");
  t.match(eva.stdout, /Convidados deste endereço estão banidos do servidor: daqui só entram nomes registrados/);
});

t.test("a ban met on reconnecting stops the retries, saying so (item 2)", async (t) => {
  const fake = await FakeServer.start(t);
  const dora = new Script(t, "client.ts", ["--port", String(fake.port), "--name", "dora"]);
  const first = await fake.connection(0);
  await first.next("join");
  first.send(welcome("dora"));
  await dora.waitFor(/Welcome, dora!/);
  first.socket.destroy();
  const again = await fake.connection(1);
  await again.next("join");
  again.send({ type: "error", code: "banned", message: 'The name "dora" is banned from the server', reason: "name" });
  t.match(await within(dora.exited, "dora's client to exit", 20_000), { code: EXIT_FAILURE });
  t.match(dora.stdout, /Could not rejoin after reconnecting: The name "dora" is banned from the server\./);
  t.equal(fake.connections.length, 2, "no further attempt");
});

t.test("full screen: kicked from the lobby, back to the name screen saying why; a name joins again (item 1)", async (t) => {
  const { port, ana } = await withAdmin(t);
  const client = new ChatClient({ port });
  t.teardown(() => client.close());
  await client.connect();
  const { stdin, lastFrame, unmount } = render(<ChatApp client={client} t={en} name="carla" />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  await eventually(() => /Welcome, carla!/.test(screen()), "the welcome");
  ana.request({ type: "kick", target: "carla", reason: "bye" });
  await eventually(() => /Chat: choose your name/.test(screen()), "the name screen");
  t.match(screen(), /ana kicked you out of the server \(reason: bye\)\. Type a name to join again\./);
  t.match(screen().split("\n")[0], /Not connected to 127\.0\.0\.1:\d+/, "the status says what is true");
  t.notMatch(screen(), /Connecting|reconnecting/);
  stdin.write("carla\r");
  await eventually(() => /Connected to .* as carla/.test(screen()), "joined again, by choice");
});

t.test("full screen: taken over by another login, back to the name screen; it does not pretend to reconnect (item 4)", async (t) => {
  const { port } = (await testServer(t)).address;
  const first = await joined(t, port, "bruno");
  await first.register("bruno password");
  await first.quit();
  const client = new ChatClient({ port, password: "bruno password" });
  t.teardown(() => client.close());
  await client.connect();
  const { lastFrame, unmount } = render(<ChatApp client={client} t={TEXTS.pt} name="bruno" />);
  t.teardown(unmount);
  const screen = () => lastFrame() ?? "";
  await eventually(() => /Bem-vindo\(a\), bruno!/.test(screen()), "the welcome");
  const other = await joined(t, port, "bruno", "bruno password");
  t.ok(other.joined);
  await eventually(() => /Chat: escolha seu nome/.test(screen()), "the name screen");
  t.match(screen(), /Você entrou de outro lugar: esta sessão foi encerrada\. Digite um nome para entrar de novo\./);
  t.match(screen().split("\n")[0], /Sem conexão com 127\.0\.0\.1:\d+/);
  t.notMatch(screen(), /Conectando|reconectando/);
});
