/**
 * What the client shows, in English or Portuguese. Pure: turns protocol
 * messages and local events into display lines; no I/O.
 */
import type { Message } from "./protocol.js";
import { MAX_NAME_CHARS } from "./protocol.js";
import type { InputProblem } from "./commands.js";

export type Lang = "en" | "pt";
export const LANGS: readonly Lang[] = ["en", "pt"];

/** `--lang` wins; otherwise Portuguese when LANG (or LC_ALL) starts with "pt". */
export function detectLang(option?: string, env: NodeJS.ProcessEnv = process.env): Lang {
  if (option === "en" || option === "pt") return option;
  const locale = env.LC_ALL || env.LANG || "";
  return locale.toLowerCase().startsWith("pt") ? "pt" : "en";
}

/** How a line is set apart on screen. */
export type LineKind = "chat" | "private" | "own" | "notice" | "error" | "info";
export interface DisplayLine {
  kind: LineKind;
  text: string;
}

const REASONS_EN: Record<string, string> = {
  quit: "quit",
  lost: "connection lost",
  kicked: "removed",
  slow: "too slow to read",
  shutdown: "server shutting down",
  protocol_error: "protocol error",
};
const REASONS_PT: Record<string, string> = {
  quit: "saiu",
  lost: "conexão perdida",
  kicked: "removido",
  slow: "lento demais para ler",
  shutdown: "servidor encerrando",
  protocol_error: "erro de protocolo",
};

const HELP_EN = `Commands:
  text                 send to everyone
  @name text           private message to name (also /name text)
  //text               send a text that starts with "/"
  /list                who is online (also /users, /clientes)
  /subject [text]      subject of your next messages; empty clears it (also /assunto)
  /quit                leave the chat (also /exit, /sair)
  /help                this help (also /ajuda)`;

const HELP_PT = `Comandos:
  texto                envia para todos
  @nome texto          mensagem privada para nome (ou /nome texto)
  //texto              envia um texto que começa com "/"
  /clientes            quem está online (ou /list, /users)
  /assunto [texto]     assunto das próximas mensagens; vazio limpa (ou /subject)
  /sair                sai do chat (ou /quit, /exit)
  /ajuda               esta ajuda (ou /help)`;

