/** The real client in a real pseudo-terminal (tmux), against a real server: what a person sees. */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import t from "tap";
import { eventually, ROOT, scriptNodeArgs, scriptEnvironment, testServer } from "./helpers/helpers.js";
import { Peer } from "./helpers/test-clients.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const socket = `chat-test-${process.pid}`;
/** The tmux server starts with the first command's environment: the client it runs gets it too. */
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8", env: scriptEnvironment() });
const screen = () => tmux("capture-pane", "-p", "-t", "chat");
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

t.test("the full-screen client in a terminal", { skip: hasTmux ? false : "tmux is not installed: apt-get install tmux (.ci/run does)" }, async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  // ink draws only a final frame when it believes it runs in CI: this is a terminal, so say it is not.
  const command = ["env", "CI=false", process.execPath, ...scriptNodeArgs("client.ts"), "--port", String(port), "--name", "ana"];
  tmux("-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "100", "-y", "24", "-c", ROOT, command.map(shellQuote).join(" "));
  tmux("set-option", "-t", "chat", "window-size", "manual");
  t.teardown(() => spawnSync("tmux", ["-L", socket, "kill-server"]));

  await eventually(() => /Welcome, ana! Online \(2\): ana, bruno/.test(screen()), "the welcome", 30_000);
  t.match(screen(), /Connected to 127\.0\.0\.1:\d+ as ana/, "the status line");
  t.match(screen(), /Online \(2\)/, "the sidebar");
  t.match(await bruno.next(), { type: "join", client_name: "ana" });

  tmux("send-keys", "-t", "chat", "hello from a terminal", "Enter");
  t.match(await bruno.next(), { type: "chat", client_name: "ana", message: "hello from a terminal" });
  bruno.send({ type: "chat", to: "ana", message: "got it" });
  await eventually(() => /│ 2 @bruno \(1\)/.test(screen()), "the private reply opens bruno's window, one line unread");
  tmux("send-keys", "-t", "chat", "M-2");
  await eventually(() => /bruno → you \(private\) \[No subject\]: got it/.test(screen()), "the private reply in bruno's window");
  tmux("send-keys", "-t", "chat", "M-1");
  await eventually(() => /^#general/m.test(screen()), "back to the lobby");

  tmux("resize-window", "-t", "chat", "-x", "70", "-y", "20");
  await eventually(() => screen().split("\n").every((line) => [...line].length <= 70) && /Online \(2\)/.test(screen()), "a redraw at 70 columns");

  tmux("send-keys", "-t", "chat", "C-c");
  t.match(await bruno.next(), { type: "leave", client_name: "ana", reason: "quit" });
  await eventually(() => spawnSync("tmux", ["-L", socket, "has-session", "-t", "chat"]).status !== 0, "the client to exit");
});

t.test("SIGTERM to the full-screen client gives the terminal back (leaves the alternate screen)", { skip: hasTmux ? false : "tmux is not installed" }, async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const command = ["env", "CI=false", process.execPath, ...scriptNodeArgs("client.ts"), "--port", String(port), "--name", "ana"];
  tmux("-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "100", "-y", "24", "-c", ROOT, command.map(shellQuote).join(" "));
  tmux("set-option", "-t", "chat", "remain-on-exit", "on");
  t.teardown(() => spawnSync("tmux", ["-L", socket, "kill-server"]));
  await eventually(() => /Welcome, ana!/.test(screen()), "the welcome", 30_000);
  t.equal(tmux("display-message", "-p", "-t", "chat", "#{alternate_on}").trim(), "1", "on the alternate screen");
  t.match(await bruno.next(), { type: "join", client_name: "ana" });

  process.kill(clientPid(Number(tmux("display-message", "-p", "-t", "chat", "#{pane_pid}").trim())), "SIGTERM");
  t.match(await bruno.next(), { type: "leave", client_name: "ana", reason: "quit" }, "it said goodbye");
  await eventually(() => tmux("display-message", "-p", "-t", "chat", "#{pane_dead}").trim() === "1", "the client to exit", 30_000);
  t.equal(tmux("display-message", "-p", "-t", "chat", "#{alternate_on}").trim(), "0", "back on the normal screen");
});

t.test("LANG=C: the full screen is drawn in ASCII", { skip: hasTmux ? false : "tmux is not installed" }, async (t) => {
  const { port } = (await testServer(t)).address;
  await Peer.joined(t, port, "bruno");
  const command = ["env", "CI=false", "LANG=C", "LC_ALL=", "LC_CTYPE=", process.execPath, ...scriptNodeArgs("client.ts"), "--port", String(port), "--name", "ana"];
  tmux("-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "100", "-y", "24", "-c", ROOT, command.map(shellQuote).join(" "));
  t.teardown(() => spawnSync("tmux", ["-L", socket, "kill-server"]));
  await eventually(() => /Welcome, ana!/.test(screen()), "the welcome", 30_000);
  tmux("send-keys", "-t", "chat", "Tab");
  await eventually(() => /\[private to bruno\]/.test(screen()), "bruno chosen");
  t.match(screen(), /> bruno/);
  t.notMatch(screen(), /[▸→…│█·]/u, "nothing outside ASCII");
  tmux("send-keys", "-t", "chat", "C-c");
});

t.test("switching rooms in a terminal: /join, Alt+1, Ctrl+N, unread counts, a line to the shown room", { skip: hasTmux ? false : "tmux is not installed" }, async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  const command = ["env", "CI=false", process.execPath, ...scriptNodeArgs("client.ts"), "--port", String(port), "--name", "ana"];
  tmux("-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "100", "-y", "24", "-c", ROOT, command.map(shellQuote).join(" "));
  t.teardown(() => spawnSync("tmux", ["-L", socket, "kill-server"]));
  await eventually(() => /Welcome, ana!/.test(screen()), "the welcome", 30_000);
  tmux("send-keys", "-t", "chat", "/join #provas", "Enter");
  await eventually(() => /^#provas — no topic/m.test(screen()) && /│ 2 #provas/.test(screen()), "the room's window");
  bruno.send({ type: "enter", room: "#provas" });
  await eventually(() => /bruno entered #provas/.test(screen()), "bruno in #provas");
  bruno.send({ type: "chat", message: "lobby news" });
  await eventually(() => /│ 1 #general \(1\)/.test(screen()), "an unread line in the lobby");
  tmux("send-keys", "-t", "chat", "M-1");
  await eventually(() => /lobby news/.test(screen()) && /^#general/m.test(screen()), "Alt+1 shows the lobby");
  tmux("send-keys", "-t", "chat", "C-n");
  await eventually(() => /^#provas/m.test(screen()), "Ctrl+N shows #provas again");
  tmux("send-keys", "-t", "chat", "only for the room", "Enter");
  let msg = await bruno.next();
  while (msg.type !== "chat" || msg.message !== "only for the room") msg = await bruno.next();
  t.equal(msg.room, "#provas");
  tmux("send-keys", "-t", "chat", "C-c");
});

/** The node process of the client: the pane's process itself, or its child when a shell started it. */
function clientPid(panePid: number): number {
  const isClient = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("client.ts");
    } catch {
      return false;
    }
  };
  if (isClient(panePid)) return panePid;
  const children = spawnSync("pgrep", ["-P", String(panePid)], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);
  const child = children.find(isClient);
  if (child === undefined) throw new Error(`No client process under pane ${panePid}`);
  return child;
}
