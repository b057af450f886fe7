/**
 * What the client shows, in English or Portuguese. Pure: turns protocol
 * messages and local events into display lines; no I/O.
 */
import type { Message } from "./protocol.js";
import { MAX_NAME_CHARS, SERVER_NAME } from "./protocol.js";
import type { InputProblem } from "./commands.js";

export type Lang = "en" | "pt";
export const LANGS: readonly Lang[] = ["en", "pt"];

/** `--lang` wins; otherwise Portuguese when LANG (or LC_ALL) starts with "pt". */
export function detectLang(option?: string, env: NodeJS.ProcessEnv = process.env): Lang {
  if (option === "en" || option === "pt") return option;
  const locale = env.LC_ALL || env.LANG || "";
  return locale.toLowerCase().startsWith("pt") ? "pt" : "en";
}

/** Whether the terminal's locale (LC_ALL, then LC_CTYPE, then LANG) is UTF-8; if not, draw ASCII. */
export function isUtf8Locale(env: NodeJS.ProcessEnv = process.env): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale);
}

/** The symbols the client draws, and what it draws instead where the locale is not UTF-8. */
export const ASCII_GLYPHS: Readonly<Record<string, string>> = {
  "▸": ">",
  "→": "->",
  "←": "<-",
  "…": "...",
  "·": "|",
  "↑↓": "Up/Down",
  "↑": "^",
  "↓": "v",
  "█": "_",
  "—": "--",
  "│": "|",
  "✗": "x",
  "⋯": "...",
};
const GLYPH_PATTERN = new RegExp(Object.keys(ASCII_GLYPHS).sort((a, b) => b.length - a.length).join("|"), "g");

/** The text with the client's own symbols replaced by ASCII (user text is left alone otherwise). */
export function toAscii(text: string): string {
  return text.replace(GLYPH_PATTERN, (glyph) => ASCII_GLYPHS[glyph] ?? glyph);
}

/** How a line is set apart on screen. */
export type LineKind = "chat" | "private" | "own" | "notice" | "error" | "info";
export interface DisplayLine {
  kind: LineKind;
  text: string;
  /** Replayed history: drawn dimmed. */
  dim?: boolean;
  /** One's own chat not yet taken by the server (the `ref` it was sent with). */
  pending?: string;
  /** The chat's id on the server, when it has one. */
  id?: string;
}

/** Every leave reason of the protocol (and `timeout`), in words. */
const REASONS_EN: Record<string, string> = {
  quit: "quit",
  lost: "connection lost",
  kicked: "kicked out",
  banned: "banned",
  part: "left the room",
  slow: "too slow to read",
  shutdown: "server shutting down",
  protocol_error: "protocol error",
  timeout: "timed out",
};
const REASONS_PT: Record<string, string> = {
  quit: "encerrou a sessão",
  lost: "conexão perdida",
  kicked: "expulso(a)",
  banned: "banido(a)",
  part: "saiu da sala",
  slow: "lento demais para ler",
  shutdown: "servidor encerrando",
  protocol_error: "erro de protocolo",
  timeout: "tempo esgotado",
};
export const LEAVE_REASONS = Object.keys(REASONS_EN);

/** What an error is about, for the sentence that explains it. */
export interface ErrorContext {
  /** The server's own sentence: shown only for codes this client does not know. */
  detail: string;
  /** The recipient of the private line the error is about. */
  to?: string | undefined;
  /** The name asked for, for name refusals. */
  name?: string | undefined;
}

type ErrorTexts = Record<string, (c: ErrorContext) => string>;

