import { EventEmitter } from "node:events";
import { render as inkRender } from "ink";
import { render } from "ink-testing-library";
import type { ReactElement } from "react";
import stringWidth from "string-width";
import t from "tap";
import { chooseLayout, KEYS_HELP, lastRows, LauncherApp, LauncherView, screenOrder, summaryPage } from "../launcher/view.js";
import { planInstances, type Instance, type InstanceState } from "../launcher/plan.js";
import { type Supervisor } from "../launcher/supervisor.js";
import { eventually, type Teardown } from "./helpers/helpers.js";

/** A terminal of any size for ink (ink-testing-library's is always 100 columns wide). */
class FakeTerminal extends EventEmitter {
  frame = "";
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (frame: string) => {
    this.frame = frame;
    return true;
  };
}

/** Renders `node` once on a terminal of `columns` × `rows`; returns the frame's lines. */
function frameAt(t: Teardown, node: ReactElement, columns: number, rows: number): string[] {
  const stdout = new FakeTerminal(columns, rows);
  const app = inkRender(node, { stdout: stdout as unknown as NodeJS.WriteStream, debug: true, exitOnCtrlC: false, patchConsole: false });
  t.teardown(() => app.unmount());
  return stdout.frame.split("\n");
}

/** `servers` servers and the named clients, all running, each with `lineCount` lines of output. */
function running(servers: number, names: string[], lineCount = 30): Instance[] {
  return planInstances({ port: 9999, servers, names }).map((spec) => ({
    ...spec,
    state: (spec.kind === "server" ? "listening" : "connected") as InstanceState,
    ended: undefined,
    lines: Array.from({ length: lineCount }, (_, n) =>
      spec.kind === "server"
        ? `12:00:${String(n).padStart(2, "0")} ${spec.name} event ${n}`
        : `[12:00:${String(n).padStart(2, "0")}] you [No subject]: message ${n} from ${spec.name}`,
    ),
  }));
}

const usuarios = (count: number) => Array.from({ length: count }, (_, i) => `Usuario${i}`);

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
  t.match(frame, /Chat launcher: 2 servers, 3 clients\. Each server is a separate chat\./, "100 columns: the short words, whole");
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

t.test("a pane shows the newest rows that fit, wrapped", async (t) => {
  t.same(lastRows(["one", "two three four", "five"], 10, 3), ["two three", "four", "five"]);
  t.same(lastRows(["one", "two"], 10, 5), ["one", "two"]);
  t.same(lastRows(["one"], 10, 0), []);
});

t.test("layout: a grid when every pane is readable, else the focused instance large", async (t) => {
  t.match(chooseLayout(running(2, usuarios(2)), 80, 24), { kind: "grid", paneColumns: 40 });
  t.match(chooseLayout(running(3, usuarios(7)), 80, 24), { kind: "focus", listRows: 10, paneRows: 11 });
  t.match(chooseLayout(running(1, usuarios(11)), 120, 40), { kind: "focus", listRows: 12 });
  t.match(chooseLayout(running(2, usuarios(40)), 80, 24), { kind: "focus", listRows: 13, paneRows: 8 });
});

t.test("summaries are paged around the focused instance when they do not all fit", async (t) => {
  const order = screenOrder(running(1, usuarios(30)));
  const first = summaryPage(order, order[0], 10);
  t.equal(first.shown.length, 9);
  t.equal(first.position, "1–9 of 31 · Tab or arrows for the others");
  const last = summaryPage(order, order.at(-1), 10);
  t.ok(last.shown.includes(order.at(-1)!));
  t.match(last.position, /^28–31 of 31/);
  t.same(summaryPage(order.slice(0, 5), order[0], 10), { shown: order.slice(0, 5), position: undefined });
});

/** The frame shows each instance's title: its name, then its state. */
function titled(t: { ok(value: unknown, message: string): void }, lines: string[], all: Instance[]) {
  for (const instance of all) {
    const state = instance.kind === "server" ? "listening" : "connected to :";
    t.ok(lines.some((line) => new RegExp(`\\b${instance.name}\\s+${state}`).test(line)), `${instance.name}'s title is visible`);
  }
}

t.test("80×24, 3 servers and 7 clients: every title, and the focused client's latest lines in full", async (t) => {
  const all = running(3, usuarios(7));
  const focused = all.find((i) => i.name === "Usuario4")!;
  const long = "[12:01:00] you [No subject]: a long line that cannot fit in eighty columns, so it wraps at a space and ends with LASTWORD";
  focused.lines.push("[12:00:59] you [No subject]: hello from Usuario4", long);
  const lines = frameAt(t, <LauncherView instances={all} focused={focused} input="typing" columns={80} rows={24} />, 80, 24);
  t.equal(lines.length, 24, "exactly the screen");
  t.ok(lines.every((line) => stringWidth(line) <= 80), "nothing wider than the screen");
  titled(t, lines, all);
  const screen = lines.join("\n");
  t.match(screen, /hello from Usuario4/, "the line sent before is visible");
  const paneRows = lines.filter((line) => line.startsWith("║")).map((line) => line.slice(1, -1).trimEnd());
  t.ok(paneRows.join(" ").includes(long), "the long line in full, wrapped at a space");
  t.match(paneRows.at(-1), /^\S.* LASTWORD$/, "its last row starts with a whole word");
  t.match(screen, /Usuario4> typing█/);
  t.match(screen, /▸\s+Usuario4/, "the focused summary is marked");
});

