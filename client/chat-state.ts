/**
 * What the client knows of rooms and friends, as a reducer over the frames
 * the server sends (as ink's examples keep state: a pure function of the
 * previous state and one typed action). Pure: no I/O; `ChatClient` applies
 * it to every frame, and the views and tests read the result.
 */
import { LOBBY, nameKey, sortNames, type FriendSummary, type Message, roomKey } from "../protocol.js";

export interface RoomView {
  /** The room's name as the server spells it. */
  readonly name: string;
  /** Members now in it, sorted as the server sorts them. */
  readonly users: readonly string[];
  readonly operators: readonly string[];
  readonly owner: string;
  readonly topic: string;
  readonly private: boolean;
}

export interface ChatState {
  /** The name the server granted; undefined before a welcome. */
  readonly self: string | undefined;
  /** The rooms this client is in, the lobby first, then in the order entered. */
  readonly rooms: readonly RoomView[];
  /** Accepted friends and whether each is online. */
  readonly friends: readonly FriendSummary[];
  /** Names that asked to be friends and await an answer. */
  readonly requests: readonly string[];
}

export const EMPTY_CHAT_STATE: ChatState = { self: undefined, rooms: [], friends: [], requests: [] };

function emptyRoom(name: string): RoomView {
  return { name, users: [], operators: [], owner: "", topic: "", private: false };
}

const same = (a: string, b: string) => nameKey(a) === nameKey(b);
const has = (names: readonly string[], name: string) => names.some((n) => same(n, name));
const without = (names: readonly string[], name: string) => names.filter((n) => !same(n, name));
const withName = (names: readonly string[], name: string) => (has(names, name) ? names : sortNames([...names, name]));

/** The room of that name the client is in, if any (names compared without case). */
export function findRoom(state: ChatState, room: string): RoomView | undefined {
  const key = roomKey(room);
  return state.rooms.find((r) => roomKey(r.name) === key);
}

/** Whether `name` is an operator of `room` (its owner included). */
export function isOperator(room: RoomView, name: string): boolean {
  return has(room.operators, name) || (room.owner !== "" && same(room.owner, name));
}

function updateRoom(state: ChatState, room: string, change: (r: RoomView) => RoomView): ChatState {
  const key = roomKey(room);
  if (!state.rooms.some((r) => roomKey(r.name) === key)) return state;
  return { ...state, rooms: state.rooms.map((r) => (roomKey(r.name) === key ? change(r) : r)) };
}

function removeRoom(state: ChatState, room: string): ChatState {
  const key = roomKey(room);
  if (key === LOBBY) return state; // nobody leaves the lobby but by leaving the server
  return { ...state, rooms: state.rooms.filter((r) => roomKey(r.name) !== key) };
}

function setFriend(state: ChatState, name: string, online: boolean): ChatState {
  const friends = state.friends.some((f) => same(f.client_name, name))
    ? state.friends.map((f) => (same(f.client_name, name) ? { client_name: f.client_name, online } : f))
    : [...state.friends, { client_name: name, online }];
  return { ...state, friends, requests: without(state.requests, name) };
}

/** The state after one frame from the server. Frames it does not concern leave it as it was (the same object). */
export function reduceChat(state: ChatState, msg: Message): ChatState {
  const room = msg.room ?? LOBBY;
  switch (msg.type) {
    case "welcome": {
      // A (re)join starts over: the lobby, then the rooms an account is back in (their members come with `list`).
      const names = (msg.rooms ?? []).filter((r): r is string => typeof r === "string");
      const lobby = { ...emptyRoom(LOBBY), users: msg.users ?? [], operators: msg.operators ?? [] };
      return { ...state, self: msg.client_name, rooms: [lobby, ...names.filter((r) => roomKey(r) !== LOBBY).map(emptyRoom)] };
    }
    case "entered": {
      const view: RoomView = {
        name: room,
        users: msg.users ?? [],
        operators: msg.operators ?? [],
        owner: msg.owner ?? "",
        topic: msg.topic ?? "",
        private: msg.private === true,
      };
      return findRoom(state, room) ? updateRoom(state, room, () => view) : { ...state, rooms: [...state.rooms, view] };
    }
    case "parted":
      return removeRoom(state, room);
    case "list":
      return updateRoom(state, room, (r) => ({ ...r, users: msg.users ?? r.users, operators: msg.operators ?? r.operators }));
    case "join":
      return updateRoom(state, room, (r) => ({ ...r, users: withName(r.users, msg.client_name) }));
    case "leave":
      if (msg.room !== undefined) return updateRoom(state, room, (r) => ({ ...r, users: without(r.users, msg.client_name) }));
      // Left the server, and so every room.
      return { ...state, rooms: state.rooms.map((r) => (has(r.users, msg.client_name) ? { ...r, users: without(r.users, msg.client_name) } : r)) };
    case "topic":
      return updateRoom(state, room, (r) => ({ ...r, topic: msg.topic ?? "" }));
    case "kick":
    case "ban": {
      const target = msg.target ?? "";
      if (state.self !== undefined && same(target, state.self)) return removeRoom(state, room);
      return updateRoom(state, room, (r) => ({ ...r, users: without(r.users, target), operators: without(r.operators, target) }));
    }
    case "op":
      return updateRoom(state, room, (r) => ({ ...r, operators: withName(r.operators, msg.target ?? "") }));
    case "deop":
      return updateRoom(state, room, (r) => ({ ...r, operators: without(r.operators, msg.target ?? "") }));
    case "friends":
      return { ...state, friends: msg.friends ?? [], requests: msg.requests ?? [] };
    case "friend": {
      const self = state.self ?? "";
      const other = same(msg.client_name, self) ? (msg.target ?? "") : msg.client_name;
      if (msg.status === "accepted") return setFriend(state, other, findRoom(state, LOBBY)?.users.some((u) => same(u, other)) ?? false);
      if (msg.status === "removed") return { ...state, friends: state.friends.filter((f) => !same(f.client_name, other)), requests: without(state.requests, other) };
      // Requested: only a request to me awaits my answer.
      if (msg.status === "requested" && !same(msg.client_name, self)) return { ...state, requests: withName(state.requests, other) };
      return state;
    }
    case "presence":
      if (!state.friends.some((f) => same(f.client_name, msg.client_name))) return state;
      return setFriend(state, msg.client_name, msg.online === true);
    default:
      return state;
  }
}
