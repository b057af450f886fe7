/**
 * The client's full-screen interface (ink), used when standard input and
 * output are a terminal. `ChatView` renders props only; `ChatApp` owns the
 * screen's state and listens to a ChatClient, which keeps the connection and
 * the commands (runCommand) exactly as in line mode.
 */
import { Box, Text, useApp, useInput } from "ink";
import { useEffect, useReducer, useRef } from "react";
import stringWidth from "string-width";
import { JoinError, joinFailureText, refusalText, type ChatClient, type HistoryBatch } from "./connection.js";
import { historyLines, knownName, refusedLine, runCommand, socketErrorText, tooShort } from "./run-command.js";
import { parseCommand } from "../common/commands.js";
import type { Texts } from "../common/catalogue.js";
import { chatLine, describe, errorText, putOutText, rejoinedText, sanitize, toAscii, type DisplayLine, type LineKind } from "../common/format.js";
import { isOperator, type RoomView, EMPTY_CHAT_STATE, findRoom, type ChatState } from "./chat-state.js";
import { LOBBY, Message, nameKey, roomKey, type FriendSummary } from "../protocol.js";
import { renderFullScreen, typeChunk, useTerminalSize, withoutLastChar } from "../common/terminal.js";
import { wrap, wrapHanging } from "../common/wrap.js";

/** Lines of conversation kept for scrolling back. */
export const KEPT_LINES = 2000;
/** How long an error stays on the status line (it also goes at the next key). */
export const STATUS_ERROR_MS = 10_000;
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
  | { kind: "disconnected" }
  | { kind: "connected" }
  | { kind: "reconnecting"; seconds: number; attempt: number }
  | { kind: "error"; text: string };

/** A hidden input the screen is asking for: the password of a registered name, or a new one (twice). */
export type Secret = { kind: "login"; name: string } | { kind: "new" } | { kind: "repeat"; first: string };

export interface ChatViewProps {
  t: Texts;
  address: string;
  /** Undefined until the server has accepted a name: the name screen shows. */
  self: string | undefined;
  lines: DisplayLine[];
  users: string[];
  /** The recipient chosen in the sidebar; undefined for everyone. It stays chosen when that person leaves. */
  recipient: string | undefined;
  subject: string;
  input: string;
  status: Status;
  /** How many rows the conversation is scrolled up from the newest. */
  scroll: number;
  unread: number;
  /** Why the last name was refused. */
  refusal: string | undefined;
  /** Why the server ended the last session (kicked, banned, logged in elsewhere), and what one can do: shown on the name screen. */
  ended?: string | undefined;
  /** A password being typed: the input is masked. */
  secret?: Secret | undefined;
  /** Draw ASCII instead of ▸ → … and box lines (a locale that is not UTF-8). */
  ascii?: boolean;
  columns: number;
  rows: number;
  /** The windows (rooms, then private conversations) with their unread counts; without them, one conversation as in version 1. */
  windows?: readonly WindowTab[] | undefined;
  /** The room of the shown window: its topic in the header, its members in the sidebar (operators marked @). */
  room?: RoomView | undefined;
  /** The other person of the shown window, when it is a private conversation. */
  peer?: string | undefined;
  /** Friends and whether each is online. */
  friends?: readonly FriendSummary[] | undefined;
}

/** One window in the list: a room (`#name`) or a private conversation (`@name`). */
export interface WindowTab {
  title: string;
  unread: number;
  active: boolean;
  /** A room this client is no longer in (kicked, banned): kept so what happened can be read. */
  gone?: boolean;
}

/** Rows above and below the conversation: status, [window header,] marker, recipient, input, keys. */
function chromeRows(windows: boolean): number {
  return windows ? 6 : 5;
}

/** One row of the sidebar. */
interface SideRow {
  text: string;
  bold?: boolean;
  inverse?: boolean;
  color?: string | undefined;
  dim?: boolean;
}

