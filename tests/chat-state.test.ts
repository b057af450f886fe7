/** The client's rooms and friends as a reducer over server frames (chat-state.ts): pure, frame by frame. */
import t from "tap";
import { EMPTY_CHAT_STATE, findRoom, isOperator, reduceChat, type ChatState } from "../client/chat-state.js";
import { Message, type MessageFields } from "../protocol.js";

const apply = (state: ChatState, ...frames: MessageFields[]) => frames.reduce((s, f) => reduceChat(s, new Message(f)), state);
const welcomed = apply(EMPTY_CHAT_STATE, { type: "welcome", client_name: "ana", users: ["ana", "bruno"], rooms: ["#provas"] });

t.test("welcome: the lobby with who is online, then the rooms an account is back in", async (t) => {
  t.equal(welcomed.self, "ana");
  t.same(welcomed.rooms.map((r) => [r.name, r.users]), [["#general", ["ana", "bruno"]], ["#provas", []]]);
  const listed = apply(welcomed, { type: "list", room: "#provas", users: ["ana", "carla"], operators: ["ana"] });
  t.same(findRoom(listed, "#Provas")!.users, ["ana", "carla"]);
  t.ok(isOperator(findRoom(listed, "#provas")!, "ana"));
});

t.test("entered, join, leave with and without room, parted", async (t) => {
  let s = apply(welcomed, { type: "entered", room: "#grupo", users: ["ana"], owner: "ana", operators: ["ana"], topic: "t", private: true });
  t.match(findRoom(s, "#grupo"), { users: ["ana"], owner: "ana", topic: "t", private: true });
  s = apply(s, { type: "join", client_name: "bruno", room: "#grupo" }, { type: "join", client_name: "bruno", room: "#grupo" });
  t.same(findRoom(s, "#grupo")!.users, ["ana", "bruno"], "a repeated join adds no one twice");
  s = apply(s, { type: "join", client_name: "carla" });
  t.same(findRoom(s, "#general")!.users, ["ana", "bruno", "carla"], "a join without room is the lobby");
  s = apply(s, { type: "leave", client_name: "bruno", room: "#grupo", reason: "part" });
  t.same(findRoom(s, "#grupo")!.users, ["ana"]);
  t.same(findRoom(s, "#general")!.users, ["ana", "bruno", "carla"], "still online");
  s = apply(s, { type: "join", client_name: "carla", room: "#grupo" }, { type: "leave", client_name: "CARLA", reason: "lost" });
  t.same(findRoom(s, "#grupo")!.users, ["ana"], "leaving the server leaves every room (names without case)");
  t.same(findRoom(s, "#general")!.users, ["ana", "bruno"]);
  s = apply(s, { type: "parted", room: "#grupo" }, { type: "parted", room: "#general" });
  t.same(s.rooms.map((r) => r.name), ["#general", "#provas"], "the lobby is never left");
  t.equal(reduceChat(s, new Message({ type: "pong" })), s, "other frames change nothing");
});

t.test("topic, op, deop, and kick or ban of another member or of oneself", async (t) => {
  let s = apply(welcomed, { type: "entered", room: "#x", users: ["ana", "bruno"], owner: "carla", operators: [] });
  s = apply(s, { type: "topic", room: "#x", topic: "new", client_name: "carla" }, { type: "op", room: "#x", target: "bruno" });
  t.equal(findRoom(s, "#x")!.topic, "new");
  t.ok(isOperator(findRoom(s, "#x")!, "bruno"));
  t.ok(isOperator(findRoom(s, "#x")!, "carla"), "the owner is an operator");
  s = apply(s, { type: "deop", room: "#x", target: "bruno" });
  t.notOk(isOperator(findRoom(s, "#x")!, "bruno"));
  s = apply(s, { type: "kick", room: "#x", target: "bruno" });
  t.same(findRoom(s, "#x")!.users, ["ana"]);
  s = apply(s, { type: "ban", room: "#x", target: "ana" });
  t.equal(findRoom(s, "#x"), undefined, "banned oneself: out of the room");
  s = apply(s, { type: "mute", room: "#provas", target: "ana" });
  t.ok(findRoom(s, "#provas"), "muted: still in");
});

t.test("friends: the list, requests to me, acceptance, removal, presence", async (t) => {
  let s = apply(welcomed, { type: "friends", friends: [{ client_name: "bruno", online: true }], requests: ["carla"] });
  t.same(s.requests, ["carla"]);
  s = apply(s, { type: "friend", client_name: "ana", target: "dora", status: "requested" });
  t.same(s.requests, ["carla"], "my own request awaits nothing from me");
  s = apply(s, { type: "friend", client_name: "eva", target: "ana", status: "requested" });
  t.same(s.requests, ["carla", "eva"]);
  s = apply(s, { type: "friend", client_name: "ana", target: "carla", status: "accepted" });
  t.same(s.friends, [{ client_name: "bruno", online: true }, { client_name: "carla", online: false }]);
  t.same(s.requests, ["eva"]);
  s = apply(s, { type: "presence", client_name: "carla", online: true }, { type: "presence", client_name: "zed", online: true });
  t.same(s.friends.map((f) => [f.client_name, f.online]), [["bruno", true], ["carla", true]], "presence of a stranger adds no friend");
  s = apply(s, { type: "friend", client_name: "bruno", target: "ana", status: "removed" });
  t.same(s.friends.map((f) => f.client_name), ["carla"]);
});
