/**
 * The launcher's full-screen view (ink): one column per server, the server's
 * pane on top and its clients below, an input line typing into the focused
 * client. `LauncherView` renders props only; `LauncherApp` owns the focus,
 * the input and the subscription to the Supervisor.
 */
import { Box, Text, useApp, useInput } from "ink";
import { useEffect, useMemo, useReducer, useRef } from "react";
import { runDemo } from "./demo.js";
import { StartError, type Supervisor } from "./supervisor.js";
import { type Instance, type InstanceState, type LauncherOptions } from "./plan.js";
import stringWidth from "string-width";
import { renderFullScreen, typeChunk, useTerminalSize, withoutLastChar } from "../common/terminal.js";
import { wrap } from "../common/wrap.js";
import { detectLang, LAUNCHER_TEXTS, type LauncherTexts } from "../common/catalogue.js";

const STATE_COLORS: Record<InstanceState, string> = {
  starting: "yellow",
  listening: "green",
  connecting: "yellow",
  connected: "green",
  reconnecting: "yellow",
  disconnected: "yellow",
  closed: "gray",
  stopped: "gray",
  dead: "red",
};

/** The title: what runs, and that servers do not share a chat, in words that fit `columns` (never cut mid-sentence). */
export function headerText(servers: number, clients: number, columns: number, t: LauncherTexts = LAUNCHER_TEXTS.en, cluster = false): string {
  if (cluster) {
    const long = `${t.clusterTitle(servers, clients)} ${t.oneChat}`;
    return stringWidth(long) <= columns ? long : t.clusterTitle(servers, clients);
  }
  const long = `${t.title(servers, clients)} ${t.independent}`;
  return stringWidth(long) <= columns ? long : `${t.title(servers, clients)} ${t.independentShort}`;
}

export const KEYS_HELP = LAUNCHER_TEXTS.en.keys;

/** Rows above the instances (the title) and below them (help or notice, the input line). */
export const HEADER_ROWS = 1;
export const FOOTER_ROWS = 2;
/** A pane's rows besides its lines: two borders and the title. */
export const PANE_CHROME_ROWS = 3;
/** The grid (a column per server, a pane per instance) is used only when every pane gets at least this much. */
export const GRID_MIN_PANE_ROWS = 7;
export const GRID_MIN_PANE_COLUMNS = 30;
/** Otherwise the focused instance is large and the others are one-line summaries; the large pane keeps at least this many rows. */
export const FOCUSED_MIN_ROWS = 8;
/** Widest name and state columns in the summaries. */
export const MAX_NAME_COLUMNS = 20;
export const MAX_STATE_COLUMNS = 24;

export function stateText(instance: Instance, t: LauncherTexts = LAUNCHER_TEXTS.en): string {
  const words = t.states;
  const as = instance.joinedAs && instance.joinedAs !== instance.name ? instance.joinedAs : "";
  switch (instance.state) {
    case "connected":
      return words.connected(instance.connectedPort ?? instance.port, as);
    case "reconnecting":
      return words.reconnecting(instance.connectedPort ?? instance.port);
    case "closed":
      return words.quit;
    case "stopped":
      return instance.kind === "client" ? words.quit : words.stopped;
    case "dead":
      return words.dead(instance.ended ?? "");
    default:
      return words[instance.state];
  }
}

/** The newest `rows` rows of `lines` wrapped to `width`: what a pane of that size shows. */
export function lastRows(lines: readonly string[], width: number, rows: number): string[] {
  if (rows <= 0) return [];
  const shown: string[] = [];
  for (let i = lines.length - 1; i >= 0 && shown.length < rows; i--) shown.unshift(...wrap(lines[i]!, width));
  return shown.slice(-rows);
}

export type Layout =
  /** A column per server, its pane on top of its clients' panes. */
  | { kind: "grid"; paneRows: number; paneColumns: number }
  /** A one-line summary per instance (`listRows` rows, paged), then the focused instance's pane. */
  | { kind: "focus"; listRows: number; paneRows: number };

/** The grid when every pane is big enough to read, else the focused instance large and the rest as summaries. */
export function chooseLayout(instances: readonly Instance[], columns: number, rows: number): Layout {
  const body = Math.max(1, rows - HEADER_ROWS - FOOTER_ROWS);
  const servers = Math.max(1, instances.filter((i) => i.kind === "server").length);
  const stackSizes = Array.from({ length: servers }, (_, s) => instances.filter((i) => i.server === s).length);
  const paneRows = Math.floor(body / Math.max(1, ...stackSizes));
  const paneColumns = Math.floor(columns / servers);
  if (paneRows >= GRID_MIN_PANE_ROWS && paneColumns >= GRID_MIN_PANE_COLUMNS) return { kind: "grid", paneRows, paneColumns };
  const listRows = Math.max(1, Math.min(instances.length, body - FOCUSED_MIN_ROWS));
  return { kind: "focus", listRows, paneRows: body - listRows };
}

/**
 * The summaries that fit in `rows`: all of them, or the page holding the
 * focused one, with a last row saying which page this is.
 */