t.test("120×40, 11 clients: every title, and the focused client's latest lines", async (t) => {
  for (const servers of [1, 2]) {
    const all = running(servers, usuarios(11));
    const focused = all.find((i) => i.name === "Usuario10")!;
    const lines = frameAt(t, <LauncherView instances={all} focused={focused} input="" columns={120} rows={40} />, 120, 40);
    t.equal(lines.length, 40, `${servers} servers: exactly the screen`);
    titled(t, lines, all);
    const screen = lines.join("\n");
    for (const n of [25, 26, 27, 28, 29]) t.match(screen, `message ${n} from Usuario10`);
  }
});

t.test("80×24 with 40 clients: the focused one and its page of summaries", async (t) => {
  const all = running(2, usuarios(40));
  const focused = all.find((i) => i.name === "Usuario39")!;
  const lines = frameAt(t, <LauncherView instances={all} focused={focused} input="" columns={80} rows={24} />, 80, 24);
  t.equal(lines.length, 24);
  const screen = lines.join("\n");
  t.match(screen, /▸\s+Usuario39\s+connected to :10000/);
  t.match(screen, /Usuario39 connected to :10000/, "its pane's title");
  t.match(screen, /message 29 from Usuario39/);
  t.match(screen, /\d+–42 of 42 · Tab or arrows for the others/);
});

t.test("a line typed into a client that has quit is refused, and the screen says so", async (t) => {
  const supervisor = new FakeSupervisor(instances());
  supervisor.quit.add("ana");
  const { stdin, lastFrame, unmount } = render(<LauncherApp supervisor={supervisor as unknown as Supervisor} />);
  t.teardown(unmount);
  await eventually(() => /ana> █/.test(lastFrame() ?? ""), "the first client has the focus");
  stdin.write("hello\r");
  await eventually(() => /ana has quit; its line was not sent/.test(lastFrame() ?? ""), "the refusal is shown");
  t.same(supervisor.typed, []);
  stdin.write("x");
  await eventually(() => (lastFrame() ?? "").includes(KEYS_HELP), "the next key puts the help back");
});

t.test("↑ and ↓ move the focus too", async (t) => {
  const supervisor = new FakeSupervisor(instances());
  const { stdin, lastFrame, unmount } = render(<LauncherApp supervisor={supervisor as unknown as Supervisor} />);
  t.teardown(unmount);
  await eventually(() => /ana> █/.test(lastFrame() ?? ""), "the first client has the focus");
  stdin.write("\x1b[B");
  await eventually(() => /carla> █/.test(lastFrame() ?? ""), "↓: the next one");
  stdin.write("\x1b[A");
  await eventually(() => /ana> █/.test(lastFrame() ?? ""), "↑: back");
});

t.test("the header says that servers are separate chats in words that fit, at 80 and 120 columns (issue 18, item 23)", async (t) => {
  for (const columns of [80, 120]) {
    const { lastFrame } = render(<LauncherView instances={instances()} focused={undefined} input="" columns={columns} rows={24} />);
    const header = lastFrame()!.split("\n")[0]!;
    t.notMatch(header, /…/, `${columns}: not cut`);
    t.match(header, columns >= 120 ? /Servers are independent: a client talks only with the clients on its own server\.$/ : /Each server is a separate chat\.$/, `${columns}`);
  }
});

t.test("with --lang pt the launcher's own words are Portuguese too (issue 18, item 21)", async (t) => {
  const { LAUNCHER_TEXTS } = await import("../common/catalogue.js");
  const all = instances();
  all[0]!.state = "listening";
  all[1]!.state = "dead";
  all[1]!.ended = "exit code 1";
  const { lastFrame } = render(<LauncherView instances={all} focused={all[0]} input="" columns={120} rows={30} t={LAUNCHER_TEXTS.pt} />);
  const frame = lastFrame()!;
  t.match(frame, /^Lançador do chat: 2 servidores, 3 clientes\. Cada servidor é um chat separado\./m);
  t.match(frame, /escutando/);
  t.match(frame, /morreu \(exit code 1\)/);
  t.match(frame, /Tab\/setas: foco · Enter: envia/);
  t.match(frame, /um servidor não recebe texto/);
  t.notMatch(frame, /listening|Chat launcher|Tab\/arrows/);
});