/** The sidebar of the windowed screen: windows with unread counts, the shown room's members, friends. */
export function sidebarRows(props: Pick<ChatViewProps, "t" | "self" | "users" | "recipient" | "windows" | "room" | "friends">, g: (text: string) => string): SideRow[] {
  const { t, self, windows = [], room, friends = [], recipient } = props;
  const rows: SideRow[] = [{ text: t.screen.windows, bold: true }];
  windows.forEach((w, i) => {
    const unread = w.unread > 0 ? ` (${w.unread})` : "";
    rows.push({ text: `${i < 9 ? i + 1 : " "} ${sanitize(w.title)}${unread}`, inverse: w.active, dim: w.gone === true, color: w.unread > 0 && !w.active ? "yellow" : undefined });
  });
  if (room) {
    const heading = roomKey(room.name) === roomKey(LOBBY) ? t.screen.online(room.users.length) : t.screen.members(room.users.length);
    rows.push({ text: "" }, { text: heading, bold: true });
    for (const user of room.users) {
      const mark = isOperator(room, user) ? "@" : " ";
      const chosen = recipient !== undefined && user === recipient;
      rows.push({ text: `${chosen ? g("▸") : " "}${mark}${sanitize(user)}`, inverse: chosen, color: user === self ? "cyan" : undefined });
    }
  }
  if (friends.length > 0) {
    rows.push({ text: "" }, { text: t.screen.friends, bold: true });
    for (const friend of friends) rows.push({ text: ` ${friend.online ? g("●") : g("○")} ${sanitize(friend.client_name)}`, color: friend.online ? "green" : "gray" });
  }
  return rows;
}

/** The end of `text` that fits in `width` terminal columns: a long input line scrolls sideways. */
export function tailToWidth(text: string, width: number): string {
  const chars = [...text];
  let used = 0;
  let at = chars.length;
  while (at > 0) {
    const w = stringWidth(chars[at - 1]!);
    if (used + w > width) break;
    used += w;
    at--;
  }
  return chars.slice(at).join("");
}

/** The input line as drawn: masked for a password, line breaks of a paste shown as ↵, its end in view. */
export function inputText(input: string, width: number, masked: boolean): string {
  const shown = masked ? "•".repeat([...input].length) : input.replace(/\n/g, "↵");
  return tailToWidth(shown, Math.max(1, width));
}

/** As many key hints as fit in `width` columns, whole, the most useful first (never one cut in the middle). */
export function keyHints(hints: readonly string[], width: number, separator: string): string {
  let line = "";
  for (const hint of hints) {
    const next = line === "" ? hint : line + separator + hint;
    if (stringWidth(next) > width) break;
    line = next;
  }
  return line;
}

/** `text` cut to `width` terminal columns, ending with an ellipsis (ASCII "..." when asked) if it was longer. */
export function fit(text: string, width: number, ascii = false): string {
  if (stringWidth(text) <= width) return text;
  const ellipsis = ascii ? "..." : "…";
  let out = "";
  let used = 0;
  for (const char of text) {
    const w = stringWidth(char);
    if (used + w > width - ellipsis.length) break;
    out += char;
    used += w;
  }
  return out + ellipsis;
}

/** A line's rows: the client's own texts (the help's table) with continuation rows under their description; what people wrote, plainly. */
function rowsOf(line: DisplayLine, width: number): string[] {
  return line.kind === "info" ? wrapHanging(line.text, width) : wrap(line.text, width);
}

/** The conversation's size on screen, and its lines cut into rows of that width. */
export function conversationRows(lines: DisplayLine[], columns: number, rows: number, t?: Texts, windows = false) {
  const width = Math.max(10, columns - SIDEBAR_COLUMNS - 2);
  const height = Math.max(1, rows - chromeRows(windows));
  const all = lines.flatMap((line) => {
    const text = line.pending !== undefined && t ? `${line.text}  (${t.screen.pending}…)` : line.text;
    return rowsOf({ ...line, text }, width).map((row) => ({ kind: line.kind, dim: line.dim === true || line.pending !== undefined, text: row }));
  });
  return { width, height, all, maxScroll: Math.max(0, all.length - height) };
}

/** The header of the shown window: the room and its topic, or whom the private conversation is with. */
export function windowHeader(props: Pick<ChatViewProps, "t" | "windows" | "room" | "peer">): string {
  const { t, room, peer } = props;
  const active = props.windows?.find((w) => w.active);
  if (peer !== undefined) return `@${sanitize(peer)} — ${t.screen.privateWindow(sanitize(peer))}`;
  if (room) return `${sanitize(room.name)}${room.private ? ` (${t.private})` : ""} — ${sanitize(room.topic) || t.screen.noTopic}`;
  return active ? `${sanitize(active.title)} — ${t.screen.outOfRoom}` : "";
}

