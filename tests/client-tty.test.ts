/** The real client in a real pseudo-terminal (tmux), against a real server: what a person sees. */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import t from "tap";
import { eventually, Peer, ROOT, testServer } from "./helpers.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const socket = `chat-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-t", "chat");
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

t.test("the full-screen client in a terminal", { skip: hasTmux ? false : "tmux is not installed: apt-get install tmux (.ci/run does)" }, async (t) => {
  const { port } = (await testServer(t)).address;
  const bruno = await Peer.joined(t, port, "bruno");
  // ink draws only a final frame when it believes it runs in CI: this is a terminal, so say it is not.
  const command = ["env", "CI=false", process.execPath, ...process.execArgv, path.join(ROOT, "client.ts"), "--port", String(port), "--name", "ana"];
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
  await eventually(() => /bruno → you \(private\) \[No subject\]: got it/.test(screen()), "the private reply");

  tmux("resize-window", "-t", "chat", "-x", "70", "-y", "20");
  await eventually(() => screen().split("\n").every((line) => [...line].length <= 70) && /Online \(2\)/.test(screen()), "a redraw at 70 columns");

  tmux("send-keys", "-t", "chat", "C-c");
  t.match(await bruno.next(), { type: "leave", client_name: "ana", reason: "quit" });
  await eventually(() => spawnSync("tmux", ["-L", socket, "has-session", "-t", "chat"]).status !== 0, "the client to exit");
});