export function summaryPage(order: readonly Instance[], focused: Instance | undefined, rows: number, t: LauncherTexts = LAUNCHER_TEXTS.en) {
  if (order.length <= rows) return { shown: order, position: undefined };
  const perPage = Math.max(1, rows - 1);
  const first = Math.floor(Math.max(0, order.indexOf(focused!)) / perPage) * perPage;
  const shown = order.slice(first, first + perPage);
  const position = rows > 1 ? t.page(first + 1, first + shown.length, order.length) : undefined;
  return { shown, position };
}

interface PaneProps {
  instance: Instance;
  focused: boolean;
  height: number;
  width: number;
  t?: LauncherTexts | undefined;
}

/** An instance in a box: its name and state, then its newest lines, wrapped. */
export function Pane({ instance, focused, height, width, t }: PaneProps) {
  const rows = lastRows(instance.lines, width - 2, height - PANE_CHROME_ROWS);
  return (
    <Box
      flexDirection="column"
      borderStyle={focused ? "double" : "single"}
      borderColor={focused ? "cyan" : undefined}
      height={height}
      width={width}
      overflow="hidden"
      flexShrink={0}
    >
      <Text wrap="truncate">
        <Text bold>{instance.name}</Text> <Text color={STATE_COLORS[instance.state]}>{stateText(instance, t)}</Text>
      </Text>
      {rows.map((row, i) => (
        <Text key={i} wrap="truncate">
          {row}
        </Text>
      ))}
    </Box>
  );
}

interface SummaryProps {
  instance: Instance;
  focused: boolean;
  nameColumns: number;
  stateColumns: number;
  t?: LauncherTexts | undefined;
}

/** `text` and spaces up to `columns` columns. */
function padded(text: string, columns: number): string {
  return text + " ".repeat(Math.max(0, columns - stringWidth(text)));
}

/** One line: a marker for the focus, the name (clients indented under their server), the state, the last line. */
export function Summary({ instance, focused, nameColumns, stateColumns, t }: SummaryProps) {
  const name = instance.kind === "client" ? `  ${instance.name}` : instance.name;
  return (
    <Text wrap="truncate">
      <Text color="cyan">{focused ? "▸ " : "  "}</Text>
      <Text bold={focused}>{padded(name, nameColumns)}</Text>{" "}
      <Text color={STATE_COLORS[instance.state]}>{padded(stateText(instance, t), stateColumns)}</Text>{" "}
      <Text color="gray">{instance.lines.at(-1) ?? ""}</Text>
    </Text>
  );
}

export interface LauncherViewProps {
  instances: Instance[];
  focused: Instance | undefined;
  input: string;
  columns: number;
  rows: number;
  notice?: string | undefined;
  /** The launcher's words: English unless --lang (or LANG) says Portuguese. */
  t?: LauncherTexts | undefined;
  /** The servers are one chat (--cluster). */
  cluster?: boolean | undefined;
}

export function LauncherView({ instances, focused, input, columns, rows, notice, t = LAUNCHER_TEXTS.en, cluster = false }: LauncherViewProps) {
  const servers = instances.filter((i) => i.kind === "server");
  const clientCount = instances.length - servers.length;
  const layout = chooseLayout(instances, columns, rows);
  const prompt =
    focused?.kind === "client" ? `${focused.name}> ${input}█` : t.serverTakesNoInput;
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <Text wrap="truncate" bold>
        {headerText(servers.length, clientCount, columns, t, cluster)}
      </Text>
      <Box flexDirection="column" flexGrow={1}>
        {layout.kind === "grid" ? (
          <Grid instances={instances} focused={focused} layout={layout} t={t} />
        ) : (
          <Focus instances={instances} focused={focused} layout={layout} columns={columns} t={t} />
        )}
      </Box>
      <Text wrap="truncate" color={notice ? "red" : "gray"}>
        {notice ?? t.keys}
      </Text>
      <Text wrap="truncate" color="cyan">
        {prompt}
      </Text>
    </Box>
  );
}

function Grid({ instances, focused, layout, t }: { instances: Instance[]; focused: Instance | undefined; layout: Layout & { kind: "grid" }; t: LauncherTexts }) {
  const servers = instances.filter((i) => i.kind === "server");
  const stacks = servers.map((server) => [server, ...instances.filter((i) => i.kind === "client" && i.server === server.server)]);
  return (
    <Box flexDirection="row">
      {stacks.map((stack, s) => (
        <Box key={s} flexDirection="column" width={layout.paneColumns}>
          {stack.map((instance) => (
            <Pane
              key={instance.name}
              instance={instance}
              focused={instance === focused}
              height={layout.paneRows}
              width={layout.paneColumns}
              t={t}
            />
          ))}
        </Box>
      ))}
    </Box>
  );
}

