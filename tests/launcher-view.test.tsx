import { EventEmitter } from "node:events";
import { render } from "ink-testing-library";
import t from "tap";
import { KEYS_HELP, LauncherApp, LauncherView, screenOrder } from "../launcher-view.js";
import { planInstances, type Instance, type Supervisor } from "../launcher.js";
import { eventually } from "./helpers.js";

function instances(): Instance[] {
  return planInstances({ port: 9999, servers: 2, names: ["ana", "bruno", "carla"] }).map((spec) => ({
    ...spec,
    state: "starting",
    ended: undefined,
    lines: [],
  }));
}

/** Enough of a Supervisor for the view: instances, events, and what was typed into whom. */
class FakeSupervisor extends EventEmitter {
  readonly typed: Array<[string, string]> = [];
  constructor(readonly instances: Instance[]) {
    super();
  }
  /** Clients named here have quit: what is typed into them is refused. */
  readonly quit = new Set<string>();
  send(name: string, text: string): string | undefined {
    if (this.quit.has(name)) return `${name} has quit; its line was not sent`;
    this.typed.push([name, text]);
    return undefined;
  }
}

t.test("shows every instance with its state, a column per server", async (t) => {
  const all = instances();
  const [s0, s1, ana, bruno, carla] = all as [Instance, Instance, Instance, Instance, Instance];
  s0.state = "listening";
  s0.lines.push("listening on 127.0.0.1:9999");
  s1.state = "dead";
  s1.ended = "exit code 1";
  ana.state = "connected";
  ana.lines.push("Welcome, ana! Online (2): ana, carla.");
  bruno.state = "starting";
  carla.state = "disconnected";
  const { lastFrame } = render(<LauncherView instances={all} focused={ana} input="hel" columns={100} rows={30} />);
  const frame = lastFrame()!;
  t.match(frame, /Chat launcher: 2 servers, 3 clients\. Servers are independent/);
  t.match(frame, /server:9999 listening.*server:10000 dead \(exit code 1\)/);
  t.match(frame, /ana connected to :9999.*bruno starting/);
  t.match(frame, /carla disconnected/);
  t.match(frame, /Welcome, ana!/);
  t.match(frame, /╔═+╗/, "the focused pane has a double border");
  t.match(frame, KEYS_HELP);
  t.match(frame, /ana> hel█/);
  const lines = frame.split("\n");
  const row = (text: string) => lines.findIndex((l) => l.includes(text));
  t.ok(row("server:9999") < row("ana connected") && row("ana connected") < row("carla"), "a server above its clients");
  t.equal(row("server:9999"), row("server:10000"), "servers side by side");
});

t.test("a focused server says it takes no input; a notice replaces the key help", async (t) => {
  const all = instances();
  const { lastFrame } = render(<LauncherView instances={all} focused={all[0]} input="" columns={100} rows={30} notice="server:9999 could not start" />);
  t.match(lastFrame(), /a server takes no input/);
  t.match(lastFrame(), /server:9999 could not start/);
  t.notMatch(lastFrame(), KEYS_HELP);
});

t.test("only the newest lines that fit are shown", async (t) => {
  const all = instances();
  all[2]!.lines.push(...Array.from({ length: 50 }, (_, i) => `line ${i}`));
  const { lastFrame } = render(<LauncherView instances={all} focused={all[2]} input="" columns={100} rows={24} />);
  t.match(lastFrame(), /line 49/);
  t.notMatch(lastFrame(), /line 0\b/);
});

t.test("screen order goes down each column: a server, then its clients", async (t) => {
  t.same(screenOrder(instances()).map((i) => i.name), ["server:9999", "ana", "carla", "server:10000", "bruno"]);
});

t.test("keys: typing goes to the focused client; Tab moves the focus; keys sent together are each honoured", async (t) => {
  const supervisor = new FakeSupervisor(instances());
  const { stdin, lastFrame, unmount } = render(<LauncherApp supervisor={supervisor as unknown as Supervisor} />);
  t.teardown(unmount);
  await eventually(() => /ana> █/.test(lastFrame() ?? ""), "the first client has the focus");
  stdin.write("hello");
  await eventually(() => /ana> hello█/.test(lastFrame() ?? ""), "the text is shown");
  stdin.write("\r");
  await eventually(() => supervisor.typed.length === 1, "Enter sends");
  t.same(supervisor.typed, [["ana", "hello"]]);
  stdin.write("\t");
  await eventually(() => /carla> █/.test(lastFrame() ?? ""), "Tab moves the focus to the next client down");
  stdin.write("\t\t/clientes\r"); // as tmux send-keys or a paste delivers them: one chunk
  await eventually(() => supervisor.typed.length === 2, "the line is sent");
  t.same(supervisor.typed.at(-1), ["bruno", "/clientes"]);
  stdin.write("abc\x7f\r");
  await eventually(() => supervisor.typed.length === 3, "the line is sent");
  t.same(supervisor.typed.at(-1), ["bruno", "ab"], "backspace removes the last character");
});
