/**
 * The browser client: the same JSON messages as the framed protocol, one per
 * WebSocket message, on `/ws` of the server that served this page.
 *
 * State lives in `state`; `render*()` functions draw it. Text from others is
 * only ever set through `textContent` (never innerHTML), so a message such as
 * `<img src=x onerror=...>` is shown as the characters it is.
 *
 * A typed line means what it means in the terminal client and on the text
 * port: the shared grammar (common/grammar.ts) reads it and spells out the
 * request. Names are compared without case here (the protocol's look-alike
 * table is too large for the page).
 */
import { LOBBY } from "../common/room-names.js";
import { parseLine, partsLobby, requestFields, type Command, type InputProblem, type Where } from "../common/grammar.js";
import { PAGE_HELP } from "./page-help.js";

/** A frame as the server sends it: the seed's four fields, and whatever else the type carries. */
interface Frame {
  type: string;
  client_name: string;
  subject: string;
  message: string;
  date: string;
  [field: string]: unknown;
}

interface Line {
  id?: string;
  kind: "chat" | "private" | "own" | "notice" | "error";
  time: string;
  from?: string;
  subject?: string;
  text: string;
  history?: boolean;
  /** The "earlier messages" divider above replayed history. */
  divider?: boolean;
}

/** The line above replayed history, as the terminal draws it. */
const EARLIER = "— earlier messages —";

interface Conversation {
  /** `#room` (lower case) or `@name` (lower case). */
  key: string;
  title: string;
  /** The room's name as the server spells it, or the other person's name. */
  target: string;
  kind: "room" | "private";
  lines: Line[];
  ids: Set<string>;
  unread: number;
  /** Older messages exist on the server ("load earlier"). */
  more: boolean;
  members: string[];
  operators: Set<string>;
  topic: string;
}

/** Reconnection waits 1, 2, 4 ... seconds, up to this. */
const MAX_RETRY_SECONDS = 10;
/** The `ref` of the friends request made on joining, whose error (a server without friends) is not shown. */
const FRIENDS_REF = "friends";
/** The `ref` of a registration the page asked for. */
const REGISTER_REF = "register";
/** Fewest characters of a password (the server's weak_password), checked before anything is sent. */
const MIN_PASSWORD = 8;
const WEAK_PASSWORD = `Password too weak: use at least ${MIN_PASSWORD} characters.`;
/** Messages asked for by "load earlier". */
const PAGE = 50;

const state = {
  ws: undefined as WebSocket | undefined,
  name: "",
  password: "",
  joined: false,
  /** Joined at least once: a lost connection is then retried. */
  wasJoined: false,
  current: LOBBY,
  conversations: new Map<string, Conversation>(),
  online: [] as string[],
  /** Logged in to an account: friends are for accounts only. */
  account: false,
  /** Accepted friends, and whether each is online. */
  friends: new Map<string, boolean>(),
  /** Names that asked to be this account's friends and await its answer. */
  requests: new Set<string>(),
  /** A new password to register the name with once joined (the login form's "Register" box, or /register): kept for reconnecting once registered. */
  registering: "",
  /** Names this account asked to be friends, awaiting their answer: their button says so instead of offering again. */
  asked: new Set<string>(),
  attempt: 0,
  retryTimer: undefined as number | undefined,
  refNumber: 0,
  /** The conversation the recipient list was last drawn for: another one starts again from "everyone". */
  recipientsFor: "",
  /** The room the user asked to enter: shown once entered (rooms entered again after a reconnection are not). */
  opening: "",
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// ---------------------------------------------------------------------------
// DOM helpers: text only
// ---------------------------------------------------------------------------

function el(tag: string, className = "", text = ""): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function hhmm(date: string): string {
  const parsed = new Date(date);
  const time = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
  return time.toTimeString().slice(0, 5);
}

// ---------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------

function connect(): void {
  clearTimeout(state.retryTimer);
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const ws = new WebSocket(url);
  state.ws = ws;
  setStatus(state.wasJoined ? "reconnecting" : "connecting", "Connecting…");
  ws.onopen = () => send({ type: "join", client_name: state.name, ...(state.password && { password: state.password }), features: ["history", "echo"] });
  ws.onmessage = (event) => {
    let frame: Frame;
    try {
      frame = JSON.parse(String(event.data)) as Frame;
    } catch {
      return;
    }
    onFrame(frame);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = undefined;
    state.joined = false;
    if (state.wasJoined) scheduleReconnect();
    else {
      setStatus("offline", "Not connected");
      showReason("Cannot reach the server. Is it running?");
    }
  };
}

function scheduleReconnect(): void {
  state.attempt++;
  let seconds = Math.min(MAX_RETRY_SECONDS, 2 ** (state.attempt - 1));
  const tick = () => {
    if (seconds <= 0) return connect();
    setStatus("reconnecting", `Connection lost: reconnecting in ${seconds} s (attempt ${state.attempt})`);
    seconds--;
    state.retryTimer = window.setTimeout(tick, 1000);
  };
  tick();
}

function send(fields: Record<string, unknown>): boolean {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(fields));
  return true;
}