const ERRORS_EN: ErrorTexts = {
  bad_header: () => "The server could not read what this client sent (bad header).",
  frame_too_large: () => "Message too large for the server: it was not sent.",
  bad_json: () => "The server could not read a message from this client.",
  bad_message: () => "The server refused a malformed request.",
  unknown_type: () => "The server does not know that request.",
  not_joined: () => "Not joined yet: choose a name first.",
  name_invalid: (c) => nameInvalidText(c.name, "en"),
  name_taken: (c) => `The name "${c.name ?? ""}" is already in use`,
  unknown_recipient: (c) => (c.to ? `Not delivered: ${c.to} is not online.` : "Not delivered: the recipient is not online."),
  rate_limited: () => "Too many messages: slow down (that message was not delivered).",
  server_shutdown: () => "The server is shutting down.",
  name_registered: () => "This name is already registered.",
  weak_password: () => "Password too weak: use at least 8 characters.",
  password_required: (c) => `The name "${c.name ?? ""}" is registered: its password is needed`,
  bad_password: () => "Wrong password",
  too_many_attempts: () => "Too many wrong passwords for this name: try again in 10 minutes",
  logged_in_elsewhere: () => "You logged in from somewhere else: this session was closed.",
  not_registered: () => "That name is not a registered account.",
  room_invalid: () => "Invalid room name.",
  not_in_room: () => "Not in that room.",
  invite_only: () => "That room is invite-only.",
  banned: () => "You are banned from there.",
  muted: () => "You are muted there: message not delivered.",
  not_operator: () => "Only an operator may do that.",
  server_full: () => "The server is full: try again later.",
  timeout: () => "Disconnected by the server: a time limit ran out.",
};
const ERRORS_PT: ErrorTexts = {
  bad_header: () => "O servidor não conseguiu ler o que este cliente enviou (cabeçalho inválido).",
  frame_too_large: () => "Mensagem grande demais para o servidor: não foi enviada.",
  bad_json: () => "O servidor não conseguiu ler uma mensagem deste cliente.",
  bad_message: () => "O servidor recusou um pedido malformado.",
  unknown_type: () => "O servidor não conhece esse pedido.",
  not_joined: () => "Ainda sem nome: escolha um nome primeiro.",
  name_invalid: (c) => nameInvalidText(c.name, "pt"),
  name_taken: (c) => `O nome "${c.name ?? ""}" já está em uso`,
  unknown_recipient: (c) => (c.to ? `Não entregue: ${c.to} não está conectado(a).` : "Não entregue: o destinatário não está conectado."),
  rate_limited: () => "Mensagens demais: vá mais devagar (essa mensagem não foi entregue).",
  server_shutdown: () => "O servidor está encerrando.",
  name_registered: () => "Este nome já está registrado.",
  weak_password: () => "Senha fraca demais: use pelo menos 8 caracteres.",
  password_required: (c) => `O nome "${c.name ?? ""}" é registrado: é preciso a senha`,
  bad_password: () => "Senha errada",
  too_many_attempts: () => "Senhas erradas demais para este nome: tente de novo em 10 minutos",
  logged_in_elsewhere: () => "Você entrou de outro lugar: esta sessão foi encerrada.",
  not_registered: () => "Esse nome não é uma conta registrada.",
  room_invalid: () => "Nome de sala inválido.",
  not_in_room: () => "Fora dessa sala.",
  invite_only: () => "Essa sala é só para convidados.",
  banned: () => "Você está banido(a) de lá.",
  muted: () => "Você está silenciado(a) lá: mensagem não entregue.",
  not_operator: () => "Só um operador pode fazer isso.",
  server_full: () => "O servidor está cheio: tente mais tarde.",
  timeout: () => "Desconectado pelo servidor: um limite de tempo se esgotou.",
};

/** Why a name is refused, worked out here (the same rules as protocol.ts) so it reads in the user's language. */
export function nameInvalidText(name: string | undefined, lang: Lang): string {
  const en = lang === "en";
  const quoted = JSON.stringify(name ?? "");
  if (name === undefined) return en ? "That name is not allowed" : "Esse nome não é permitido";
  if (name.length === 0) return en ? "A name cannot be empty" : "Um nome não pode ser vazio";
  if (/\s/u.test(name)) return en ? `A name cannot contain spaces: ${quoted}` : `Um nome não pode ter espaços: ${quoted}`;
  if ([...name].length > MAX_NAME_CHARS)
    return en ? `A name has at most ${MAX_NAME_CHARS} characters` : `Um nome tem no máximo ${MAX_NAME_CHARS} caracteres`;
  if (!/^[\p{L}\p{M}\p{Nd}_]+$/u.test(name))
    return en ? `A name may contain only letters, digits and _: ${quoted}` : `Um nome só pode ter letras, dígitos e _: ${quoted}`;
  if (name.toLowerCase() === SERVER_NAME) return en ? `The name ${quoted} is reserved` : `O nome ${quoted} é reservado`;
  return en ? `The name ${quoted} is not allowed` : `O nome ${quoted} não é permitido`;
}

const HELP_EN = `Commands:
  text                 send to everyone
  @name text           private message to name (also /name text)
  //text               send a text that starts with "/"
  /list                who is online (also /users, /clientes)
  /subject [text]      subject of your next messages; empty clears it (also /assunto)
  /history             older messages (also /historico)
  /register            protect your name with a password (also /registrar)
  /quit                leave the chat (also /exit, /sair)
  /help                this help (also /ajuda)`;

