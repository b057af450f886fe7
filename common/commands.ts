/**
 * The command grammar (grammar.ts) bound to the protocol's name keys, for
 * the terminal client and the server's text port: names and rooms compare as
 * the server compares them, look-alike characters folded. The browser page
 * imports grammar.ts itself (these keys need a table it does not load).
 */
import { nameKey, roomKey, type MessageFields } from "../protocol.js";
import { parseLine, partsLobby, requestFields, type Command, type Sameness, type Where } from "./grammar.js";

export * from "./grammar.js";

/** Whether two room names are the same room (compared as the server compares them). */
export function sameRoom(a: string, b: string): boolean {
  return a === b || roomKey(a) === roomKey(b);
}

const PROTOCOL_SAMENESS: Sameness = { names: (a, b) => a === b || nameKey(a) === nameKey(b), rooms: sameRoom };

/**
 * What a typed line means. `online` is who is online now: `/name text` is a
 * private message only to one of them.
 */
export function parseCommand(line: string, online: readonly string[] = []): Command {
  return parseLine(line, online, PROTOCOL_SAMENESS);
}

/** The frame's fields a command asks the server for (see `requestFields`), names compared by the protocol's keys. */
export function commandFields(command: Command, where: Where): MessageFields | undefined {
  return requestFields(command, where, PROTOCOL_SAMENESS);
}

/** Whether a command would leave the lobby (see `partsLobby`). */
export function leavesLobby(command: Command, where: Where): boolean {
  return partsLobby(command, where, PROTOCOL_SAMENESS);
}