function setStatus(kind: "connecting" | "online" | "reconnecting" | "offline", text: string): void {
  $("status").className = kind;
  $("state").textContent = text;
  $("whoami").textContent = state.joined ? `you are ${state.name}` : "";
}

// ---------------------------------------------------------------------------
// Frames from the server
// ---------------------------------------------------------------------------

function onFrame(frame: Frame): void {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
  else if (frame.message) addLine(state.current, { kind: "notice", time: hhmm(frame.date), text: frame.message });
  render();
}

const handlers: Record<string, (frame: Frame) => void> = {
  welcome(frame) {
    const again = state.wasJoined;
    state.joined = true;
    state.wasJoined = true;
    state.attempt = 0;
    state.name = frame.client_name;
    state.online = strings(frame.users);
    const lobby = conversation(LOBBY, "room", LOBBY);
    lobby.members = state.online;
    lobby.operators = new Set(strings(frame.operators)); // the server's admins online
    setStatus("online", `Connected to ${location.host}`);
    $("login").hidden = true;
    $("chat").hidden = false;
    addLine(LOBBY, { kind: "notice", time: hhmm(frame.date), text: again ? `Reconnected as ${frame.client_name}` : frame.message });
    // An account is put back in its rooms by the server (welcome.rooms); a guest's rooms are entered again.
    const kept = new Set(strings(frame.rooms).map((room) => room.toLowerCase()));
    for (const room of kept) conversation(room, "room", strings(frame.rooms).find((r) => r.toLowerCase() === room)!);
    for (const conv of state.conversations.values()) {
      if (conv.kind === "room" && conv.key !== LOBBY && !kept.has(conv.key)) send({ type: "enter", room: conv.target });
    }
    state.account = frame.account === true;
    if (state.account) send({ type: "friends", ref: FRIENDS_REF });
    if (state.registering && !state.account && !again) send({ type: "register", password: state.registering, ref: REGISTER_REF });
    $("message").focus();
  },
  error(frame) {
    if (!state.joined) {
      showReason(frame.message);
      // The connection is up; only the name (or its password) was refused: say that, not "Connecting…".
      if (state.ws?.readyState === WebSocket.OPEN) setStatus("connecting", `Connected to ${location.host}, not joined yet`);
      if (frame.code === "password_required" || frame.code === "bad_password") $("password").focus();
      if (state.wasJoined && frame.code !== "logged_in_elsewhere") return;
      state.wasJoined = false;
      return;
    }
    if (frame.ref === FRIENDS_REF) return; // a server without friends: nothing to show
    if (frame.code === "logged_in_elsewhere") state.wasJoined = false; // the other login wins: do not fight it
    addLine(state.current, { kind: "error", time: hhmm(frame.date), text: frame.message });
  },
  chat(frame) {
    const key = conversationKeyOf(frame);
    const conv = conversation(key, key.startsWith("#") ? "room" : "private", key.startsWith("#") ? String(frame.room ?? LOBBY) : otherParty(frame));
    const own = frame.client_name === state.name;
    const line: Line = {
      id: typeof frame.id === "string" ? frame.id : undefined,
      kind: own ? "own" : frame.to !== undefined ? "private" : "chat",
      time: hhmm(frame.date),
      from: frame.to !== undefined ? `${frame.client_name} → ${String(frame.to)}` : frame.client_name,
      subject: frame.subject,
      text: frame.message,
      history: frame.history === true,
    };
    if (addLine(conv.key, line) && !own && !line.history && conv.key !== state.current) conv.unread++;
  },
  history(frame) {
    const key = typeof frame.with === "string" ? `@${frame.with.toLowerCase()}` : typeof frame.room === "string" ? frame.room.toLowerCase() : undefined;
    const conv = key ? state.conversations.get(key) : undefined;
    if (conv) conv.more = frame.more === true;
  },
  join(frame) {
    const room = roomOf(frame);
    const conv = conversation(room, "room", String(frame.room ?? LOBBY));
    if (!conv.members.includes(frame.client_name)) conv.members = [...conv.members, frame.client_name].sort(byName);
    if (room === LOBBY) state.online = conv.members;
    addLine(room, { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  leave(frame) {
    const rooms = frame.room === undefined ? [...state.conversations.values()].filter((c) => c.kind === "room") : [conversation(roomOf(frame), "room", String(frame.room))];
    for (const conv of rooms) {
      if (!conv.members.includes(frame.client_name) && conv.key !== LOBBY) continue;
      conv.members = conv.members.filter((name) => name !== frame.client_name);
      addLine(conv.key, { kind: "notice", time: hhmm(frame.date), text: frame.message });
    }
    state.online = state.online.filter((name) => name !== frame.client_name);
  },
  list(frame) {
    const conv = state.conversations.get(roomOf(frame));
    if (conv) conv.members = strings(frame.users);
    if (conv) conv.operators = new Set(strings(frame.operators));
    addLine(state.current, { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  entered(frame) {
    const conv = conversation(roomOf(frame), "room", String(frame.room));
    conv.members = strings(frame.users);
    conv.operators = new Set(strings(frame.operators).concat(typeof frame.owner === "string" ? [frame.owner] : []));
    conv.topic = typeof frame.topic === "string" ? frame.topic : "";
    addLine(conv.key, { kind: "notice", time: hhmm(frame.date), text: frame.message }); // "You are in #x (topic). Members (2): ..."
    if (state.opening === conv.key) {
      state.current = conv.key;
      state.opening = "";
    }
  },
  parted(frame) {
    state.conversations.delete(roomOf(frame));
    if (state.current === roomOf(frame)) state.current = LOBBY;
  },
  topic(frame) {
    const conv = state.conversations.get(roomOf(frame));
    if (conv) conv.topic = typeof frame.topic === "string" ? frame.topic : "";
    addLine(roomOf(frame), { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  op(frame) {
    state.conversations.get(roomOf(frame))?.operators.add(String(frame.target));
    addLine(roomOf(frame), { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  deop(frame) {
    state.conversations.get(roomOf(frame))?.operators.delete(String(frame.target));
    addLine(roomOf(frame), { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  registered(frame) {
    // The name is an account now: reconnecting needs its password, and friends open up.
    state.account = true;
    state.password = state.registering;
    state.registering = "";
    send({ type: "friends", ref: FRIENDS_REF });
    addLine(state.current, { kind: "notice", time: hhmm(frame.date), text: `The name ${frame.client_name} is now registered: join with its password from now on.` });
  },
  friends(frame) {
    const list = Array.isArray(frame.friends) ? (frame.friends as Array<{ client_name: string; online: boolean }>) : [];
    state.friends = new Map(list.map((f) => [f.client_name, f.online]));
    state.requests = new Set(strings(frame.requests));
    // The list asked for on joining only fills the member marks; one asked for with /friends is shown.
    if (frame.ref !== FRIENDS_REF) addLine(state.current, { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  friend(frame) {
    const other = frame.client_name === state.name ? String(frame.target) : frame.client_name;
    if (frame.status === "accepted") {
      state.friends.set(other, state.online.includes(other));
      state.requests.delete(other);
    } else if (frame.status === "removed") {
      state.friends.delete(other);
      state.requests.delete(other);
    } else if (frame.status === "requested" && frame.client_name !== state.name) state.requests.add(other);
    else if (frame.status === "requested") state.asked.add(other);
    if (frame.status !== "requested") state.asked.delete(other);
    addLine(LOBBY, { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  presence(frame) {
    if (state.friends.has(frame.client_name)) state.friends.set(frame.client_name, frame.online === true);
    addLine(LOBBY, { kind: "notice", time: hhmm(frame.date), text: frame.message });
  },
  ping() {
    send({ type: "pong" });
  },
  pong() {},
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function byName(a: string, b: string): number {
  return a.toLowerCase() < b.toLowerCase() ? -1 : 1;
}

function roomOf(frame: Frame): string {
  return typeof frame.room === "string" ? frame.room.toLowerCase() : LOBBY;
}

function otherParty(frame: Frame): string {
  return frame.client_name === state.name ? String(frame.to) : frame.client_name;
}

function conversationKeyOf(frame: Frame): string {
  if (typeof frame.to === "string" && frame.to !== "") return `@${otherParty(frame).toLowerCase()}`;
  return roomOf(frame);
}

function conversation(key: string, kind: Conversation["kind"], target: string): Conversation {
  let conv = state.conversations.get(key);
  if (!conv) {
    conv = { key, title: kind === "room" ? target : `@${target}`, target, kind, lines: [], ids: new Set(), unread: 0, more: false, members: [], operators: new Set(), topic: "" };
    state.conversations.set(key, conv);
  }
  return conv;
}

/** Adds a line, in id order for chats, once: a replay after reconnecting repeats what is already shown. */
function addLine(key: string, line: Line): boolean {
  const conv = state.conversations.get(key) ?? conversation(LOBBY, "room", LOBBY);
  if (line.id !== undefined) {
    if (conv.ids.has(line.id)) return false;
    conv.ids.add(line.id);
    const at = conv.lines.findIndex((other) => other.id !== undefined && other.id > line.id!);
    if (at >= 0) {
      conv.lines.splice(at, 0, line);
      return true;
    }
  }
  if (line.history) return addReplayed(conv, line);
  conv.lines.push(line);
  return true;
}

/** A replayed chat goes above what was said since (the welcome too), under the "earlier messages" divider. */
function addReplayed(conv: Conversation, line: Line): boolean {
  if (!conv.lines.some((other) => other.divider)) conv.lines.unshift({ kind: "notice", time: "", text: EARLIER, history: true, divider: true });
  const after = conv.lines.findIndex((other) => !other.history);
  conv.lines.splice(after < 0 ? conv.lines.length : after, 0, line);
  return true;
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

function render(): void {
  const conv = state.conversations.get(state.current) ?? conversation(LOBBY, "room", LOBBY);
  conv.unread = 0;
  renderConversations();
  renderLog(conv);
  renderMembers(conv);
  renderRecipients(conv);
  $("topic").textContent = conv.kind === "room" ? `${conv.target}${conv.topic ? ` — ${conv.topic}` : ""}` : `Private conversation with ${conv.target}`;
  $("earlier").hidden = !conv.more;
}

function renderConversations(): void {
  const list = $("conv-list");
  list.replaceChildren();
  for (const conv of state.conversations.values()) {
    const button = el("button", `conv${conv.key === state.current ? " current" : ""}`);
    button.setAttribute("type", "button");
    button.append(el("span", "", conv.title));
    if (conv.unread > 0) button.append(el("span", "badge", String(conv.unread)));
    button.onclick = () => open(conv.key);
    list.append(button);
  }
}

function renderLog(conv: Conversation): void {
  const log = $("log");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(
    ...conv.lines.map((line) => {
      const item = el("li", `${line.kind}${line.history ? " history" : ""}${line.divider ? " divider" : ""}`);
      item.append(el("span", "time", line.time));
      if (line.from !== undefined) item.append(el("span", "from", line.from));
      if (line.subject) item.append(el("span", "subject", `[${line.subject}]`));
      item.append(document.createTextNode(line.text));
      return item;
    }),
  );
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function renderMembers(conv: Conversation): void {
  const names = conv.kind === "room" ? conv.members : [state.name, conv.target];
  $("members-title").textContent = conv.kind === "room" ? `In ${conv.target} (${names.length})` : "Conversation";
  $("member-list").replaceChildren(...names.map((name) => memberEntry(conv, name)));
}

/** A member: their name (click: a private conversation), operator and friend marks, and the friend button for accounts. */
function memberEntry(conv: Conversation, name: string): HTMLElement {
  const entry = el("div", "entry");
  const button = el("button", `member${conv.operators.has(name) ? " op" : ""}`, name);
  button.setAttribute("type", "button");
  button.title = conv.operators.has(name) ? "operator" : "";
  if (state.friends.has(name)) button.append(el("span", "friend", state.friends.get(name) ? " · friend, online" : " · friend"));
  if (name !== state.name) button.onclick = () => open(`@${name.toLowerCase()}`, name);
  entry.append(button);
  if (state.account && name !== state.name && !state.friends.has(name)) {
    const asked = state.requests.has(name);
    const pending = !asked && state.asked.has(name);
    const befriend = el("button", "befriend", asked ? "accept friend" : pending ? "request sent" : "+ friend") as HTMLButtonElement;
    befriend.setAttribute("type", "button");
    befriend.title = asked ? `${name} asked to be your friend` : pending ? `waiting for ${name} to accept` : `ask ${name} to be your friend`;
    befriend.disabled = pending; // asking again would only repeat the request
    befriend.onclick = () => send({ type: "friend", target: name });
    entry.append(befriend);
  }
  return entry;
}

function renderRecipients(conv: Conversation): void {
  const select = $<HTMLSelectElement>("recipient");
  const chosen = state.recipientsFor === conv.key ? select.value : "";
  state.recipientsFor = conv.key;
  const everyone = el("option", "", conv.kind === "room" ? `Everyone in ${conv.target}` : `Everyone in ${LOBBY}`) as HTMLOptionElement;
  everyone.value = "";
  const people = state.online.filter((name) => name !== state.name);
  const options = people.map((name) => {
    const option = el("option", "", name) as HTMLOptionElement;
    option.value = name;
    return option;
  });
  select.replaceChildren(everyone, ...options);
  select.value = conv.kind === "private" ? conv.target : people.includes(chosen) ? chosen : "";
}

function open(key: string, target?: string): void {
  if (target !== undefined) conversation(key, "private", target);
  state.current = key;
  render();
  $("message").focus();
}

function showReason(text: string): void {
  $("login").hidden = false;
  $("chat").hidden = true;
  $("reason").textContent = text;
}

// ---------------------------------------------------------------------------
// What the user does
// ---------------------------------------------------------------------------

function onLogin(event: Event): void {
  event.preventDefault();
  state.name = $<HTMLInputElement>("name").value.trim();
  state.password = $<HTMLInputElement>("password").value;
  $("reason").textContent = "";
  // Registering: join as the guest the name still is, then register it with this password (the same rules as /register).
  state.registering = $<HTMLInputElement>("register").checked ? state.password : "";
  if (state.registering && [...state.registering].length < MIN_PASSWORD) return showReason(WEAK_PASSWORD);
  if (state.registering) state.password = "";
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    send({ type: "join", client_name: state.name, ...(state.password && { password: state.password }), features: ["history", "echo"] });
  } else connect();
}

function onSend(event: Event): void {
  event.preventDefault();
  const box = $<HTMLTextAreaElement>("message");
  if (box.value.trim() === "") return;
  const conv = state.conversations.get(state.current)!;
  const where: Where = { room: conv.kind === "room" ? conv.target : LOBBY, subject: $<HTMLInputElement>("subject").value, before: oldestId(LOBBY) };
  const command = parseLine(box.value, state.online);
  const to = $<HTMLSelectElement>("recipient").value;
  // A plain line goes to the recipient chosen (or the private conversation shown), as before commands were read.
  const line = command.kind === "say" && to !== "" ? ({ kind: "private", to, text: command.text } as const) : command;
  if (runTyped(line, where)) box.value = "";
  render();
}

/** Carries out a typed command; false when it could not be sent (the line stays in the box). */
function runTyped(command: Command, where: Where): boolean {
  if (partsLobby(command, where)) return say("error", `Everyone stays in ${LOBBY}: close the page to leave the chat.`);
  const fields = requestFields(command, where);
  if (fields === undefined) return answerHere(command);
  if (command.kind === "register" && command.password !== undefined) {
    if ([...command.password].length < MIN_PASSWORD) return say("error", WEAK_PASSWORD);
    state.registering = command.password;
  }
  if (!send({ ...fields, ref: String(++state.refNumber) })) return !say("error", "Not connected: the message was not sent.");
  if (command.kind === "enter") state.opening = command.room.toLowerCase();
  return true;
}

/** The commands the page answers itself. */
function answerHere(command: Command): boolean {
  switch (command.kind) {
    case "switch": {
      const conv = state.conversations.get(command.room.toLowerCase());
      if (conv === undefined) return say("error", `You are not in ${command.room}: /join ${command.room} first.`);
      open(conv.key);
      return true;
    }
    case "subject":
      $<HTMLInputElement>("subject").value = command.subject;
      return say("notice", command.subject ? `Subject of your next messages: ${command.subject}` : "Subject cleared.");
    case "register":
      return say("error", "/register needs the password: /register password");
    case "help":
      return say("notice", PAGE_HELP);
    case "quit":
      return say("error", "/quit: close the page to leave the chat.");
    case "invalid":
      return say("error", problemText(command.problem, command.word));
    default:
      return true;
  }
}

/** A line of the page's own in the conversation shown; true, so that callers can return it. */
function say(kind: Line["kind"], text: string): boolean {
  addLine(state.current, { kind, time: hhmm(new Date().toISOString()), text });
  return true;
}

/** The oldest chat shown in a conversation: what "load earlier" and /history ask before. */
function oldestId(key: string): string | undefined {
  return state.conversations.get(key)?.lines.find((line) => line.id !== undefined)?.id;
}

/** What is wrong with a typed line, in the words the terminal client uses. */
function problemText(problem: InputProblem, word: string): string {
  switch (problem) {
    case "private_without_text":
      return `Private message without text: write ${word} followed by your message.`;
    case "private_without_name":
      return `Private message without a name: write ${word}name followed by your message.`;
    case "unknown_command":
      return `Unknown command ${word}. Type /help.`;
    case "room_missing":
      return `${word} needs a room: ${word} #name`;
    case "room_invalid":
      return `Not a room name: ${JSON.stringify(word)}.`;
    case "target_missing":
      return `${word} needs a name: ${word} name`;
    case "unexpected_text":
      return `Unexpected ${JSON.stringify(word)}: type /help.`;
  }
}


function onClear(): void {
  $<HTMLTextAreaElement>("message").value = "";
  $<HTMLInputElement>("subject").value = "";
  $<HTMLSelectElement>("recipient").value = "";
  $("message").focus();
}

function onEarlier(): void {
  const conv = state.conversations.get(state.current);
  if (!conv) return;
  const oldest = oldestId(conv.key);
  const about = conv.kind === "room" ? { room: conv.target } : { with: conv.target };
  send({ type: "history", ...about, limit: PAGE, ...(oldest !== undefined && { before: oldest }) });
}

function onEnterRoom(event: Event): void {
  event.preventDefault();
  const input = $<HTMLInputElement>("room-name");
  const room = input.value.trim();
  if (room === "") return;
  const name = room.startsWith("#") ? room : `#${room}`;
  state.opening = name.toLowerCase();
  send({ type: "enter", room: name });
  input.value = "";
}

$("login").addEventListener("submit", onLogin);
$("compose").addEventListener("submit", onSend);
$("clear").addEventListener("click", onClear);
$("earlier").addEventListener("click", onEarlier);
$("room-form").addEventListener("submit", onEnterRoom);
$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) onSend(event);
});