/** Where a line typed now goes, as the footer says it: the chosen recipient, the private window's person, the shown room, or everyone. */
export function sendsTo(props: Pick<ChatViewProps, "t" | "recipient" | "peer" | "room">): string {
  const { t, recipient, peer, room } = props;
  const to = recipient ?? peer;
  if (to !== undefined) return t.screen.privateTo(sanitize(to));
  return room && roomKey(room.name) !== roomKey(LOBBY) ? t.screen.toRoom(sanitize(room.name)) : t.screen.everyone;
}

export function statusText(status: Status, props: Pick<ChatViewProps, "t" | "address" | "self">): string {
  const { t, address, self } = props;
  switch (status.kind) {
    case "connecting":
      return t.screen.connecting(address);
    case "disconnected":
      return t.screen.disconnected(address);
    case "connected":
      return t.screen.connected(address, self ?? "");
    case "reconnecting":
      return t.screen.reconnecting(status.seconds, status.attempt);
    case "error":
      return status.text;
  }
}

export function ChatView(props: ChatViewProps) {
  const { t, self, lines, users, recipient, subject, input, status, scroll, unread, refusal, secret, columns, rows } = props;
  const ascii = props.ascii === true;
  const g = (text: string) => (ascii ? toAscii(text) : text);
  const cursor = g("█");
  const masked = secret !== undefined;
  const statusColor = status.kind === "connected" ? "green" : status.kind === "error" ? "red" : "yellow";
  const statusLine = (
    <Text wrap="truncate" color={statusColor} inverse>
      {fit(g(` ${statusText(status, props)} `), columns, ascii).padEnd(columns)}
    </Text>
  );
  if (self === undefined) {
    const prompt = secret?.kind === "login" ? t.passwordPrompt(sanitize(secret.name)) : t.namePrompt;
    return (
      <Box flexDirection="column" width={columns} height={rows}>
        {statusLine}
        <Box flexDirection="column" borderStyle={ascii ? "classic" : "round"} paddingX={1} marginTop={1}>
          <Text bold>{secret?.kind === "login" ? g(t.screen.passwordTitle(sanitize(secret.name))) : g(t.screen.title)}</Text>
          <Text>{g(secret?.kind === "login" ? t.screen.passwordHint : t.nameRules)}</Text>
          {props.ended && !refusal && <Text color="red">{g(props.ended)}</Text>}
          {refusal && <Text color="red">{g(secret?.kind === "login" ? refusal : t.nameRefused(refusal))}</Text>}
          <Text color="cyan">
            {prompt}
            {inputText(g(input), columns - 6 - stringWidth(prompt) - 1, masked).replace(/•/g, ascii ? "*" : "•")}
            {cursor}
          </Text>
        </Box>
      </Box>
    );
  }

  const windowed = props.windows !== undefined;
  const conversation = conversationRows(lines, columns, rows, t, windowed);
  const conversationWidth = conversation.width;
  const conversationHeight = conversation.height;
  const end = conversation.all.length - Math.min(scroll, conversation.maxScroll);
  const visible = conversation.all.slice(Math.max(0, end - conversationHeight), end);
  const away = recipient !== undefined && !users.includes(recipient);
  const sidebar = [t.screen.everyone, ...users, ...(away ? [recipient] : [])];
  const selected = recipient === undefined ? 0 : sidebar.indexOf(recipient);
  const prompt = secret?.kind === "new" ? t.newPassword : secret?.kind === "repeat" ? t.repeatPassword : "> ";
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      {statusLine}
      {windowed && (
        <Text wrap="truncate" bold color={props.room?.private ? "magenta" : "blue"}>
          {fit(g(windowHeader(props)), columns, ascii)}
        </Text>
      )}
      <Box flexDirection="row" height={conversationHeight}>
        <Box flexDirection="column" width={conversationWidth} marginRight={1}>
          {visible.map((row, i) => (
            <Text key={i} color={COLORS[row.kind]} dimColor={row.dim} wrap="truncate">
              {fit(g(row.text), conversationWidth, ascii)}
            </Text>
          ))}
        </Box>
        <Box
          flexDirection="column"
          width={SIDEBAR_COLUMNS}
          borderStyle={ascii ? "classic" : "single"}
          borderLeft
          borderTop={false}
          borderBottom={false}
          borderRight={false}
          paddingLeft={1}
        >
          {windowed ? (
            sidebarRows(props, g).slice(0, conversationHeight).map((row, i) => (
              <Text key={i} wrap="truncate" bold={row.bold} inverse={row.inverse} color={row.color} dimColor={row.dim}>
                {fit(row.text, SIDEBAR_COLUMNS - 2, ascii) || " "}
              </Text>
            ))
          ) : (
            <>
              <Text bold>{t.screen.online(users.length)}</Text>
              {sidebar.slice(0, conversationHeight - 1).map((name, i) => (
                <Text key={name + i} wrap="truncate" inverse={i === selected} dimColor={away && i === sidebar.length - 1} color={i === 0 ? "gray" : name === self ? "cyan" : undefined}>
                  {fit(`${i === selected ? g("▸ ") : "  "}${sanitize(name)}`, SIDEBAR_COLUMNS - 2, ascii)}
                </Text>
              ))}
            </>
          )}
        </Box>
      </Box>
      <Text wrap="truncate" color="yellow">
        {scroll > 0 ? fit(g(t.screen.unread(unread)), columns, ascii) : " "}
      </Text>
      <Text wrap="truncate" color={(recipient ?? props.peer) !== undefined ? "magenta" : "gray"}>
        {fit(`[${sendsTo(props)}] [${t.screen.subject(sanitize(subject) || t.noSubject)}]`, columns, ascii)}
      </Text>
      <Text wrap="truncate">
        {prompt}
        {inputText(input, columns - stringWidth(prompt) - 1, masked).replace(/[•↵]/g, (c) => (ascii ? (c === "•" ? "*" : "|") : c))}
        {cursor}
      </Text>
      <Text wrap="truncate" color="gray">
        {keyHints(t.screen.keys.map(g), columns, g(" · "))}
      </Text>
    </Box>
  );
}