function Focus(props: { instances: Instance[]; focused: Instance | undefined; layout: Layout & { kind: "focus" }; columns: number; t: LauncherTexts }) {
  const { instances, focused, layout, columns } = props;
  const order = screenOrder(instances);
  const { shown, position } = summaryPage(order, focused, layout.listRows, props.t);
  const nameColumns = Math.min(MAX_NAME_COLUMNS, Math.max(...order.map((i) => stringWidth(i.name) + (i.kind === "client" ? 2 : 0))));
  const stateColumns = Math.min(MAX_STATE_COLUMNS, Math.max(...shown.map((i) => stringWidth(stateText(i, props.t)))));
  return (
    <Box flexDirection="column">
      <Box flexDirection="column" height={layout.listRows} flexShrink={0}>
        {shown.map((instance) => (
          <Summary
            key={instance.name}
            instance={instance}
            focused={instance === focused}
            nameColumns={nameColumns}
            stateColumns={stateColumns}
            t={props.t}
          />
        ))}
        {position && (
          <Text wrap="truncate" color="gray">
            {position}
          </Text>
        )}
      </Box>
      {focused && <Pane instance={focused} focused height={layout.paneRows} width={columns} t={props.t} />}
    </Box>
  );
}

interface LauncherAppProps {
  supervisor: Supervisor;
  notice?: string | undefined;
  t?: LauncherTexts | undefined;
  cluster?: boolean | undefined;
}

/** Instances in screen order: each server, then its clients, column by column. */
export function screenOrder(instances: Instance[]): Instance[] {
  const rank = (instance: Instance) => (instance.kind === "server" ? 0 : 1);
  return [...instances].sort((a, b) => a.server - b.server || rank(a) - rank(b)); // a stable sort keeps the rest in order
}

/** Owns focus, input and terminal size; re-renders on every supervisor event. */
export function LauncherApp({ supervisor, notice, t, cluster }: LauncherAppProps) {
  const { exit } = useApp();
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  const order = useMemo(() => screenOrder(supervisor.instances), [supervisor]);
  // Keys can arrive faster than renders (a paste, tmux send-keys): the input
  // handler reads and writes refs, never state captured by an older render.
  const focus = useRef(Math.max(0, order.findIndex((i) => i.kind === "client")));
  const input = useRef("");
  /** Why the last line was not sent; cleared by the next key. */
  const refusal = useRef<string | undefined>(undefined);
  const size = useTerminalSize();

  useEffect(() => {
    supervisor.on("line", refresh);
    supervisor.on("state", refresh);
    return () => {
      supervisor.off("line", refresh);
      supervisor.off("state", refresh);
    };
  }, [supervisor]);

  const submit = (line: string) => {
    const target = order[focus.current];
    if (target?.kind === "client") refusal.current = supervisor.send(target.name, line);
    input.current = "";
  };
  const moveFocus = (step: number) => {
    focus.current = (focus.current + step + order.length) % order.length;
  };

  useInput((text, key) => {
    if (key.ctrl && text === "c") return exit();
    if (text === "q" && input.current === "") return exit();
    refusal.current = undefined;
    if ((key.tab && key.shift) || key.leftArrow || key.upArrow) moveFocus(-1);
    else if (key.tab || key.rightArrow || key.downArrow) moveFocus(1);
    else if (key.return) submit(input.current);
    else if (key.backspace || key.delete) input.current = withoutLastChar(input.current);
    else if (!(key.ctrl || key.meta || key.escape || key.pageUp || key.pageDown)) {
      input.current = typeChunk(input.current, text, { submit, tab: () => moveFocus(1) });
    }
    refresh();
  });

  return (
    <LauncherView
      instances={supervisor.instances}
      focused={order[focus.current]}
      input={input.current}
      columns={size.columns}
      rows={size.rows}
      notice={notice ?? refusal.current}
      t={t}
      cluster={cluster}
    />
  );
}

/** Runs the full-screen view until the user quits, a signal arrives, or --duration ends. */
export async function runFullScreen(
  supervisor: Supervisor,
  options: LauncherOptions,
  stopped: Promise<void>,
): Promise<number> {
  const t = LAUNCHER_TEXTS[detectLang(options.lang)];
  const screen = renderFullScreen(<LauncherApp supervisor={supervisor} t={t} cluster={options.cluster} />);
  const { app } = screen;
  let failure: string | undefined;
  const started = supervisor.start().then(
    () => (options.demo ? runDemo(supervisor) : undefined),
    (error: unknown) => {
      if (!(error instanceof StartError)) throw error;
      failure = t.cannotStart(error.instance, error.why);
      app.rerender(<LauncherApp supervisor={supervisor} notice={failure} t={t} cluster={options.cluster} />);
    },
  );
  const never = new Promise<void>(() => {});
  const timeUp =
    options.durationSeconds === undefined
      ? never
      : new Promise<void>((resolve) => setTimeout(resolve, options.durationSeconds! * 1000).unref());
  const startFailed = started.then(() => (failure ? undefined : never));
  await Promise.race([app.waitUntilExit(), stopped, timeUp, startFailed]);
  screen.close();
  await supervisor.stop();
  if (failure) {
    process.stderr.write(`${failure}\n`);
    return 1;
  }
  return 0;
}