const HELP_PT = `Comandos:
  texto                envia para todos
  @nome texto          mensagem privada para nome (ou /nome texto)
  //texto              envia um texto que começa com "/"
  /clientes            quem está online (ou /list, /users)
  /assunto [texto]     assunto das próximas mensagens; vazio limpa (ou /subject)
  /historico           mensagens anteriores (ou /history)
  /registrar           protege seu nome com uma senha (ou /register)
  /sair                sai do chat (ou /quit, /exit)
  /ajuda               esta ajuda (ou /help)`;

/** The codes of a certificate the client cannot verify, all said the same way. */
function certificateErrors(text: string): Record<string, string> {
  const codes = [
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "CERT_HAS_EXPIRED",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  ];
  return Object.fromEntries(codes.map((code) => [code, text]));
}

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
      ...certificateErrors("the server's certificate cannot be verified (trust it with --ca FILE, or accept it with --insecure)"),
      EPROTO: "the server does not speak TLS here (leave out --tls?)",
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
    errors: ERRORS_EN,
    unknownCommand: (word: string) => `Unknown command ${word}. Type /help.`,
    notDelivered: (text: string, why: string) => `✗ "${text}": ${why}`,
    undeliveredSummary: (count: number) => `${count} line${count === 1 ? " was" : "s were"} not delivered:`,
    lostBeforeTaken: "Not delivered: the connection was lost before the server took it.",
    sending: "sending…",
    earlier: "— earlier messages —",
    earlierMore: "(older messages: /history)",
    noEarlier: "No older messages.",
    noHistory: "This server keeps no history.",
    passwordPrompt: (name: string) => `Password for ${name}: `,
    newPassword: "New password (at least 8 characters): ",
    repeatPassword: "The same password again: ",
    passwordsDiffer: "The two passwords differ: not registered.",
    registered: (name: string) => `The name ${name} is now registered: join with its password from now on.`,
    nameLostOnRejoin: (reason: string) => `Could not rejoin after reconnecting: ${reason}.`,
    noPassword: "No password was given.",
    error: (detail: string) => `Error: ${detail}`,
    screen: {
      title: "Chat: choose your name",
      passwordTitle: (name: string) => `The name ${name} is registered: type its password`,
      passwordHint: "Esc: choose another name.",
      keys: "Enter send · Tab recipient · Esc everyone · ↑↓ recall · PgUp/PgDn scroll · Ctrl+L clear · Ctrl+C quit",
      everyone: "to everyone",
      privateTo: (name: string) => `private to ${name}`,
      subject: (subject: string) => `subject: ${subject}`,
      online: (count: number) => `Online (${count})`,
      connecting: (address: string) => `Connecting to ${address}...`,
      connected: (address: string, name: string) => `Connected to ${address}${name ? ` as ${name}` : ""}`,
      reconnecting: (seconds: number, attempt: number) => `Connection lost: reconnecting in ${seconds} s (attempt ${attempt})`,
      unread: (count: number) => (count > 0 ? `↓ ${count} new below: PgDn` : "↓ scrolled back: PgDn to return"),
      pending: "sending",
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
    left: (name: string, reason: string) => (reason === "quit" ? `*** ${name} saiu do chat` : `*** ${name} saiu (${REASONS_PT[reason] ?? reason})`),
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
      ...certificateErrors("o certificado do servidor não pode ser verificado (confie nele com --ca ARQUIVO, ou aceite com --insecure)"),
      EPROTO: "o servidor não fala TLS aqui (sem --tls?)",
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
    errors: ERRORS_PT,
    unknownCommand: (word: string) => `Comando desconhecido ${word}. Digite /ajuda.`,
    notDelivered: (text: string, why: string) => `✗ "${text}": ${why}`,
    undeliveredSummary: (count: number) => (count === 1 ? "1 linha não foi entregue:" : `${count} linhas não foram entregues:`),
    lostBeforeTaken: "Não entregue: a conexão caiu antes de o servidor recebê-la.",
    sending: "enviando…",
    earlier: "— mensagens anteriores —",
    earlierMore: "(mensagens mais antigas: /historico)",
    noEarlier: "Não há mensagens mais antigas.",
    noHistory: "Este servidor não guarda histórico.",
    passwordPrompt: (name: string) => `Senha de ${name}: `,
    newPassword: "Nova senha (pelo menos 8 caracteres): ",
    repeatPassword: "A mesma senha de novo: ",
    passwordsDiffer: "As duas senhas são diferentes: nada foi registrado.",
    registered: (name: string) => `O nome ${name} agora é registrado: entre com a senha daqui em diante.`,
    nameLostOnRejoin: (reason: string) => `Não foi possível voltar após reconectar: ${reason}.`,
    noPassword: "Nenhuma senha foi dada.",
    error: (detail: string) => `Erro: ${detail}`,
    screen: {
      title: "Chat: escolha seu nome",
      passwordTitle: (name: string) => `O nome ${name} é registrado: digite a senha`,
      passwordHint: "Esc: escolher outro nome.",
      keys: "Enter envia · Tab destinatário · Esc todos · ↑↓ repete · PgUp/PgDn rola · Ctrl+L limpa · Ctrl+C sai",
      everyone: "para todos",
      privateTo: (name: string) => `privada para ${name}`,
      subject: (subject: string) => `assunto: ${subject}`,
      online: (count: number) => `Online (${count})`,
      connecting: (address: string) => `Conectando a ${address}...`,
      connected: (address: string, name: string) => `Conectado a ${address}${name ? ` como ${name}` : ""}`,
      reconnecting: (seconds: number, attempt: number) => `Conexão perdida: reconectando em ${seconds} s (tentativa ${attempt})`,
      unread: (count: number) =>
        count === 1 ? "↓ 1 mensagem nova abaixo: PgDn" : count > 0 ? `↓ ${count} mensagens novas abaixo: PgDn` : "↓ rolado para trás: PgDn para voltar",
      pending: "enviando",
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
  return when(date, false, now);
}

/** "HH:MM:SS", preceded by the local date "YYYY-MM-DD" when `withDate` and the day is not today. */
export function when(date: string, withDate: boolean, now = new Date()): string {
  const parsed = new Date(date);
  const time = Number.isNaN(parsed.getTime()) ? now : parsed;
  const hms = time.toTimeString().slice(0, 8);
  if (!withDate || time.toDateString() === now.toDateString()) return hms;
  const day = `${time.getFullYear()}-${String(time.getMonth() + 1).padStart(2, "0")}-${String(time.getDate()).padStart(2, "0")}`;
  return `${day} ${hms}`;
}

/** Continuation lines of a multi-line text, indented under the first. */
function indentLines(text: string): string {
  return text.replace(/\n/g, "\n    ");
}

/**
 * A chat message as shown: time, sender (and recipient), subject, text.
 * Replayed history (`history: true`) is dimmed and dated when not from today.
 */
export function chatLine(msg: Message, self: string | undefined, t: Texts, now = new Date()): DisplayLine {
  const own = self !== undefined && msg.client_name === self;
  const isPrivate = msg.to !== undefined;
  const from = own ? t.you : sanitize(msg.client_name);
  const to = msg.to === undefined ? "" : ` → ${msg.to === self ? t.you : sanitize(msg.to)} (${t.private})`;
  const subject = sanitize(msg.subject) || t.noSubject;
  const history = msg.history === true;
  return {
    kind: own ? "own" : isPrivate ? "private" : "chat",
    text: `[${when(msg.date, history, now)}] ${from}${to} [${subject}]: ${indentLines(sanitize(msg.message))}`,
    ...(history && { dim: true }),
    ...(msg.id !== undefined && { id: msg.id }),
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
    case "registered":
      return { kind: "info", text: t.registered(name) };
    case "error":
      return { kind: "error", text: errorText(msg.code ?? "", { detail: sanitize(msg.message) }, t) };
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

/** An error in the user's language, by its code; the server's sentence only for codes this client does not know. */
export function errorText(code: string, context: ErrorContext, t: Texts): string {
  const known = Object.hasOwn(t.errors, code) ? t.errors[code] : undefined;
  return known ? known({ ...context, to: context.to && sanitize(context.to), name: context.name && sanitize(context.name) }) : t.error(context.detail);
}

export function inputProblemText(problem: InputProblem, word: string, t: Texts): string {
  switch (problem) {
    case "private_without_text":
      return t.privateWithoutText(word);
    case "private_without_name":
      return t.privateWithoutName(word);
    case "unknown_command":
      return t.unknownCommand(word);
  }
}