/** The lobby's window key. */
const LOBBY_KEY = roomKey(LOBBY);
/** Lines that count as unread in a window not shown: what people said, not notices. */
export const UNREAD_KINDS: ReadonlySet<LineKind> = new Set(["chat", "private"]);

/** A window of the full screen: a room's (key `#room`) or a private conversation's (key `@name`). */
interface ChatWindow {
  key: string;
  /** `#provas`, `@bruno`: as shown in the list. */
  title: string;
  lines: DisplayLine[];
  unread: number;
}

function lobbyWindow(): ChatWindow {
  return { key: LOBBY_KEY, title: LOBBY, lines: [], unread: 0 };
}

/** The key of the private conversation with `name`. */
export function privateKey(name: string): string {
  return `@${nameKey(name)}`;
}

/**
 * Which window a frame belongs to: a private chat to the conversation with
 * the other person (`@key`), a frame about a room to that room (`#key`),
 * the lobby's joins and leaves to the lobby; undefined for the shown window
 * (answers, errors, friends).
 */
export function windowFor(msg: Message, self: string | undefined): string | undefined {
  if (msg.type === "chat" && msg.to !== undefined) return privateKey(msg.client_name === self ? msg.to : msg.client_name);
  if (msg.room !== undefined) return roomKey(msg.room);
  if ((msg.type === "join" || msg.type === "leave" || msg.type === "chat") && msg.room === undefined) return LOBBY_KEY;
  return undefined;
}

/**
 * The window a key asks for: Alt+1..9 the window of that number, Ctrl+N
 * the next, Ctrl+P the previous (wrapping around); undefined for other keys.
 */
export function windowKey(text: string, key: { ctrl: boolean; meta: boolean }, count: number, at: number): number | undefined {
  if (key.meta && /^[1-9]$/.test(text)) {
    const n = Number(text) - 1;
    return n < count ? n : undefined;
  }
  if (key.ctrl && text === "n") return (at + 1) % count;
  if (key.ctrl && text === "p") return (at + count - 1) % count;
  return undefined;
}

interface ChatAppProps {
  client: ChatClient;
  t: Texts;
  /** Join under this name first. */
  name?: string | undefined;
  ascii?: boolean;
}