export const TEXTS = {
  en: {
    you: "you",
    private: "private",
    noSubject: "No subject",
    namePrompt: "Your name: ",
    nameRules: `Choose a name: 1 to ${MAX_NAME_CHARS} letters, digits or _, no spaces (empty for an automatic one).`,
    nameRefused: (reason: string) => `Name refused: ${reason}. Try another.`,
    noName: "No name was accepted before the input ended.",
    welcome: (name: string, online: string) => `Welcome, ${name}! ${online}. Type /help for commands.`,
    online: (users: string[], count = users.length) =>
      `Online (${count}): ${users.join(", ")}${count > users.length ? `, and ${count - users.length} more` : ""}`,
    joined: (name: string) => `*** ${name} joined`,
    left: (name: string, reason: string) => `*** ${name} left (${REASONS_EN[reason] ?? reason})`,
    subjectSet: (subject: string) => `Subject of your next messages: ${subject}`,
    subjectCleared: "Subject cleared.",
    help: HELP_EN,
    socketErrors: {
      ECONNREFUSED: "connection refused",
      ECONNRESET: "connection reset",
      ENOTFOUND: "unknown host",
      EAI_AGAIN: "unknown host",
      ETIMEDOUT: "timed out",
      EHOSTUNREACH: "host unreachable",
    } as Record<string, string>,
    cannotConnect: (address: string, why: string) =>
      `Cannot connect to the server at ${address}: ${why}. Is it running? Start one with: npx tsx server.ts`,
    connectionLost: (address: string) => `Connection to the server at ${address} lost.`,
    reconnecting: (seconds: number, attempt: number) => `Reconnecting in ${seconds} s (attempt ${attempt})...`,
    reconnectFailed: (why: string) => `Reconnection failed: ${why}.`,
    reconnected: (name: string, online: string) => `Reconnected as ${name}. ${online}`,
    notConnected: "Not connected to the server: message not sent. Reconnecting...",
    privateWithoutText: (word: string) => `Private message without text: write ${word} followed by your message.`,
    privateWithoutName: (word: string) => `Private message without a name: write ${word}name followed by your message.`,
    tooLong: "Message too long: it was not sent.",
    shuttingDown: "The server is shutting down.",
    errors: {
      unknown_recipient: (detail: string) => `Not delivered: ${detail}.`,
      rate_limited: () => "Too many messages: slow down (that message was not delivered).",
      server_shutdown: () => "The server is shutting down.",
      server_full: (detail: string) => `The server is full: ${detail}.`,
      timeout: (detail: string) => `Disconnected by the server: ${detail}.`,
    } as Record<string, (detail: string) => string>,
    error: (detail: string) => `Error: ${detail}`,
    screen: {
      title: "Chat: choose your name",
      keys: "Enter send · Tab recipient · Esc everyone · ↑↓ history · PgUp/PgDn scroll · Ctrl+L clear · Ctrl+C quit",
      everyone: "to everyone",
      privateTo: (name: string) => `private to ${name}`,
      subject: (subject: string) => `subject: ${subject}`,
      online: (count: number) => `Online (${count})`,
      connecting: (address: string) => `Connecting to ${address}...`,
      connected: (address: string, name: string) => `Connected to ${address}${name ? ` as ${name}` : ""}`,
      reconnecting: (seconds: number, attempt: number) => `Connection lost: reconnecting in ${seconds} s (attempt ${attempt})`,
      unread: (count: number) => (count > 0 ? `↓ ${count} new below: PgDn` : "↓ scrolled back: PgDn to return"),
    },
  },
  pt: {
    you: "você",
    private: "privada",
    noSubject: "Sem Assunto",
    namePrompt: "Seu nome: ",
    nameRules: `Escolha um nome: de 1 a ${MAX_NAME_CHARS} letras, dígitos ou _, sem espaços (vazio para um automático).`,
    nameRefused: (reason: string) => `Nome recusado: ${reason}. Tente outro.`,
    noName: "Nenhum nome foi aceito antes do fim da entrada.",
    welcome: (name: string, online: string) => `Bem-vindo(a), ${name}! ${online}. Digite /ajuda para ver os comandos.`,
    online: (users: string[], count = users.length) =>
      `Online (${count}): ${users.join(", ")}${count > users.length ? `, e mais ${count - users.length}` : ""}`,
    joined: (name: string) => `*** ${name} entrou`,
    left: (name: string, reason: string) => `*** ${name} saiu (${REASONS_PT[reason] ?? reason})`,
    subjectSet: (subject: string) => `Assunto das próximas mensagens: ${subject}`,
    subjectCleared: "Assunto removido.",
    help: HELP_PT,
    socketErrors: {
      ECONNREFUSED: "conexão recusada",
      ECONNRESET: "conexão reiniciada",
      ENOTFOUND: "host desconhecido",
      EAI_AGAIN: "host desconhecido",
      ETIMEDOUT: "tempo esgotado",
      EHOSTUNREACH: "host inalcançável",
    } as Record<string, string>,
    cannotConnect: (address: string, why: string) =>
      `Não foi possível conectar ao servidor em ${address}: ${why}. Ele está rodando? Inicie um com: npx tsx server.ts`,
    connectionLost: (address: string) => `Conexão com o servidor em ${address} perdida.`,
    reconnecting: (seconds: number, attempt: number) => `Reconectando em ${seconds} s (tentativa ${attempt})...`,
    reconnectFailed: (why: string) => `Falha ao reconectar: ${why}.`,
    reconnected: (name: string, online: string) => `Reconectado como ${name}. ${online}`,
    notConnected: "Sem conexão com o servidor: mensagem não enviada. Reconectando...",
    privateWithoutText: (word: string) => `Mensagem privada sem texto: escreva ${word} seguido da mensagem.`,
    privateWithoutName: (word: string) => `Mensagem privada sem nome: escreva ${word}nome seguido da mensagem.`,
    tooLong: "Mensagem longa demais: não foi enviada.",
    shuttingDown: "O servidor está encerrando.",
    errors: {
      unknown_recipient: (detail: string) => `Não entregue: ${detail}.`,
      rate_limited: () => "Mensagens demais: vá mais devagar (essa mensagem não foi entregue).",
      server_shutdown: () => "O servidor está encerrando.",
      server_full: (detail: string) => `O servidor está cheio: ${detail}.`,
      timeout: (detail: string) => `Desconectado pelo servidor: ${detail}.`,
    } as Record<string, (detail: string) => string>,
    error: (detail: string) => `Erro: ${detail}`,
    screen: {
      title: "Chat: escolha seu nome",
      keys: "Enter envia · Tab destinatário · Esc todos · ↑↓ histórico · PgUp/PgDn rola · Ctrl+L limpa · Ctrl+C sai",
      everyone: "para todos",
      privateTo: (name: string) => `privada para ${name}`,
      subject: (subject: string) => `assunto: ${subject}`,
      online: (count: number) => `Online (${count})`,
      connecting: (address: string) => `Conectando a ${address}...`,
      connected: (address: string, name: string) => `Conectado a ${address}${name ? ` como ${name}` : ""}`,
      reconnecting: (seconds: number, attempt: number) => `Conexão perdida: reconectando em ${seconds} s (tentativa ${attempt})`,
      unread: (count: number) => (count > 0 ? `↓ ${count} novas abaixo: PgDn` : "↓ histórico: PgDn para voltar"),
    },
  },
} satisfies Record<Lang, unknown>;

