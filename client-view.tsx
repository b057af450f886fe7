/**
 * The client's full-screen interface (ink), used when standard input and
 * output are a terminal. `ChatView` renders props only; `ChatApp` owns the
 * screen's state and listens to a ChatClient, which keeps the connection and
 * the commands (runCommand) exactly as in line mode.
 */
import { Box, Text, useApp, useInput } from "ink";
import { useEffect, useReducer, useRef } from "react";
import { joinFailureText, JoinError, runCommand, socketErrorText, type ChatClient } from "./client.js";
import { parseCommand } from "./commands.js";
import { describe, rejoinedText, sanitize, type DisplayLine, type LineKind, type Texts } from "./format.js";
import type { Message } from "./protocol.js";
import { renderFullScreen, typeChunk, useTerminalSize, withoutLastChar } from "./terminal.js";

/** Lines of conversation kept for scrolling back. */
export const KEPT_LINES = 2000;
const SIDEBAR_COLUMNS = 22;

const COLORS: Record<LineKind, string | undefined> = {
  chat: undefined,
  own: "cyan",
  private: "magenta",
  notice: "yellow",
  error: "red",
  info: "gray",
};

export type Status =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "reconnecting"; seconds: number; attempt: number }
  | { kind: "error"; text: string };

export interface ChatViewProps {
  t: Texts;
  address: string;
  /** Undefined until the server has accepted a name: the name screen shows. */
  self: string | undefined;
  lines: DisplayLine[];
  users: string[];
  /** The recipient chosen in the sidebar; undefined for everyone. */
  recipient: string | undefined;
  subject: string;
  input: string;
  status: Status;
  /** How many rows the conversation is scrolled up from the newest. */
  scroll: number;
  unread: number;
  /** Why the last name was refused. */
  refusal: string | undefined;
  columns: number;
  rows: number;
}

/** The conversation's size on screen, and its lines cut into rows of that width. */
export function conversationRows(lines: DisplayLine[], columns: number, rows: number) {
  const width = Math.max(10, columns - SIDEBAR_COLUMNS - 2);
  const height = Math.max(1, rows - 5);
  const all = lines.flatMap((line) => wrapRows(line.text, width).map((text) => ({ kind: line.kind, text })));
  return { width, height, all, maxScroll: Math.max(0, all.length - height) };
}

/** Cuts text into rows of at most `width` characters; newlines start new rows. */
export function wrapRows(text: string, width: number): string[] {
  return text.split("\n").flatMap((line) => {
    const chars = [...line];
    if (chars.length === 0) return [""];
    const rows: string[] = [];
    for (let at = 0; at < chars.length; at += width) rows.push(chars.slice(at, at + width).join(""));
    return rows;
  });
}

export function statusText(status: Status, props: Pick<ChatViewProps, "t" | "address" | "self">): string {
  const { t, address, self } = props;
  switch (status.kind) {
    case "connecting":
      return t.screen.connecting(address);
    case "connected":
      return t.screen.connected(address, self ?? "");
    case "reconnecting":
      return t.screen.reconnecting(status.seconds, status.attempt);
    case "error":
      return status.text;
  }
}