export function ChatApp({ client, t, name, ascii }: ChatAppProps) {
  const { exit } = useApp();
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  // Keys can arrive faster than renders (a paste): handlers use refs, not state from an older render.
  const state = useRef({
    self: undefined as string | undefined,
    /** Every window's lines and unread count: the lobby first, then rooms and private conversations as they come. */
    windows: [lobbyWindow()] as ChatWindow[],
    /** The shown window's key. */
    active: LOBBY_KEY,
    /** The client's rooms as they were before the frame being shown (who was in which room). */
    known: EMPTY_CHAT_STATE as ChatState,
    /** The current room last seen on the client: when it changes (/join, /room), its window is shown. */
    lastRoom: LOBBY as string,
    recipient: undefined as string | undefined,
    input: "",
    history: [] as string[],
    historyAt: 0,
    scroll: 0,
    unread: 0,
    refusal: undefined as string | undefined,
    ended: undefined as string | undefined,
    secret: undefined as Secret | undefined,
    status: { kind: "connected" } as Status,
    /** A `/history` request is on its way (PgUp asks once). */
    fetching: false,
    /** The server said there is nothing older. */
    noOlder: false,
  }).current;
  const size = useTerminalSize();
  const sizeNow = useRef(size); // for handlers registered once, at the first render
  sizeNow.current = size;
  const errorTimer = useRef<NodeJS.Timeout | undefined>(undefined);

  const setStatus = (status: Status) => {
    clearTimeout(errorTimer.current);
    state.status = status;
    if (status.kind === "error") {
      errorTimer.current = setTimeout(() => {
        if (state.status === status) state.status = { kind: client.connected ? "connected" : client.state === "reconnecting" ? "connecting" : "disconnected" };
        refresh();
      }, STATUS_ERROR_MS);
    }
  };

  const current = (): ChatWindow => state.windows.find((w) => w.key === state.active) ?? state.windows[0]!;

  /** The window of `key`, opened if needed (a room's, or a private conversation's with `title`). */
  const windowOf = (key: string, title: string): ChatWindow => {
    let win = state.windows.find((w) => w.key === key);
    if (!win) {
      win = { key, title, lines: [], unread: 0 };
      state.windows.push(win);
    }
    return win;
  };

  /** The window of the private conversation with `name` (as the server spells it when that person is online). */
  const privateWindowOf = (name: string): ChatWindow => {
    const known = knownName(client, name);
    return windowOf(privateKey(known), `@${known}`);
  };

  const activate = (key: string) => {
    const win = state.windows.find((w) => w.key === key);
    if (!win) return;
    state.active = key;
    win.unread = 0;
    state.scroll = 0;
    state.unread = 0;
    if (key.startsWith("#") && client.switchRoom(win.title)) state.lastRoom = client.room;
  };

  /** Where a frame's line goes: its room's window (if this client has it), a private conversation's, or the shown one. */
  const targetOf = (msg: Message): ChatWindow => {
    const route = windowFor(msg, client.name);
    if (route?.startsWith("@")) return windowOf(route, `@${msg.client_name === client.name ? (msg.to ?? "") : msg.client_name}`);
    if (route !== undefined) {
      const known = state.windows.find((w) => w.key === route);
      const room = findRoom(client.chat, route);
      if (known) return known;
      if (room) return windowOf(route, room.name);
    }
    return current();
  };

  /** Shows a line in its window; `unread`: it counts as new there when that window is not shown (replays do not, but kept private messages do). */
  const show = (line: DisplayLine, target: ChatWindow = current(), unread = !line.dim) => {
    target.lines.push(line);
    if (target.lines.length > KEPT_LINES) target.lines.splice(0, target.lines.length - KEPT_LINES);
    if (target !== current()) {
      if (UNREAD_KINDS.has(line.kind) && unread) target.unread += 1;
      refresh();
      return;
    }
    if (state.scroll > 0) {
      const { width } = conversationRows([], sizeNow.current.columns, sizeNow.current.rows, t, true);
      state.scroll += rowsOf(line, width).length; // stay on what is being read
      state.unread += 1;
    }
    refresh();
  };

  /** Replaces the pending line of `ref` (one's own chat) with what became of it. */
  const settle = (ref: string, line: DisplayLine) => {
    const win = state.windows.find((w) => w.lines.some((l) => l.pending === ref));
    if (win) win.lines[win.lines.findIndex((l) => l.pending === ref)] = line;
    else show(line);
    refresh();
  };

  /** Older lines go on top, under the "earlier messages" line; the replay after welcome goes below. */
  const showHistory = (batch: HistoryBatch) => {
    // In a room's own window its lines need no [#room] tag.
    const lines = historyLines(batch, client.name, t, batch.room);
    const roomWindow = batch.room === undefined ? undefined : targetOf(new Message({ type: "history", room: batch.room }));
    if (batch.ref === undefined && roomWindow) lines.forEach((line) => show(line, roomWindow));
    else if (batch.ref === undefined) {
      // Private chats kept while away: each in its conversation's window, counted as unread there (nobody has read them yet).
      batch.messages.forEach((msg) => show(chatLine(msg, client.name, t), targetOf(msg), true));
    } else {
      const win = roomWindow ?? current();
      state.fetching = false;
      state.noOlder = !batch.more;
      const older = lines.filter((line) => line.text !== t.earlierMore);
      if (batch.messages.length > 0) {
        // The hint to fetch more is spent: it would now sit in the middle.
        win.lines = win.lines.filter((line) => !(line.dim && line.text === t.earlierMore));
        const top = win.lines[0]?.text === t.earlier ? 1 : 0;
        win.lines.splice(top, 0, ...older.slice(top === 1 ? 1 : 0));
      } else show(older[0]!, win);
      refresh();
    }
  };

  const join = (candidate: string, password?: string) => {
    client.join(candidate, password).then(
      (welcome) => {
        state.self = welcome.client_name;
        state.refusal = undefined;
        state.ended = undefined;
        state.secret = undefined;
        setStatus({ kind: "connected" });
        show(describe(welcome, client.name, t)!);
      },
      (error: unknown) => {
        if (error instanceof JoinError && error.needsPassword) {
          state.secret = { kind: "login", name: candidate };
          state.refusal = error.code !== "password_required" ? refusalText(error, t) : undefined;
        } else if (error instanceof JoinError && error.refusesName) {
          state.secret = undefined;
          state.refusal = refusalText(error, t);
        } else {
          // Not about the name (banned, the server full or gone): said on the name screen, where it can be read whole.
          state.ended = joinFailureText(error, client.address, t);
          setStatus({ kind: "error", text: state.ended });
        }
        refresh();
      },
    );
  };

  useEffect(() => {
    let countdown: NodeJS.Timeout | undefined;
    const onMessage = (msg: Message) => {
      if (msg.type === "parted") closeWindow(roomKey(msg.room ?? LOBBY));
      const target = targetOf(msg);
      const line = describe(msg, client.name, t, target.key.startsWith("#") ? target.title : LOBBY);
      if (line?.kind === "error") setStatus({ kind: "error", text: line.text });
      if (line) show(line, target);
      else refresh();
      // Someone who left the server also left every room: said in each room's window where they were.
      if (msg.type === "leave" && msg.room === undefined && line) {
        for (const room of state.known.rooms) {
          const win = state.windows.find((w) => w.key === roomKey(room.name));
          if (win && win !== target && room.users.some((user) => nameKey(user) === nameKey(msg.client_name))) show(line, win);
        }
      }
      state.known = client.chat;
    };
    /** Rooms entered (welcome, /join) get windows; a new current room (/join, /room) is shown. */
    const onRooms = () => {
      for (const room of client.chat.rooms) windowOf(roomKey(room.name), room.name);
      // A room being entered is shown once its window exists (when `entered` comes).
      if (client.room !== state.lastRoom && state.windows.some((w) => w.key === roomKey(client.room))) {
        state.lastRoom = client.room;
        activate(roomKey(client.room));
      }
      refresh();
    };
    const closeWindow = (key: string) => {
      if (key === LOBBY_KEY) return;
      state.windows = state.windows.filter((w) => w.key !== key);
      if (state.active === key) activate(roomKey(client.room));
    };
    const onDelivered = (ref: string, echo: Message) => settle(ref, chatLine(echo, client.name, t, new Date(), echo.room ?? LOBBY));
    const onRefused = (ref: string, sent: Message, error: Message | undefined) => {
      const line = refusedLine(sent, error, t);
      setStatus({ kind: "error", text: line.text });
      settle(ref, line);
    };
    const onLost = () => {
      setStatus({ kind: "error", text: t.connectionLost(client.address) });
      show({ kind: "error", text: t.connectionLost(client.address) });
    };
    const onReconnecting = (delayMs: number, attempt: number) => {
      clearInterval(countdown);
      setStatus({ kind: "reconnecting", seconds: Math.ceil(delayMs / 1000), attempt });
      countdown = setInterval(() => {
        if (state.status.kind === "reconnecting" && state.status.seconds > 1) state.status.seconds--;
        refresh();
      }, 1000);
      refresh();
    };
    const onFailed = (error: Error) => show({ kind: "error", text: t.reconnectFailed(socketErrorText(error, t)) });
    const onNameHeld = (name: string, address: string) => show({ kind: "info", text: t.nameHeld(name, address) });
    const onRejoined = (welcome: Message) => {
      clearInterval(countdown);
      setStatus({ kind: "connected" });
      show({ kind: "info", text: rejoinedText(welcome, t) });
    };
    const onRejoinRefused = (error: JoinError) => {
      // Back to the name screen: another name, or the password of this one.
      clearInterval(countdown);
      setStatus({ kind: "connected" });
      state.self = undefined;
      state.input = "";
      state.secret = error.needsPassword ? { kind: "login", name: error.asked } : undefined;
      state.refusal = refusalText(error, t);
      show({ kind: "error", text: t.nameLostOnRejoin(state.refusal) });
    };
    const onPutOut = (msg: Message) => {
      // Not a lost connection: no countdown, no reconnection. Back to the name screen, saying why.
      clearInterval(countdown);
      const guest = !client.account;
      // A banned guest's address is banned too: the sentence says who may still join, no hint to try.
      state.ended = putOutText(msg, client.name, guest, t) + (msg.type === "ban" ? "" : ` ${t.comeBackScreen}`);
      state.self = undefined;
      state.secret = undefined;
      state.refusal = undefined;
      state.input = "";
      setStatus({ kind: "disconnected" });
      show({ kind: "error", text: state.ended });
    };
    client
      .on("message", onMessage)
      .on("putOut", onPutOut)
      .on("delivered", onDelivered)
      .on("refused", onRefused)
      .on("history", showHistory)
      .on("rooms", onRooms)
      .on("lost", onLost)
      .on("reconnecting", onReconnecting)
      .on("reconnectFailed", onFailed)
      .on("nameHeld", onNameHeld)
      .on("rejoined", onRejoined)
      .on("rejoinRefused", onRejoinRefused);
    if (name !== undefined) join(name);
    return () => {
      clearInterval(countdown);
      clearTimeout(errorTimer.current);
      client
        .off("message", onMessage)
        .off("putOut", onPutOut)
        .off("delivered", onDelivered)
        .off("refused", onRefused)
        .off("history", showHistory)
        .off("rooms", onRooms)
        .off("lost", onLost)
        .off("reconnecting", onReconnecting)
        .off("reconnectFailed", onFailed)
        .off("nameHeld", onNameHeld)
        .off("rejoined", onRejoined)
        .off("rejoinRefused", onRejoinRefused);
    };
  }, [client]);

  const submitSecret = (typed: string, secret: Secret) => {
    if (secret.kind === "login") return join(secret.name, typed);
    if (secret.kind === "new") {
      state.secret = undefined;
      // Too short is said at once, not after typing it twice.
      if (tooShort(typed)) return show({ kind: "error", text: errorText("weak_password", { detail: "" }, t) });
      state.secret = { kind: "repeat", first: typed };
      return;
    }
    state.secret = undefined;
    if (typed !== secret.first) return show({ kind: "error", text: t.passwordsDiffer });
    void client.register(typed).then((answer) => {
      const line = describe(answer, client.name, t) ?? { kind: "error" as const, text: t.error(sanitize(answer.message)) };
      if (line.kind === "error") setStatus({ kind: "error", text: line.text });
      show(line);
    });
  };

  const submit = (typed: string) => {
    state.input = "";
    if (state.secret !== undefined) return submitSecret(typed, state.secret);
    if (state.self === undefined) return join(typed.trim());
    if (typed.trim() !== "") state.history.push(typed);
    state.historyAt = state.history.length;
    let command = parseCommand(typed, client.users);
    const win = current();
    // The recipient chosen stays chosen: if they left, the server says the line was not delivered.
    if (command.kind === "say" && state.recipient !== undefined) command = { kind: "private", to: state.recipient, text: command.text };
    // In a private window, a line goes to that person; in a room's, to that room.
    else if (command.kind === "say" && win.key.startsWith("@")) command = { kind: "private", to: win.title.slice(1), text: command.text };
    else if (command.kind === "say" && !findRoom(client.chat, win.title)) {
      state.scroll = 0;
      return show({ kind: "error", text: t.notInRoom(win.title) });
    } else if (command.kind === "say") client.switchRoom(win.title);
    const result = runCommand(client, command, t);
    // One's own private line goes to the conversation's window, where the replies come; typed elsewhere, a note says where it went.
    const target = command.kind === "private" && client.joined ? privateWindowOf(command.to) : win;
    result.lines.forEach((line) => show(line, target));
    if (target !== win && result.lines.length > 0) show({ kind: "info", text: t.screen.privateSentTo(target.title, state.windows.indexOf(target) + 1) }, win);
    const error = result.lines.find((line) => line.kind === "error");
    if (error) setStatus({ kind: "error", text: error.text });
    if (result.askPassword) state.secret = { kind: "new" };
    if (result.quit) exit();
    state.scroll = 0;
    state.unread = 0;
  };

  /** Scrolled to the oldest line and PgUp again: ask the server for older ones. */
  const fetchOlder = () => {
    if (state.fetching || state.noOlder) return;
    if (client.requestHistory() !== undefined) state.fetching = true;
  };

  useInput((text, key) => {
    const page = Math.max(1, size.rows - 6);
    if (key.ctrl && text === "c") return exit();
    if (state.status.kind === "error" && client.joined) setStatus({ kind: "connected" }); // read: the next key clears it
    const windowAt = windowKey(text, key, state.windows.length, state.windows.findIndex((w) => w.key === state.active));
    if (windowAt !== undefined) activate(state.windows[windowAt]!.key);
    else if (key.ctrl && text === "l") state.input = "";
    else if (key.return) submit(state.input);
    else if (key.backspace || key.delete) state.input = withoutLastChar(state.input);
    else if (key.escape) {
      if (state.secret) {
        state.secret = undefined; // gives up registering, or this name for another
        if (state.self === undefined) state.refusal = undefined;
      } else state.recipient = undefined;
    } else if (key.tab) {
      // The shown room's members (the lobby's: everyone online).
      const shownRoom = current().key.startsWith("#") ? findRoom(client.chat, current().title) : undefined;
      const choices = [undefined, ...(shownRoom?.users ?? client.users).filter((u) => u !== state.self)];
      const at = choices.indexOf(state.recipient);
      state.recipient = choices[(at + (key.shift ? choices.length - 1 : 1)) % choices.length];
    } else if (key.upArrow && state.secret === undefined && state.historyAt > 0) state.input = state.history[--state.historyAt] ?? "";
    else if (key.downArrow && state.secret === undefined && state.historyAt < state.history.length) state.input = state.history[++state.historyAt] ?? "";
    else if (key.pageUp) {
      const { maxScroll } = conversationRows(current().lines, size.columns, size.rows, t, true);
      if (state.scroll >= maxScroll) fetchOlder();
      state.scroll = Math.min(state.scroll + page, maxScroll);
    } else if (key.pageDown) {
      state.scroll = Math.max(0, state.scroll - page);
      if (state.scroll === 0) state.unread = 0;
    } else if (!key.ctrl && !key.meta && !key.upArrow && !key.downArrow) {
      // A chunk of several lines is a paste: one message with its line breaks (not for names or passwords).
      const multiline = state.self !== undefined && state.secret === undefined;
      state.input = typeChunk(state.input, text, { submit }, { multiline });
    }
    refresh();
  });

  const shown = current();
  const room = shown.key.startsWith("#") ? findRoom(client.chat, shown.title) : undefined;
  return (
    <ChatView
      {...state}
      lines={shown.lines}
      windows={state.windows.map((w) => ({ title: w.title, unread: w.unread, active: w === shown, gone: w.key.startsWith("#") && !findRoom(client.chat, w.title) }))}
      room={room}
      peer={shown.key.startsWith("@") ? shown.title.slice(1) : undefined}
      friends={client.chat.friends}
      t={t}
      address={client.address}
      users={client.users}
      subject={client.subject}
      ascii={ascii === true}
      {...size}
    />
  );
}

/** Runs the full-screen interface until the user quits or a SIGTERM/SIGHUP comes; the terminal is given back as it was. */
export async function runFullScreen(client: ChatClient, t: Texts, name: string | undefined, ascii = false): Promise<number> {
  const screen = renderFullScreen(<ChatApp client={client} t={t} name={name} ascii={ascii} />);
  const stop = () => screen.app.unmount();
  process.once("SIGTERM", stop).once("SIGHUP", stop);
  try {
    await screen.app.waitUntilExit();
  } finally {
    process.off("SIGTERM", stop).off("SIGHUP", stop);
    screen.close();
    await client.quit();
  }
  return 0;
}
