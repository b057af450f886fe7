/**
 * The launcher's full-screen view (ink): one column per server, the server's
 * pane on top and its clients below, an input line typing into the focused
 * client. `LauncherView` renders props only; `LauncherApp` owns the focus,
 * the input and the subscription to the Supervisor.
 */
import { Box, Text, useApp, useInput } from "ink";
import { useEffect, useMemo, useReducer, useRef } from "react";
import {
  INDEPENDENT_SERVERS,
  runDemo,
  StartError,
  type Instance,
  type InstanceState,
  type LauncherOptions,
  type Supervisor,
} from "./launcher.js";
import { renderFullScreen, typeChunk, useTerminalSize, withoutLastChar } from "./terminal.js";

const STATE_COLORS: Record<InstanceState, string> = {
  starting: "yellow",
  listening: "green",
  connected: "green",
  disconnected: "yellow",
  stopped: "gray",
  dead: "red",
};

export const KEYS_HELP = "Tab/Shift+Tab or ←/→: focus · Enter: send to the focused client · Ctrl+C or q on an empty line: quit";

export function stateText(instance: Instance): string {
  switch (instance.state) {
    case "connected":
      return `connected to :${instance.port}`;
    case "dead":
      return `dead (${instance.ended})`;
    default:
      return instance.state;
  }
}

interface PaneProps {
  instance: Instance;
  focused: boolean;
  height: number;
  width: number;
}

export function Pane({ instance, focused, height, width }: PaneProps) {
  const visible = instance.lines.slice(-Math.max(0, height - 2));
  return (
    <Box
      flexDirection="column"
      borderStyle={focused ? "double" : "single"}
      borderColor={focused ? "cyan" : undefined}
      height={height}
      width={width}
      overflow="hidden"
    >
      <Text wrap="truncate">
        <Text bold>{instance.name}</Text> <Text color={STATE_COLORS[instance.state]}>{stateText(instance)}</Text>
      </Text>
      {visible.slice(-(height - 3)).map((line, i) => (
        <Text key={i} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  );
}

export interface LauncherViewProps {
  instances: Instance[];
  focused: Instance | undefined;
  input: string;
  columns: number;
  rows: number;
  notice?: string | undefined;
}

export function LauncherView({ instances, focused, input, columns, rows, notice }: LauncherViewProps) {
  const servers = instances.filter((i) => i.kind === "server");
  const clientCount = instances.length - servers.length;
  const stacks = servers.map((server, s) => [server, ...instances.filter((i) => i.kind === "client" && i.server === s)]);
  const tallest = Math.max(1, ...stacks.map((stack) => stack.length));
  const paneHeight = Math.max(3, Math.floor((rows - 4) / tallest));
  const paneWidth = Math.max(10, Math.floor(columns / Math.max(1, servers.length)));
  const prompt =
    focused?.kind === "client" ? `${focused.name}> ${input}█` : "(a server takes no input: focus a client with Tab)";
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <Text wrap="truncate" bold>
        Chat launcher: {servers.length} server{servers.length === 1 ? "" : "s"}, {clientCount} client
        {clientCount === 1 ? "" : "s"}. {INDEPENDENT_SERVERS}
      </Text>
      <Box flexDirection="row" flexGrow={1}>
        {stacks.map((stack, s) => (
          <Box key={s} flexDirection="column" width={paneWidth}>
            {stack.map((instance) => (
              <Pane
                key={instance.name}
                instance={instance}
                focused={instance === focused}
                height={paneHeight}
                width={paneWidth}
              />
            ))}
          </Box>
        ))}
      </Box>
      <Text wrap="truncate" color={notice ? "red" : "gray"}>
        {notice ?? KEYS_HELP}
      </Text>
      <Text wrap="truncate" color="cyan">
        {prompt}
      </Text>
    </Box>
  );
}

interface LauncherAppProps {
  supervisor: Supervisor;
  notice?: string | undefined;
}

/** Instances in screen order: each server, then its clients, column by column. */
export function screenOrder(instances: Instance[]): Instance[] {
  const rank = (instance: Instance) => (instance.kind === "server" ? 0 : 1);
  return [...instances].sort((a, b) => a.server - b.server || rank(a) - rank(b)); // a stable sort keeps the rest in order
}

/** Owns focus, input and terminal size; re-renders on every supervisor event. */
export function LauncherApp({ supervisor, notice }: LauncherAppProps) {
  const { exit } = useApp();
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  const order = useMemo(() => screenOrder(supervisor.instances), [supervisor]);
  // Keys can arrive faster than renders (a paste, tmux send-keys): the input
  // handler reads and writes refs, never state captured by an older render.
  const focus = useRef(Math.max(0, order.findIndex((i) => i.kind === "client")));
  const input = useRef("");
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
    if (target?.kind === "client") supervisor.send(target.name, line);
    input.current = "";
  };
  const moveFocus = (step: number) => {
    focus.current = (focus.current + step + order.length) % order.length;
  };

  useInput((text, key) => {
    if (key.ctrl && text === "c") return exit();
    if (text === "q" && input.current === "") return exit();
    if ((key.tab && key.shift) || key.leftArrow) moveFocus(-1);
    else if (key.tab || key.rightArrow) moveFocus(1);
    else if (key.return) submit(input.current);
    else if (key.backspace || key.delete) input.current = withoutLastChar(input.current);
    else if (!(key.ctrl || key.meta || key.escape || key.upArrow || key.downArrow || key.pageUp || key.pageDown)) {
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
      notice={notice}
    />
  );
}

/** Runs the full-screen view until the user quits, a signal arrives, or --duration ends. */
export async function runFullScreen(
  supervisor: Supervisor,
  options: LauncherOptions,
  stopped: Promise<void>,
): Promise<number> {
  const screen = renderFullScreen(<LauncherApp supervisor={supervisor} />);
  const { app } = screen;
  let failure: string | undefined;
  const started = supervisor.start().then(
    () => (options.demo ? runDemo(supervisor) : undefined),
    (error: unknown) => {
      if (!(error instanceof StartError)) throw error;
      failure = error.message;
      app.rerender(<LauncherApp supervisor={supervisor} notice={`${failure}. Stopping.`} />);
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