export function ChatView(props: ChatViewProps) {
  const { t, self, lines, users, recipient, subject, input, status, scroll, unread, refusal, columns, rows } = props;
  const statusColor = status.kind === "connected" ? "green" : status.kind === "error" ? "red" : "yellow";
  const statusLine = (
    <Text wrap="truncate" color={statusColor} inverse>
      {` ${statusText(status, props)} `.padEnd(columns)}
    </Text>
  );
  if (self === undefined) {
    return (
      <Box flexDirection="column" width={columns} height={rows}>
        {statusLine}
        <Box flexDirection="column" borderStyle="round" paddingX={1} marginTop={1}>
          <Text bold>{t.screen.title}</Text>
          <Text>{t.nameRules}</Text>
          {refusal && <Text color="red">{t.nameRefused(refusal)}</Text>}
          <Text color="cyan">
            {t.namePrompt}
            {input}█
          </Text>
        </Box>
      </Box>
    );
  }

  const conversation = conversationRows(lines, columns, rows);
  const conversationWidth = conversation.width;
  const conversationHeight = conversation.height;
  const end = conversation.all.length - Math.min(scroll, conversation.maxScroll);
  const visible = conversation.all.slice(Math.max(0, end - conversationHeight), end);
  const sidebar = [t.screen.everyone, ...users];
  const selected = recipient === undefined ? 0 : 1 + users.indexOf(recipient);
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      {statusLine}
      <Box flexDirection="row" height={conversationHeight}>
        <Box flexDirection="column" width={conversationWidth} marginRight={1}>
          {visible.map((row, i) => (
            <Text key={i} color={COLORS[row.kind]} wrap="truncate">
              {row.text}
            </Text>
          ))}
        </Box>
        <Box flexDirection="column" width={SIDEBAR_COLUMNS} borderStyle="single" borderLeft borderTop={false} borderBottom={false} borderRight={false} paddingLeft={1}>
          <Text bold>{t.screen.online(users.length)}</Text>
          {sidebar.slice(0, conversationHeight - 1).map((name, i) => (
            <Text key={name + i} wrap="truncate" inverse={i === selected} color={i === 0 ? "gray" : name === self ? "cyan" : undefined}>
              {i === selected ? "▸ " : "  "}
              {sanitize(name)}
            </Text>
          ))}
        </Box>
      </Box>
      <Text wrap="truncate" color="yellow">
        {scroll > 0 ? t.screen.unread(unread) : " "}
      </Text>
      <Text wrap="truncate" color={recipient ? "magenta" : "gray"}>
        [{recipient ? t.screen.privateTo(recipient) : t.screen.everyone}] [{t.screen.subject(subject || t.noSubject)}]
      </Text>
      <Text wrap="truncate">
        {"> "}
        {input}█
      </Text>
      <Text wrap="truncate" color="gray">
        {t.screen.keys}
      </Text>
    </Box>
  );
}

interface ChatAppProps {
  client: ChatClient;
  t: Texts;
  /** Join under this name first. */
  name?: string | undefined;
}

