/**
 * The plain-text port reads lines with the terminal client's grammar: every
 * command its /help lists answers there, over a real socket.
 */
import t from "tap";
import { COMMAND_WORDS } from "../common/commands.js";
import { TEXT_HELP } from "../server/gateway-text.js";
import type { Message } from "../protocol.js";
import { LinePeer, Peer } from "./helpers/test-clients.js";
import { testServer } from "./helpers/helpers.js";

/** The next chat a framed peer receives, past notices. */
async function nextChat(peer: Peer): Promise<Message> {
  for (;;) {
    const msg = await peer.next();
    if (msg.type === "chat") return msg;
  }
}

/** The command word that opens each entry of a help text (`  /join #room ...`, after a column gap, or after ", "). */
function entryWords(help: string): string[] {
  return [...help.matchAll(/(?:^ {2}|\S {2,}|, )\/([^\s/,()]+)/gm)].map((m) => m[1]!.toLowerCase());
}

t.test("the text port's help lists each command once, and only commands of the grammar", async (t) => {
  const entries = entryWords(TEXT_HELP);
  const known = new Set<string>(Object.values(COMMAND_WORDS).flat());
  t.same(entries.filter((word, i) => entries.indexOf(word) !== i), [], "no command listed twice");
  t.same(entries.filter((word) => !known.has(word)), [], "every entry is a command the grammar reads");
  const kinds = Object.entries(COMMAND_WORDS).filter(([, words]) => !words.some((word) => entries.includes(word)));
  t.same(kinds.map(([kind]) => kind), [], "every command of the grammar is listed");
  t.match(TEXT_HELP, /^ {2}#room text/m, "and the port's own #room text");
});

t.test("every command the text port's help lists answers there", async (t) => {
  const server = await testServer(t, { textPort: 0, passwordCostLog2: 10 });
  const port = server.address.port;
  const bruno = await Peer.joined(t, port, "bruno");
  bruno.send({ type: "register", password: "correct horse" });
  t.match(await bruno.next(), { type: "registered" });
  const ana = await LinePeer.joined(t, server.textAddress!.port, "ana");
  const say = async (line: string, answer: RegExp) => {
    ana.line(line);
    t.ok(await ana.waitFor(answer), `${line} → ${answer}`);
  };

  await say("/help", /^ {2}\/friends +your friends/m);
  await say("/register", /\/register needs the password: \/register password/);
  await say("/registrar long enough", /The name ana is now/);
  await say("/assunto Provas", /Subject of your next messages: Provas/);
  await say("/users", /^Online \(2\): ana, bruno$/m);
  ana.line("hello before");
  t.match(await nextChat(bruno), { message: "hello before", subject: "Provas" });
  await say("/historico", /^\[\d\d:\d\d\] ana >> \[Provas\] hello before$/m);

  await say("/join #provas", /You are in #provas\. Members \(1\): @ana/);
  bruno.send({ type: "enter", room: "#provas" });
  await ana.waitFor(/\*\*\* bruno joined #provas/);
  await say("/quem", /^#provas \(2\): @ana, bruno$/m);
  await say("/who #general", /^Online \(2\): ana, bruno$/m);
  await say("/topico Exams on Friday", /\*\*\* you set the topic of #provas: Exams on Friday/);
  await say("/op bruno", /you made bruno an operator of #provas/);
  await say("/deop bruno", /you removed bruno as operator of #provas/);
  await say("/silenciar bruno", /you muted bruno in #provas/);
  await say("/liberar bruno", /you unmuted bruno in #provas/);
  await say("/expulsar bruno flooding", /you kicked bruno out of #provas \(reason: flooding\)/);
  await say("/banir bruno", /you banned bruno from #provas/);
  await say("/desbanir bruno", /you lifted the ban on bruno in #provas/);
  await say("/convidar bruno", /you invited bruno to #provas/);
  await say("/rooms", /^Rooms: #general \(2\), #provas \(1\)/m);

  await say("/sala #general", /Now talking in #general\./);
  await say("/room #nowhere", /You are not in #nowhere: \/join #nowhere first\./);
  await say("/room #provas", /Now talking in #provas\./);
  ana.line("#general to the lobby");
  t.match(await nextChat(bruno), { room: "#general", message: "to the lobby" });
  await say("/deixar", /You left #provas\./);
  await say("/part", /Everyone stays in #general: \/quit leaves the chat\./);

  await say("/amigo bruno", /Friend request sent to bruno\./);
  bruno.send({ type: "friend", target: "ana" });
  await ana.waitFor(/You and bruno are now friends\./);
  await say("/amigos", /^Friends: bruno \(online\)$/m);
  await say("/desamigo bruno", /You and bruno are no longer friends\./);

  ana.line("@bruno psst");
  t.match(await nextChat(bruno), { to: "bruno", message: "psst" });
  ana.line("/bruno seed style");
  t.match(await nextChat(bruno), { to: "bruno", message: "seed style" });
  ana.line("//slash");
  t.match(await nextChat(bruno), { message: "/slash" });
  await say("/kick", /\/kick needs a name: \/kick name/);
  await say("/xyz", /Unknown command \/xyz\. Type \/help\./);
  ana.line("/exit");
  await ana.expectClosed();
});

t.test("lines sent at once after /join go to the room it enters, and after /part back to the lobby, as in the terminal client", async (t) => {
  const server = await testServer(t, { textPort: 0 });
  const bruno = await Peer.joined(t, server.address.port, "bruno");
  bruno.send({ type: "enter", room: "#provas" });
  while ((await bruno.next()).type !== "entered");
  const ana = await LinePeer.joined(t, server.textAddress!.port, "ana");
  // One write, as a pipe delivers it: nothing waits for the server's answers in between.
  ana.socket.write("/join #provas\nhello in provas\n/part\nhello lobby\n");
  t.match(await nextChat(bruno), { message: "hello in provas", room: "#provas" });
  const lobby = await nextChat(bruno);
  t.match(lobby, { message: "hello lobby" });
  t.not(lobby.room, "#provas", "to the lobby, not the room just left");
});
