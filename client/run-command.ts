/**
 * What a typed line does: `runCommand` carries out a parsed command on the
 * connection and says what to show; shared by line mode and the full screen.
 */
import { commandFields, leavesLobby, type Command, type Where } from "../common/commands.js";
import type { Texts } from "../common/catalogue.js";
import { chatLine, errorText, inputProblemText, sanitize, type DisplayLine } from "../common/format.js";
import { Message, MIN_PASSWORD_CHARS, nameKey, ProtocolError } from "../protocol.js";
import { ChatClient, type HistoryBatch } from "./connection.js";

export interface CommandResult {
  lines: DisplayLine[];
  quit?: boolean;
  /** The interface must now ask for a new password twice, hidden, then call `client.register()`. */
  askPassword?: boolean;
}

/** The name as the server knows it, when that person is online; otherwise as typed. */
export function knownName(client: ChatClient, name: string): string {
  const key = nameKey(name);
  return client.users.find((user) => nameKey(user) === key) ?? name;
}

/** Carries out one parsed input line; what to show comes back as lines. */
export function runCommand(client: ChatClient, command: Command, t: Texts): CommandResult {
  const error = (text: string): CommandResult => ({ lines: [{ kind: "error", text }] });
  const info = (text: string): CommandResult => ({ lines: [{ kind: "info", text }] });
  /** A request went out: its answer comes from the server. */
  const sent = (ok: boolean): CommandResult => (ok ? { lines: [] } : error(t.notConnected));
  const where: Where = { room: client.room, subject: client.subject };
  /** A request the shared grammar spells out, sent with a ref. */
  const ask = (request: Command): CommandResult => {
    const fields = commandFields(request, where);
    return sent(fields !== undefined && client.request(fields));
  };
  switch (command.kind) {
    case "say":
    case "private": {
      let sent: { ref: string; message: Message } | undefined;
      try {
        sent = client.sendChat(command.text, command.kind === "private" ? command.to : undefined);
      } catch (e) {
        if (e instanceof ProtocolError) return error(t.tooLong);
        throw e;
      }
      if (!sent) return error(t.notConnected);
      const { ref, message } = sent;
      if (message.to !== undefined) message.to = knownName(client, message.to);
      // With a server that echoes, the line is pending until the echo says it was taken.
      if (client.echoes) return { lines: [{ ...chatLine(message, client.name, t), pending: ref }] };
      return { lines: echoesAtOnce(client, message) ? [chatLine(message, client.name, t)] : [] };
    }
    case "list":
      return client.list() ? { lines: [] } : error(t.notConnected);
    case "enter":
      return sent(client.enter(command.room, command.private));
    case "part":
      return leavesLobby(command, where) ? error(t.cannotPartLobby) : ask(command);
    case "switch":
      if (!client.joined) return error(t.notConnected);
      return client.switchRoom(command.room) ? info(t.nowIn(client.room)) : error(t.notInRoom(command.room));
    case "who":
      // The lobby's list is asked as version 1 asks it, without a ref.
      return commandFields(command, where)?.room === undefined ? sent(client.list()) : ask(command);
    case "rooms":
    case "topic":
    case "moderate":
      return ask(command);
    case "friend":
    case "unfriend":
    case "friends":
      // The server would answer a guest `not_registered`, which reads as if the friend were the one unregistered.
      if (client.joined && client.serverFeatures.size > 0 && !client.account) return error(t.friendsNeedAccount);
      return ask(command);
    case "history":
      if (!client.joined) return error(t.notConnected);
      return client.requestHistory() === undefined ? info(t.noHistory) : { lines: [] };
    case "register":
      return client.joined ? { lines: [], askPassword: true } : error(t.notConnected);
    case "subject":
      client.subject = command.subject;
      return info(command.subject ? t.subjectSet(command.subject) : t.subjectCleared);
    case "help":
      return info(t.help);
    case "quit":
      return { lines: [], quit: true };
    case "invalid":
      return error(inputProblemText(command.problem, command.word, t));
    case "empty":
      return { lines: [] };
  }
}

/**
 * Without echoes (a version 1 server): whether to show a sent message at
 * once. Not a private one to oneself (the server sends it back), nor one to
 * a name not online (the server's "not delivered" says what happened).
 */
function echoesAtOnce(client: ChatClient, sent: Message): boolean {
  if (sent.to === undefined) return true;
  const to = nameKey(sent.to);
  return to !== nameKey(client.name ?? "") && client.users.some((user) => nameKey(user) === to);
}

/** The line that marks one's own chat as refused (or lost), in place of the pending one. */
export function refusedLine(sent: Message, error: Message | undefined, t: Texts): DisplayLine {
  const why = error ? errorText(error.code ?? "", { detail: sanitize(error.message), to: sent.to, room: error.room ?? sent.room }, t) : t.lostBeforeTaken;
  // The reason says what happened ("Not delivered: zed is not online."); the mark says which line.
  return { kind: "error", text: t.notDelivered(sanitize(sent.message), why) };
}

/**
 * The lines that show a page of history: under a header, dimmed; empty when
 * there is nothing to show. Lines of `current` (the room shown) carry no room tag.
 */
export function historyLines(batch: HistoryBatch, self: string | undefined, t: Texts, current?: string): DisplayLine[] {
  if (batch.messages.length === 0) return batch.ref !== undefined ? [{ kind: "info", text: t.noEarlier }] : [];
  return [
    { kind: "info", text: t.earlier, dim: true },
    ...batch.messages.map((msg) => chatLine(msg, self, t, new Date(), current)),
    ...(batch.more ? [{ kind: "info" as const, text: t.earlierMore, dim: true }] : []),
  ];
}

/** A new password the server would refuse as `weak_password`: said at once, before it is asked for again. */
export function tooShort(password: string): boolean {
  return [...password].length < MIN_PASSWORD_CHARS;
}

/** Plain words for a connection error. */
export function socketErrorText(error: unknown, t: Texts): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && t.socketErrors[code]) ?? (error instanceof Error ? error.message : String(error));
}