export function ChatApp({ client, t, name }: ChatAppProps) {
  const { exit } = useApp();
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  // Keys can arrive faster than renders (a paste): handlers use refs, not state from an older render.
  const state = useRef({
    self: undefined as string | undefined,
    lines: [] as DisplayLine[],
    recipient: undefined as string | undefined,
    input: "",
    history: [] as string[],
    historyAt: 0,
    scroll: 0,
    unread: 0,
    refusal: undefined as string | undefined,
    status: { kind: "connected" } as Status,
  }).current;
  const size = useTerminalSize();
  const sizeNow = useRef(size); // for handlers registered once, at the first render
  sizeNow.current = size;

  const show = (line: DisplayLine) => {
    state.lines.push(line);
    if (state.lines.length > KEPT_LINES) state.lines.splice(0, state.lines.length - KEPT_LINES);
    if (state.scroll > 0) {
      const { width } = conversationRows([], sizeNow.current.columns, sizeNow.current.rows);
      state.scroll += wrapRows(line.text, width).length; // stay on what is being read
      state.unread += 1;
    }
    refresh();
  };

  const join = (candidate: string) => {
    client.join(candidate).then(
      (welcome) => {
        state.self = welcome.client_name;
        state.refusal = undefined;
        show(describe(welcome, client.name, t)!);
      },
      (error: unknown) => {
        if (error instanceof JoinError && error.refusesName) state.refusal = sanitize(error.message);
        else state.status = { kind: "error", text: joinFailureText(error, client.address, t) };
        refresh();
      },
    );
  };

  useEffect(() => {
    let countdown: NodeJS.Timeout | undefined;
    const onMessage = (msg: Message) => {
      if (state.recipient !== undefined && !client.users.includes(state.recipient)) state.recipient = undefined; // they left
      const line = describe(msg, client.name, t);
      if (line?.kind === "error") state.status = { kind: "error", text: line.text };
      if (line) show(line);
      else refresh();
    };
    const onLost = () => {
      state.status = { kind: "error", text: t.connectionLost(client.address) };
      show({ kind: "error", text: t.connectionLost(client.address) });
    };
    const onReconnecting = (delayMs: number, attempt: number) => {
      clearInterval(countdown);
      state.status = { kind: "reconnecting", seconds: Math.ceil(delayMs / 1000), attempt };
      countdown = setInterval(() => {
        if (state.status.kind === "reconnecting" && state.status.seconds > 1) state.status.seconds--;
        refresh();
      }, 1000);
      refresh();
    };
    const onFailed = (error: Error) => show({ kind: "error", text: t.reconnectFailed(socketErrorText(error, t)) });
    const onRejoined = (welcome: Message) => {
      clearInterval(countdown);
      state.status = { kind: "connected" };
      show({ kind: "info", text: rejoinedText(welcome, t) });
    };
    client.on("message", onMessage).on("lost", onLost).on("reconnecting", onReconnecting).on("reconnectFailed", onFailed).on("rejoined", onRejoined);
    if (name !== undefined) join(name);
    return () => {
      clearInterval(countdown);
      client.off("message", onMessage).off("lost", onLost).off("reconnecting", onReconnecting).off("reconnectFailed", onFailed).off("rejoined", onRejoined);
    };
  }, [client]);

  const submit = (typed: string) => {
    state.input = "";
    if (state.self === undefined) return join(typed.trim());
    if (typed.trim() !== "") state.history.push(typed);
    state.historyAt = state.history.length;
    let command = parseCommand(typed);
    if (command.kind === "say" && state.recipient !== undefined) command = { kind: "private", to: state.recipient, text: command.text };
    const result = runCommand(client, command, t);
    result.lines.forEach(show);
    if (result.quit) exit();
    state.scroll = 0;
    state.unread = 0;
  };

  useInput((text, key) => {
    const page = Math.max(1, size.rows - 6);
    if (key.ctrl && text === "c") return exit();
    if (key.ctrl && text === "l") state.input = "";
    else if (key.return) submit(state.input);
    else if (key.backspace || key.delete) state.input = withoutLastChar(state.input);
    else if (key.escape) state.recipient = undefined;
    else if (key.tab) {
      const choices = [undefined, ...client.users.filter((u) => u !== state.self)];
      const at = choices.indexOf(state.recipient);
      state.recipient = choices[(at + (key.shift ? choices.length - 1 : 1)) % choices.length];
    } else if (key.upArrow && state.historyAt > 0) state.input = state.history[--state.historyAt] ?? "";
    else if (key.downArrow && state.historyAt < state.history.length) state.input = state.history[++state.historyAt] ?? "";
    else if (key.pageUp) state.scroll = Math.min(state.scroll + page, conversationRows(state.lines, size.columns, size.rows).maxScroll);
    else if (key.pageDown) {
      state.scroll = Math.max(0, state.scroll - page);
      if (state.scroll === 0) state.unread = 0;
    } else if (!key.ctrl && !key.meta && !key.upArrow && !key.downArrow) {
      state.input = typeChunk(state.input, text, { submit });
    }
    refresh();
  });

  return <ChatView {...state} t={t} address={client.address} users={client.users} subject={client.subject} {...size} />;
}

/** Runs the full-screen interface until the user quits; the terminal is given back as it was. */
export async function runFullScreen(client: ChatClient, t: Texts, name: string | undefined): Promise<number> {
  const screen = renderFullScreen(<ChatApp client={client} t={t} name={name} />);
  try {
    await screen.app.waitUntilExit();
  } finally {
    screen.close();
    await client.quit();
  }
  return 0;
}
