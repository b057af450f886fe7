/**
 * The chat's wire protocol: the `Message` class, framing, limits and defaults.
 *
 * A frame is one header line, `Content-length: N\n`, then N bytes of a UTF-8
 * JSON object. This module is pure (no sockets): `encode()` turns a message
 * into bytes and a `Decoder` turns chunks of a byte stream back into messages
 * or `ProtocolError`s. See docs/protocol.md for the whole contract.
 */

import { invisibleProblem, markProblem, nameSkeleton, scriptProblem } from "./common/names.js";

// ---------------------------------------------------------------------------
// Defaults and limits
// ---------------------------------------------------------------------------

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 9999;

/** Longest header line a receiver accepts, in bytes, not counting the `\n`. */
export const MAX_HEADER_BYTES = 64;
/** Largest body a receiver accepts, in bytes. */
export const MAX_BODY_BYTES = 65_536;
/** Longest user name, in characters (Unicode code points). */
export const MAX_NAME_CHARS = 32;
/** Most bytes the server buffers for a client that does not read, before it cuts it off. */
export const MAX_OUTBOUND_BYTES = 1024 * 1024;

/** The header name senders write. Receivers accept any case. */
export const HEADER_NAME = "Content-length";
/** The `client_name` of frames the server itself originates. */
export const SERVER_NAME = "server";
/** Prefix of the names given to clients that join without one (seed 003). */
export const DEFAULT_NAME_PREFIX = "Usuario";

// ---------------------------------------------------------------------------
// Message types and error codes
// ---------------------------------------------------------------------------

// `pong` from a client and `ping` from the server are this project's extension
// in version 1, and the `ping` feature in version 2.
export const CLIENT_TYPES = [
  "join", "chat", "list", "quit", "ping", "pong",
  // Version 2
  "register", "history", "enter", "part", "rooms", "topic",
  "kick", "ban", "unban", "mute", "unmute", "op", "deop", "invite",
  "friend", "unfriend", "friends",
] as const;
export const SERVER_TYPES = [
  "welcome", "chat", "join", "leave", "list", "error", "pong", "ping",
  // Version 2
  "registered", "history", "entered", "parted", "rooms", "topic",
  "kick", "ban", "unban", "mute", "unmute", "op", "deop", "invite",
  "friend", "friends", "presence",
] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];
export type MessageType = ClientType | (typeof SERVER_TYPES)[number];
const KNOWN_TYPES: ReadonlySet<string> = new Set<string>([...CLIENT_TYPES, ...SERVER_TYPES]);

/** Moderation actions: `{type, room?, target, reason?}` from an operator, told to every member. */
export const MODERATION_TYPES = ["kick", "ban", "unban", "mute", "unmute", "op", "deop", "invite"] as const;
export type ModerationType = (typeof MODERATION_TYPES)[number];

/** What a client may ask for in `join.features` (version 2). */
export const FEATURES = ["ping", "history", "echo"] as const;
export type Feature = (typeof FEATURES)[number];

/** The lobby: every joined client is in it (written in common/room-names.ts, beside the room-name rule). */
export { LOBBY } from "./common/room-names.js";

