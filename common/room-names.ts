/**
 * The lobby and the room-name rule, the same on both sides. A leaf with no
 * imports, so the browser page's bundle can use the command grammar without
 * loading protocol.ts (its framing needs Node's Buffer, and its name keys a
 * table of look-alike characters). protocol.ts re-exports all of it.
 */

/** The lobby: every joined client is in it. */
export const LOBBY = "#general";

/** Longest room name, in characters after the `#`. */
export const MAX_ROOM_CHARS = 32;

const ROOM_PATTERN = new RegExp(`^#[\\p{L}\\p{M}\\p{Nd}_-]{1,${MAX_ROOM_CHARS}}$`, "u");

/** Why a room name is refused, or undefined. */
export function roomProblem(name: string): string | undefined {
  if (!name.startsWith("#")) return "A room's name starts with #";
  if (!ROOM_PATTERN.test(name)) return `A room's name is # then 1 to ${MAX_ROOM_CHARS} letters, digits, _ or -`;
  return undefined;
}