export type Texts = (typeof TEXTS)["en"];

/**
 * Removes what could drive the terminal (escape sequences, carriage returns,
 * other control characters) from text a peer sent; keeps newlines and tabs.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "");
}

/** "HH:MM:SS" in local time; the current time when `date` cannot be read. */
export function clock(date: string, now = new Date()): string {
  const parsed = new Date(date);
  const time = Number.isNaN(parsed.getTime()) ? now : parsed;
  return time.toTimeString().slice(0, 8);
}

/** Continuation lines of a multi-line text, indented under the first. */
function indentLines(text: string): string {
  return text.replace(/\n/g, "\n    ");
}

/** A chat message as shown: time, sender (and recipient), subject, text. */
export function chatLine(msg: Message, self: string | undefined, t: Texts): DisplayLine {
  const own = msg.client_name === self;
  const isPrivate = msg.to !== undefined;
  const from = own ? t.you : sanitize(msg.client_name);
  const to = msg.to === undefined ? "" : ` → ${msg.to === self ? t.you : sanitize(msg.to)} (${t.private})`;
  const subject = sanitize(msg.subject) || t.noSubject;
  return {
    kind: own ? "own" : isPrivate ? "private" : "chat",
    text: `[${clock(msg.date)}] ${from}${to} [${subject}]: ${indentLines(sanitize(msg.message))}`,
  };
}

/** A frame from the server as shown, or undefined for frames that show nothing (pong). */
export function describe(msg: Message, self: string | undefined, t: Texts): DisplayLine | undefined {
  const at = `[${clock(msg.date)}] `;
  const name = sanitize(msg.client_name);
  switch (msg.type) {
    case "chat":
      return chatLine(msg, self, t);
    case "join":
      return { kind: "notice", text: at + t.joined(name) };
    case "leave":
      return { kind: "notice", text: at + t.left(name, msg.reason ?? "") };
    case "list":
      return { kind: "info", text: onlineText(msg, t) };
    case "welcome":
      return { kind: "info", text: t.welcome(name, onlineText(msg, t)) };
    case "error":
      return { kind: "error", text: errorText(msg.code ?? "", sanitize(msg.message), t) };
    default:
      return undefined;
  }
}

/** Who is online, as a welcome or a list carries it. */
export function onlineText(msg: Message, t: Texts): string {
  return t.online((msg.users ?? []).map(sanitize), msg.count);
}

/** The line shown when a lost connection has been joined again. */
export function rejoinedText(welcome: Message, t: Texts): string {
  return t.reconnected(sanitize(welcome.client_name), onlineText(welcome, t));
}

export function errorText(code: string, detail: string, t: Texts): string {
  const known = t.errors[code];
  return known ? known(detail) : t.error(detail);
}

export function inputProblemText(problem: InputProblem, word: string, t: Texts): string {
  return problem === "private_without_text" ? t.privateWithoutText(word) : t.privateWithoutName(word);
}