export const ERROR_CODES = [
  "bad_header",
  "frame_too_large",
  "bad_json",
  "bad_message",
  "unknown_type",
  "not_joined",
  "name_invalid",
  "name_taken",
  "unknown_recipient",
  "rate_limited",
  "server_shutdown",
  // Version 2
  "name_registered",
  "weak_password",
  "password_required",
  "bad_password",
  "too_many_attempts",
  "logged_in_elsewhere",
  "not_registered",
  "room_invalid",
  "not_in_room",
  "invite_only",
  "banned",
  "muted",
  "not_operator",
  // Extensions: the server is at --max-clients; a time limit ran out.
  "server_full",
  "timeout",
  // Too many passwords are being checked (a full queue is not a wrong password): try again in a moment.
  "busy",
  // The chat could not take the change now (its store failed; with several servers, Redis is away): try again.
  "unavailable",
  // A private chat to an account that is away would go past what its mailbox (or one sender's share of it) keeps.
  "mailbox_full",
  // Entering one room more than a client may be in, or creating one more than a name may own.
  "too_many_rooms",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Why a client left, as carried by `leave` frames. */
export type LeaveReason =
  | "quit"
  | "lost"
  | "kicked"
  | "banned"
  | "part"
  | "slow"
  | "shutdown"
  | "protocol_error"
  | "timeout";

/** A protocol failure with a stable `code`. `fatal` means the byte stream can no longer be trusted. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fatal = false,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// The Message class (the seed's four fields, plus `type` and the extensions)
// ---------------------------------------------------------------------------

/** A room as listed by `rooms` (version 2). */
export interface RoomSummary {
  room: string;
  members: number;
  topic: string;
  private: boolean;
}

/** A friend as listed by `friends` (version 2). */
export interface FriendSummary {
  client_name: string;
  online: boolean;
}

/** Every field a frame may carry besides the seed's four; all optional. */
export interface ExtraFields {
  to?: string;
  users?: string[];
  /** How many are online when `users` had to be cut short to fit a frame (extension). */
  count?: number;
  code?: ErrorCode | string;
  reason?: LeaveReason | string;
  // Version 2
  features?: string[];
  ref?: string;
  password?: string;
  account?: boolean;
  id?: string;
  history?: boolean;
  more?: boolean;
  before?: string;
  limit?: number;
  with?: string;
  room?: string;
  /** `welcome.rooms`: names; the `rooms` answer: summaries. */
  rooms?: string[] | RoomSummary[];
  topic?: string;
  owner?: string;
  operators?: string[];
  private?: boolean;
  target?: string;
  status?: string;
  online?: boolean;
  friends?: FriendSummary[];
  requests?: string[];
  /** `rooms` request: the page of rooms after this one (the previous answer's last; extension). */
  after?: string;
}

export interface MessageFields extends ExtraFields {
  type: MessageType;
  client_name?: string;
  subject?: string;
  message?: string;
  date?: string;
}

/** The optional fields in wire order, after the seed's four. */
const EXTRA_FIELDS = [
  "to", "users", "count", "code", "reason",
  "features", "ref", "password", "account", "id", "history", "more", "before", "limit", "with",
  "room", "rooms", "topic", "owner", "operators", "private", "target", "status", "online", "friends", "requests", "after",
] as const satisfies ReadonlyArray<keyof ExtraFields>;

/**
 * One protocol message. The seed's four fields are always strings, so every
 * encoded frame is also a complete seed `Message` that the original client can show.
 */
export interface Message extends ExtraFields {}
export class Message {
  type: MessageType;
  client_name: string;
  subject: string;
  message: string;
  date: string;
  /** True when the frame had no `type`: a bare seed `Message`. Not sent on the wire. */
  bare = false;

  constructor(fields: MessageFields) {
    this.type = fields.type;
    this.client_name = fields.client_name ?? "";
    this.subject = fields.subject ?? "";
    this.message = fields.message ?? "";
    this.date = fields.date ?? new Date().toISOString();
    for (const field of EXTRA_FIELDS) {
      const value = fields[field];
      if (value !== undefined) (this as ExtraFields)[field] = value as never;
    }
  }

  /** The wire form: only protocol fields, in a stable order. */
  toJSON(): Record<string, unknown> {
    const { type, client_name, subject, message, date } = this;
    const json: Record<string, unknown> = { type, client_name, subject, message, date };
    for (const field of EXTRA_FIELDS) {
      const value = this[field];
      if (value !== undefined) json[field] = value;
    }
    return json;
  }
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

// Letters of any script (with their combining marks, which scripts such as
// Devanagari need), decimal digits and `_`; length counted in code points.
const NAME_PATTERN = new RegExp(`^[\\p{L}\\p{M}\\p{Nd}_]{1,${MAX_NAME_CHARS}}$`, "u");

/** Why a name is refused, or undefined when it is acceptable. The misleading kinds are in names.ts. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "A name cannot be empty";
  if (/\s/u.test(name)) return "A name cannot contain spaces";
  if ([...name].length > MAX_NAME_CHARS) return `A name has at most ${MAX_NAME_CHARS} characters`;
  // Before the allowed characters: U+2800 and zero-width spaces are not letters either, but "invisible" is the reason to give.
  const invisible = invisibleProblem(name);
  if (invisible !== undefined) return invisible;
  if (!NAME_PATTERN.test(name)) return "A name may contain only letters, digits and _";
  const misleading = markProblem(name) ?? scriptProblem(name);
  if (misleading !== undefined) return misleading;
  if (nameKey(name) === SERVER_NAME) return `The name "${SERVER_NAME}" is reserved`;
  return undefined;
}

/**
 * The form under which names are compared, a skeleton (names.ts): without
 * case, width or compatibility forms, and with look-alike characters folded,
 * so `Ana`, `ａｎａ` and Cyrillic `аna` are one name. For comparing only, never for display.
 */
export function nameKey(name: string): string {
  return nameSkeleton(name);
}

// Room names, the same rules on both sides.

// The longest room name and why a name is refused live in a leaf module the browser page can load too.
export { MAX_ROOM_CHARS, roomProblem } from "./common/room-names.js";

/** Rooms compare without case, like names. */
export function roomKey(name: string): string {
  return `#${nameKey(name.slice(1))}`;
}

/**
 * Names in the order lists show them: without regard to case, then by code
 * unit. Not by `nameKey()` (a skeleton: `Usuario0` would sort as `usuarioo`),
 * and not by localeCompare, a thousand times slower in a burst of joins.
 */
export function sortNames(names: Iterable<string>): string[] {
  return [...names]
    .map((name) => [name.toLowerCase(), name] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([, name]) => name);
}

/** Longest piece of a peer's text quoted back in an error message, in characters. */
export const MAX_QUOTE_CHARS = 40;

/** A peer's text quoted in an error message: cut short, so an answer never outgrows the frame limit. */
export function quote(text: string): string {
  const chars = [...text];
  return JSON.stringify(chars.length > MAX_QUOTE_CHARS ? `${chars.slice(0, MAX_QUOTE_CHARS).join("")}…` : text);
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/**
 * Encodes a message as one frame. Throws `frame_too_large` when the body
 * would exceed `maxBodyBytes`, since no conforming receiver would accept it.
 */
export function encode(message: Message | MessageFields, maxBodyBytes = MAX_BODY_BYTES): Buffer {
  const json = JSON.stringify(message instanceof Message ? message : new Message(message));
  const bodyBytes = Buffer.byteLength(json, "utf8");
  if (bodyBytes > maxBodyBytes) {
    throw new ProtocolError(
      "frame_too_large",
      `Cannot encode frame: body of ${bodyBytes} bytes exceeds the limit of ${maxBodyBytes}`,
    );
  }
  const header = `${HEADER_NAME}: ${bodyBytes}\n`;
  const frame = Buffer.allocUnsafe(header.length + bodyBytes);
  frame.write(header, 0, "latin1");
  frame.write(json, header.length, "utf8");
  return frame;
}

// ---------------------------------------------------------------------------
// Decoding a body
// ---------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });
const STRING_FIELDS = [
  "client_name", "subject", "message", "date", "to", "code", "reason",
  "ref", "password", "id", "before", "with", "room", "topic", "owner", "target", "status", "after",
] as const;
const BOOLEAN_FIELDS = ["account", "history", "more", "private", "online"] as const;
const STRING_LIST_FIELDS = ["users", "features", "operators", "requests"] as const;


/** Turns one frame body into a Message, or a non-fatal ProtocolError. */
export function decodeBody(body: Uint8Array): Message | ProtocolError {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch {
    return new ProtocolError("bad_json", "The body is not valid UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return new ProtocolError("bad_json", "The body is not a JSON object");
  }
  return toMessage(value as Record<string, unknown>);
}

function toMessage(object: Record<string, unknown>): Message | ProtocolError {
  // `null` reads as absent: JSON encoders write it for an unset optional field.
  for (const [field, value] of Object.entries(object)) if (value === null) delete object[field];
  for (const field of STRING_FIELDS) {
    const value = object[field];
    if (value !== undefined && typeof value !== "string") {
      return new ProtocolError("bad_message", `The field "${field}" must be a string`);
    }
  }
  for (const field of BOOLEAN_FIELDS) {
    const value = object[field];
    if (value !== undefined && typeof value !== "boolean") {
      return new ProtocolError("bad_message", `The field "${field}" must be true or false`);
    }
  }
  for (const field of STRING_LIST_FIELDS) {
    const value = object[field];
    if (value !== undefined && !(Array.isArray(value) && value.every((u) => typeof u === "string"))) {
      return new ProtocolError("bad_message", `The field "${field}" must be a list of strings`);
    }
  }
  for (const field of ["count", "limit"] as const) {
    const value = object[field];
    if (value !== undefined && !Number.isSafeInteger(value)) {
      return new ProtocolError("bad_message", `The field "${field}" must be a whole number`);
    }
  }
  const type = object.type;
  const bare = type === undefined;
  if (bare && typeof object.message !== "string") {
    return new ProtocolError("bad_message", 'A message needs a "type", or a "message" string');
  }
  if (!bare && typeof type !== "string") {
    return new ProtocolError("bad_message", 'The field "type" must be a string');
  }
  if (!bare && !KNOWN_TYPES.has(type as string)) {
    return new ProtocolError("unknown_type", `Unknown message type ${quote(type as string)}`);
  }
  if (type === "chat" && typeof object.message !== "string") {
    return new ProtocolError("bad_message", 'A chat needs a "message" string');
  }
  const message = new Message({ ...(object as Partial<MessageFields>), type: bare ? "chat" : (type as MessageType) });
  message.bare = bare;
  return message;
}

// ---------------------------------------------------------------------------
// Decoding a stream
// ---------------------------------------------------------------------------

export interface DecoderOptions {
  /** @default MAX_HEADER_BYTES */
  maxHeaderBytes?: number;
  /** @default MAX_BODY_BYTES */
  maxBodyBytes?: number;
}

const NEWLINE = 0x0a;
const HEADER_PATTERN = /^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$/i;
const READING_HEADER = 0;
const READING_BODY = 1;
const FAILED = 2;

/**
 * Most chunks a decoder holds at once. Past it, arriving chunks are copied
 * onto the last one, so a body sent a byte at a time costs memory in bytes,
 * not in Buffer objects (about 200 bytes each).
 */
export const MAX_HELD_CHUNKS = 16;
/** Smallest buffer allocated when chunks are merged; it then doubles, so merging stays linear. */
export const MIN_MERGE_BYTES = 256;

/** The spare of every decoder that has not needed one: no buffer per idle connection. */
const NO_SPARE = Buffer.alloc(0);

/**
 * An incremental frame receiver: `push()` chunks as they arrive, get back the
 * messages they complete. A fatal error (bad header, frame too large) is
 * returned once, after the messages that preceded it; the decoder then stays
 * failed and ignores further input. Each byte is copied a bounded number of
 * times (amortised), so the cost is linear however the stream is split.
 */
export class Decoder {
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private state = READING_HEADER;
  private bodyBytes = 0;
  /** Where chunks past MAX_HELD_CHUNKS are gathered; its first `spareUsed` bytes are taken. */
  private spare = NO_SPARE;
  private spareUsed = 0;

  constructor(options: DecoderOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  get failed(): boolean {
    return this.state === FAILED;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * True while a frame has begun but not ended: part of a header, or a whole
   * header and not yet all of its body (none of it, even). `bufferedBytes` is
   * 0 right after a header, so it cannot tell; a frame time-out needs this.
   */
  get midFrame(): boolean {
    return this.state === READING_BODY || (this.state === READING_HEADER && this.buffered > 0);
  }

  /** Chunks held, at most MAX_HELD_CHUNKS (for tests and diagnostics). */
  get heldChunks(): number {
    return this.chunks.length - this.head;
  }

  push(chunk: Uint8Array): Array<Message | ProtocolError> {
    const out: Array<Message | ProtocolError> = [];
    if (this.state === FAILED || chunk.length === 0) return out;
    this.hold(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.buffered += chunk.length;
    for (;;) {
      if (this.state === READING_HEADER) {
        const header = this.readHeader();
        if (header === undefined) break;
        if (header instanceof ProtocolError) {
          this.fail();
          out.push(header);
          break;
        }
        this.bodyBytes = header;
        this.state = READING_BODY;
      } else {
        if (this.buffered < this.bodyBytes) break;
        out.push(decodeBody(this.take(this.bodyBytes)));
        this.state = READING_HEADER;
      }
    }
    return out;
  }

  /** Keeps a chunk: as it is while few are held, else copied onto the last one. */
  private hold(chunk: Buffer): void {
    if (this.heldChunks < MAX_HELD_CHUNKS) {
      this.chunks.push(chunk);
      return;
    }
    const last = this.chunks.length - 1;
    this.chunks[last] = this.append(this.chunks[last]!, chunk);
  }

  /**
   * `last` followed by `chunk`, in `spare`. When `last` is the end of `spare`
   * and there is room, only `chunk` is copied; otherwise both move to a spare
   * twice their size. Like a growing array, each byte is copied O(1) times.
   */
  private append(last: Buffer, chunk: Buffer): Buffer {
    const spareEnd = this.spare.byteOffset + this.spareUsed;
    const lastEndsSpare = last.buffer === this.spare.buffer && last.byteOffset + last.length === spareEnd;
    if (!lastEndsSpare || this.spareUsed + chunk.length > this.spare.length) {
      // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool, so the check above is exact.
      const spare = Buffer.allocUnsafeSlow(Math.max(MIN_MERGE_BYTES, 2 * (last.length + chunk.length)));
      last.copy(spare);
      this.spare = spare;
      this.spareUsed = last.length;
      last = spare.subarray(0, last.length);
    }
    chunk.copy(this.spare, this.spareUsed);
    this.spareUsed += chunk.length;
    return this.spare.subarray(last.byteOffset - this.spare.byteOffset, this.spareUsed);
  }

  /** The declared body length, undefined if the line is incomplete, or a fatal error. */
  private readHeader(): number | ProtocolError | undefined {
    const end = this.indexOfNewline(this.maxHeaderBytes + 1);
    if (end < 0) {
      if (this.buffered <= this.maxHeaderBytes) return undefined;
      return new ProtocolError(
        "bad_header",
        `Header line longer than ${this.maxHeaderBytes} bytes`,
        true,
      );
    }
    const line = this.take(end + 1).toString("latin1", 0, end);
    const match = HEADER_PATTERN.exec(line);
    if (!match) {
      return new ProtocolError("bad_header", `Bad header line ${JSON.stringify(line)}: expected "${HEADER_NAME}: N"`, true);
    }
    const length = Number(match[1]);
    if (length > this.maxBodyBytes) {
      return new ProtocolError(
        "frame_too_large",
        `Frame of ${match[1]} bytes exceeds the limit of ${this.maxBodyBytes}`,
        true,
      );
    }
    return length;
  }

  /** Index of the first `\n` among the first `limit` buffered bytes, or -1. */
  private indexOfNewline(limit: number): number {
    let offset = 0;
    for (let i = this.head; i < this.chunks.length && offset < limit; i++) {
      const chunk = this.chunks[i]!;
      const found = chunk.subarray(0, limit - offset).indexOf(NEWLINE);
      if (found >= 0) return offset + found;
      offset += chunk.length;
    }
    return -1;
  }

  /** Removes and returns the next `n` buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.buffered -= n;
    const first = this.chunks[this.head]!;
    if (first.length >= n) {
      this.consumeFront(first, n);
      return first.subarray(0, n);
    }
    const result = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(result, filled, 0, used);
      filled += used;
      this.consumeFront(chunk, used);
    }
    return result;
  }

  // Chunks are dropped by moving `head` rather than by `shift()`, which is
  // linear in the array's length and would make one-byte chunks quadratic.
  private consumeFront(chunk: Buffer, used: number): void {
    if (used < chunk.length) {
      this.chunks[this.head] = chunk.subarray(used);
      return;
    }
    this.head++;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private fail(): void {
    this.state = FAILED;
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
    this.spare = NO_SPARE;
    this.spareUsed = 0;
  }
}
