/**
 * The chat's words in English and Portuguese: the catalogue every interface
 * shows (prompts, help, errors by code, leave reasons, notices). Data and
 * small sentence builders only; turning frames into lines is format.ts's.
 */
import { LOBBY, MAX_NAME_CHARS, MAX_ROOM_CHARS, SERVER_NAME, type ModerationType } from "../protocol.js";

export type Lang = "en" | "pt";
export const LANGS: readonly Lang[] = ["en", "pt"];

/** `--lang` wins; otherwise Portuguese when LANG (or LC_ALL) starts with "pt". */
export function detectLang(option?: string, env: NodeJS.ProcessEnv = process.env): Lang {
  if (option === "en" || option === "pt") return option;
  const locale = env.LC_ALL || env.LANG || "";
  return locale.toLowerCase().startsWith("pt") ? "pt" : "en";
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
  /** What a `banned` is about: `name`, `address` (a guest's), `room` (then `room` names it); undefined from an older server. */
  ban?: string | undefined;
  /** The room the refused line or request was about (a room's `banned`, `muted`). */
  room?: string | undefined;
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
  to_self: () => "Not sent: that is your own name. A private message goes to someone else.",
  not_registered: () => "That name is not a registered account: friends are for registered names.",
  room_invalid: () => "Invalid room name.",
  not_in_room: () => "Not in that room.",
  invite_only: () => "That room is invite-only.",
  banned: (c) =>
    c.ban === "name"
      ? `The name "${c.name ?? ""}" is banned from the server`
      : c.ban === "address"
        ? "Guests from this address are banned from the server: only registered names may join from here"
        : c.ban === "room" && c.room
          ? `You are banned from ${c.room}.`
          : "You are banned from there.",
  muted: (c) => (c.room ? `You are muted in ${c.room}: message not delivered.` : "You are muted there: message not delivered."),
  not_operator: () => "Only an operator may do that.",
  server_full: () => "The server is full: try again later.",
  busy: () => "The server is busy checking passwords: try again in a moment.",
  unavailable: () => "The server could not take that just now: try again in a moment.",
  mailbox_full: (c) => `${c.to ? `${c.to}'s` : "The recipient's"} mailbox is full: that message was not kept.`,
  too_many_rooms: () => "You are in (or own) as many rooms as one may: leave one first.",
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
  to_self: () => "Não enviada: esse é o seu próprio nome. Uma mensagem privada vai para outra pessoa.",
  not_registered: () => "Esse nome não é uma conta registrada: amigos são para nomes registrados.",
  room_invalid: () => "Nome de sala inválido.",
  not_in_room: () => "Fora dessa sala.",
  invite_only: () => "Essa sala é só para convidados.",
  banned: (c) =>
    c.ban === "name"
      ? `O nome "${c.name ?? ""}" está banido do servidor`
      : c.ban === "address"
        ? "Convidados deste endereço estão banidos do servidor: daqui só entram nomes registrados"
        : c.ban === "room" && c.room
          ? `Você está banido(a) de ${c.room}.`
          : "Você está banido(a) de lá.",
  muted: (c) => (c.room ? `Você está silenciado(a) em ${c.room}: mensagem não entregue.` : "Você está silenciado(a) lá: mensagem não entregue."),
  not_operator: () => "Só um operador pode fazer isso.",
  server_full: () => "O servidor está cheio: tente mais tarde.",
  busy: () => "O servidor está ocupado conferindo senhas: tente de novo em instantes.",
  unavailable: () => "O servidor não pôde aceitar isso agora: tente de novo em instantes.",
  mailbox_full: (c) => `A caixa de mensagens ${c.to ? `de ${c.to}` : "do destinatário"} está cheia: essa mensagem não foi guardada.`,
  too_many_rooms: () => "Você já está em (ou é dono de) tantas salas quanto se pode: saia de uma antes.",
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

/**
 * The help, with the line for /register and any lines for rooms that differ
 * between the ways in: the terminal asks for the password hidden, the text
 * port takes it on the line and also sends `#room text`.
 */
const helpEn = (register: string, roomLines = "") => `Commands:
  text                 send to everyone
  @name text           private message to name (also /name text)
  //text               send a text that starts with "/"
  /list                who is online (also /users, /clientes)
  /subject [text]      subject of your next messages; empty clears it (also /assunto)
  /history             older messages (also /historico)
${register}
Rooms (your messages go to the current room):
  /join #room [private]  enter a room, creating it (private: a group by invitation) (also /enter, /entrar)
  /room #room          make a room you are in the current one (also /sala)${roomLines}
  /part [#room]        leave a room, the current one by default (also /leave, /deixar)
  /rooms               the rooms you can enter (also /salas)
  /who [#room]         who is in a room (also /quem)
  /topic [text]        set the current room's topic, operators only (also /topico)
Operators, in the current room:
  /kick name [reason]  put out (also /expulsar)    /ban name [reason]  ban (also /banir)
  /unban name          (also /desbanir)            /mute name  (also /silenciar)
  /unmute name         (also /liberar)             /op name, /deop name
  /invite name         to a private group (also /convidar)
Friends (registered names):
  /friend name         ask, or accept (also /amigo)   /unfriend name  (also /desamigo)
  /friends             your friends, who is online (also /amigos)
  /quit                leave the chat (also /exit, /sair)
  /help                this help (also /ajuda)`;

const helpPt = (register: string, roomLines = "") => `Comandos:
  texto                envia para todos
  @nome texto          mensagem privada para nome (ou /nome texto)
  //texto              envia um texto que começa com "/"
  /clientes            quem está online (ou /list, /users)
  /assunto [texto]     assunto das próximas mensagens; vazio limpa (ou /subject)
  /historico           mensagens anteriores (ou /history)
${register}
Salas (suas mensagens vão para a sala atual):
  /entrar #sala [privada]  entra numa sala, criando-a (privada: um grupo só com convite) (ou /join, /enter)
  /sala #sala          torna atual uma sala em que você está (ou /room)${roomLines}
  /deixar [#sala]      sai de uma sala, por padrão a atual (ou /part, /leave)
  /salas               as salas em que você pode entrar (ou /rooms)
  /quem [#sala]        quem está numa sala (ou /who)
  /topico [texto]      muda o tópico da sala atual, só operadores (ou /topic)
Operadores, na sala atual:
  /expulsar nome [motivo]  (ou /kick)        /banir nome [motivo]  (ou /ban)
  /desbanir nome       (ou /unban)           /silenciar nome  (ou /mute)
  /liberar nome        (ou /unmute)          /op nome, /deop nome
  /convidar nome       para um grupo privado (ou /invite)
Amigos (nomes registrados):
  /amigo nome          pede ou aceita amizade (ou /friend)   /desamigo nome  (ou /unfriend)
  /amigos              seus amigos, quem está online (ou /friends)
  /sair                sai do chat (ou /quit, /exit)
  /ajuda               esta ajuda (ou /help)`;

const HELP_EN = helpEn("  /register            protect your name with a password (also /registrar)");
const HELP_PT = helpPt("  /registrar           protege seu nome com uma senha (ou /register)");
/** The plain-text port's help: the same commands, the password on the line, and `#room text`. */
const TEXT_HELP_EN = helpEn(
  "  /register password   protect your name with this password (also /registrar)",
  "\n  #room text           send to a room you are in, without making it current",
);
const TEXT_HELP_PT = helpPt(
  "  /registrar senha     protege seu nome com esta senha (ou /register)",
  "\n  #sala texto          envia para uma sala em que você está, sem torná-la atual",
);

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
    textHelp: TEXT_HELP_EN,
    socketErrors: {
      ECONNREFUSED: "connection refused",
      ECONNRESET: "connection reset",
      ENOTFOUND: "unknown host",
      EAI_AGAIN: "unknown host",
      ETIMEDOUT: "timed out",
      EHOSTUNREACH: "host unreachable",
      ...certificateErrors("the server's certificate cannot be verified (trust it with --ca FILE, or accept it with --insecure)"),
      EPROTO: "the server does not speak TLS here (leave out --tls?)",
      CLOSED_SILENTLY: "it closed the connection without a word; a server started with --tls-cert does that to a plain client: add --tls",
    } as Record<string, string>,
    cannotConnect: (address: string, why: string) =>
      `Cannot connect to the server at ${address}: ${why}. Is it running? Start one with: npx tsx server.ts`,
    /** Connected, but it failed for another reason than no server (a certificate, ...): no hint to start one. */
    cannotConnectThere: (address: string, why: string) => `Cannot connect to the server at ${address}: ${why}.`,
    connectionClosed: (address: string, why: string) => `The server at ${address} did not let this client join: ${why}.`,
    connectionLost: (address: string) => `Connection to the server at ${address} lost.`,
    reconnecting: (seconds: number, attempt: number, to?: string) => `Reconnecting${to ? ` to ${to}` : ""} in ${seconds} s (attempt ${attempt})...`,
    reconnectFailed: (why: string) => `Reconnection failed: ${why}.`,
    nameHeld: (name: string, address: string) =>
      `The server at ${address} still counts ${name} as on the server that went away; asking again until it lets go (within 15 s).`,
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
    kickedFromServer: (by: string, reason: string) => `${by} kicked you out of the server${reason ? ` (reason: ${reason})` : ""}.`,
    bannedFromServer: (by: string, reason: string, guest: boolean) =>
      `${by} banned you from the server${reason ? ` (reason: ${reason})` : ""}: this name is refused until an admin lifts the ban${guest ? ", and so are guests from this address" : ""}.`,
    /** What one can do once put out, in line mode (the client has ended) and on the full screen (back at the name screen). */
    comeBackLine: "Start the client again to come back.",
    comeBackScreen: "Type a name to join again.",
    noPassword: "No password was given.",
    error: (detail: string) => `Error: ${detail}`,
    cannotPartLobby: `Everyone stays in ${LOBBY}: /quit leaves the chat.`,
    nowIn: (room: string) => `Now talking in ${room}.`,
    notInRoom: (room: string) => `You are not in ${room}: /join ${room} first.`,
    roomMissing: (word: string) => `${word} needs a room: ${word} #name`,
    roomInvalid: (typed: string) => `Not a room name: ${JSON.stringify(typed)}. A room is # then 1 to ${MAX_ROOM_CHARS} letters, digits, _ or -.`,
    targetMissing: (word: string) => `${word} needs a name: ${word} name`,
    passwordMissing: (word: string) => `${word} needs the password: ${word} password`,
    unexpectedText: (text: string) => `Unexpected ${JSON.stringify(text)}: type /help.`,
    entered: (room: string, users: string, count: number, topic: string, group: boolean) =>
      `You are in ${room}${group ? " (private group)" : ""}${topic ? `, topic: ${topic}` : ""}. Members (${count}): ${users}`,
    parted: (room: string) => `You left ${room}.`,
    joinedRoom: (name: string, room: string) => `*** ${name} entered ${room}`,
    leftRoom: (name: string, room: string) => `*** ${name} left ${room}`,
    members: (room: string, users: string, count: number) => `${room} (${count}): ${users}`,
    rooms: (rooms: string) => `Rooms: ${rooms}`,
    roomSummary: (room: string, members: number, topic: string, group: boolean) =>
      `${room} (${members})${group ? " private" : ""}${topic ? `: ${topic}` : ""}`,
    topicSet: (actor: string, room: string, topic: string) => `*** ${actor} set the topic of ${room}: ${topic}`,
    topicCleared: (actor: string, room: string) => `*** ${actor} cleared the topic of ${room}`,
    moderation: {
      kick: (a: string, n: string, r: string) => `${a} kicked ${n} out of ${r}`,
      ban: (a: string, n: string, r: string) => `${a} banned ${n} from ${r}`,
      unban: (a: string, n: string, r: string) => `${a} lifted the ban on ${n} in ${r}`,
      mute: (a: string, n: string, r: string) => `${a} muted ${n} in ${r}`,
      unmute: (a: string, n: string, r: string) => `${a} unmuted ${n} in ${r}`,
      op: (a: string, n: string, r: string) => `${a} made ${n} an operator of ${r}`,
      deop: (a: string, n: string, r: string) => `${a} removed ${n} as operator of ${r}`,
      invite: (a: string, n: string, r: string) => `${a} invited ${n} to ${r}: /join ${r}`,
    } satisfies Record<ModerationType, (actor: string, target: string, room: string) => string>,
    because: (reason: string) => ` (reason: ${reason})`,
    friendRequested: (name: string) => `${name} wants to be your friend: /friend ${name} to accept.`,
    friendsNeedAccount: "Friends are for registered names: /register your name first, then /friend again.",
    friendAsked: (name: string) => `Friend request sent to ${name}.`,
    friendAccepted: (name: string) => `You and ${name} are now friends.`,
    friendRemoved: (name: string) => `You and ${name} are no longer friends.`,
    friendsList: (list: string, requests: string) => `Friends: ${list || "none yet"}${requests ? `. Asking you: ${requests}` : ""}`,
    friendState: (name: string, online: boolean) => `${name} (${online ? "online" : "offline"})`,
    presence: (name: string, online: boolean) => `*** ${name} ${online ? "is online" : "went offline"}`,
    screen: {
      title: "Chat: choose your name",
      passwordTitle: (name: string) => `The name ${name} is registered: type its password`,
      passwordHint: "Esc: choose another name.",
      /** The key hints, the most useful first: the screen shows as many as its width holds. */
      keys: ["Enter send", "Ctrl+C quit", "Alt+1..9 window", "Tab recipient", "Esc everyone", "PgUp/PgDn scroll", "↑↓ recall", "Ctrl+N/P next/previous window", "Ctrl+L clear"],
      windows: "Windows",
      members: (count: number) => `Members (${count})`,
      friends: "Friends",
      privateWindow: (name: string) => `private conversation with ${name}`,
      privateSentTo: (window: string, n: number) => `Private line sent: it is in window ${window}${n <= 9 ? ` (Alt+${n})` : ""}.`,
      noTopic: "no topic",
      outOfRoom: "you are no longer in this room",
      everyone: "to everyone",
      toRoom: (room: string) => `to ${room}`,
      privateTo: (name: string) => `private to ${name}`,
      subject: (subject: string) => `subject: ${subject}`,
      online: (count: number) => `Online (${count})`,
      connecting: (address: string) => `Connecting to ${address}...`,
      disconnected: (address: string) => `Not connected to ${address}`,
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
    textHelp: TEXT_HELP_PT,
    socketErrors: {
      ECONNREFUSED: "conexão recusada",
      ECONNRESET: "conexão reiniciada",
      ENOTFOUND: "host desconhecido",
      EAI_AGAIN: "host desconhecido",
      ETIMEDOUT: "tempo esgotado",
      EHOSTUNREACH: "host inalcançável",
      ...certificateErrors("o certificado do servidor não pode ser verificado (confie nele com --ca ARQUIVO, ou aceite com --insecure)"),
      EPROTO: "o servidor não fala TLS aqui (sem --tls?)",
      CLOSED_SILENTLY: "ele fechou a conexão sem dizer nada; um servidor iniciado com --tls-cert faz isso com um cliente sem TLS: acrescente --tls",
    } as Record<string, string>,
    cannotConnect: (address: string, why: string) =>
      `Não foi possível conectar ao servidor em ${address}: ${why}. Ele está rodando? Inicie um com: npx tsx server.ts`,
    cannotConnectThere: (address: string, why: string) => `Não foi possível conectar ao servidor em ${address}: ${why}.`,
    connectionClosed: (address: string, why: string) => `O servidor em ${address} não deixou este cliente entrar: ${why}.`,
    connectionLost: (address: string) => `Conexão com o servidor em ${address} perdida.`,
    reconnecting: (seconds: number, attempt: number, to?: string) => `Reconectando${to ? ` a ${to}` : ""} em ${seconds} s (tentativa ${attempt})...`,
    reconnectFailed: (why: string) => `Falha ao reconectar: ${why}.`,
    nameHeld: (name: string, address: string) =>
      `O servidor em ${address} ainda conta ${name} no servidor que caiu; pedindo de novo até liberar (em até 15 s).`,
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
    kickedFromServer: (by: string, reason: string) => `${by} expulsou você do servidor${reason ? ` (motivo: ${reason})` : ""}.`,
    bannedFromServer: (by: string, reason: string, guest: boolean) =>
      `${by} baniu você do servidor${reason ? ` (motivo: ${reason})` : ""}: este nome fica recusado até um admin retirar o banimento${guest ? ", e também convidados deste endereço" : ""}.`,
    comeBackLine: "Inicie o cliente de novo para voltar.",
    comeBackScreen: "Digite um nome para entrar de novo.",
    noPassword: "Nenhuma senha foi dada.",
    error: (detail: string) => `Erro: ${detail}`,
    cannotPartLobby: `Todos ficam em ${LOBBY}: /sair sai do chat.`,
    nowIn: (room: string) => `Agora falando em ${room}.`,
    notInRoom: (room: string) => `Você não está em ${room}: primeiro /entrar ${room}.`,
    roomMissing: (word: string) => `${word} precisa de uma sala: ${word} #nome`,
    roomInvalid: (typed: string) => `Não é nome de sala: ${JSON.stringify(typed)}. Uma sala é # e de 1 a ${MAX_ROOM_CHARS} letras, dígitos, _ ou -.`,
    targetMissing: (word: string) => `${word} precisa de um nome: ${word} nome`,
    passwordMissing: (word: string) => `${word} precisa da senha: ${word} senha`,
    unexpectedText: (text: string) => `${JSON.stringify(text)} inesperado: digite /ajuda.`,
    entered: (room: string, users: string, count: number, topic: string, group: boolean) =>
      `Você está em ${room}${group ? " (grupo privado)" : ""}${topic ? `, tópico: ${topic}` : ""}. Membros (${count}): ${users}`,
    parted: (room: string) => `Você saiu de ${room}.`,
    joinedRoom: (name: string, room: string) => `*** ${name} entrou em ${room}`,
    leftRoom: (name: string, room: string) => `*** ${name} saiu de ${room}`,
    members: (room: string, users: string, count: number) => `${room} (${count}): ${users}`,
    rooms: (rooms: string) => `Salas: ${rooms}`,
    roomSummary: (room: string, members: number, topic: string, group: boolean) =>
      `${room} (${members})${group ? " privada" : ""}${topic ? `: ${topic}` : ""}`,
    topicSet: (actor: string, room: string, topic: string) => `*** ${actor} mudou o tópico de ${room}: ${topic}`,
    topicCleared: (actor: string, room: string) => `*** ${actor} removeu o tópico de ${room}`,
    moderation: {
      kick: (a: string, n: string, r: string) => `${a} expulsou ${n} de ${r}`,
      ban: (a: string, n: string, r: string) => `${a} baniu ${n} de ${r}`,
      unban: (a: string, n: string, r: string) => `${a} desbaniu ${n} de ${r}`,
      mute: (a: string, n: string, r: string) => `${a} silenciou ${n} em ${r}`,
      unmute: (a: string, n: string, r: string) => `${a} liberou ${n} em ${r}`,
      op: (a: string, n: string, r: string) => `${a} tornou ${n} operador(a) de ${r}`,
      deop: (a: string, n: string, r: string) => `${a} tirou ${n} de operador(a) de ${r}`,
      invite: (a: string, n: string, r: string) => `${a} convidou ${n} para ${r}: /entrar ${r}`,
    } satisfies Record<ModerationType, (actor: string, target: string, room: string) => string>,
    because: (reason: string) => ` (motivo: ${reason})`,
    friendRequested: (name: string) => `${name} quer ser seu(sua) amigo(a): /amigo ${name} para aceitar.`,
    friendsNeedAccount: "Amigos são para nomes registrados: primeiro /registrar seu nome, depois /amigo de novo.",
    friendAsked: (name: string) => `Pedido de amizade enviado para ${name}.`,
    friendAccepted: (name: string) => `Você e ${name} agora são amigos.`,
    friendRemoved: (name: string) => `Você e ${name} não são mais amigos.`,
    friendsList: (list: string, requests: string) => `Amigos: ${list || "nenhum ainda"}${requests ? `. Pedindo sua amizade: ${requests}` : ""}`,
    friendState: (name: string, online: boolean) => `${name} (${online ? "online" : "offline"})`,
    presence: (name: string, online: boolean) => `*** ${name} ${online ? "está online" : "ficou offline"}`,
    screen: {
      title: "Chat: escolha seu nome",
      passwordTitle: (name: string) => `O nome ${name} é registrado: digite a senha`,
      passwordHint: "Esc: escolher outro nome.",
      keys: ["Enter envia", "Ctrl+C sai", "Alt+1..9 janela", "Tab destinatário", "Esc todos", "PgUp/PgDn rola", "↑↓ repete", "Ctrl+N/P janela seguinte/anterior", "Ctrl+L limpa"],
      windows: "Janelas",
      members: (count: number) => `Membros (${count})`,
      friends: "Amigos",
      privateWindow: (name: string) => `conversa privada com ${name}`,
      privateSentTo: (window: string, n: number) => `Linha privada enviada: está na janela ${window}${n <= 9 ? ` (Alt+${n})` : ""}.`,
      noTopic: "sem tópico",
      outOfRoom: "você não está mais nesta sala",
      everyone: "para todos",
      toRoom: (room: string) => `para ${room}`,
      privateTo: (name: string) => `privada para ${name}`,
      subject: (subject: string) => `assunto: ${subject}`,
      online: (count: number) => `Online (${count})`,
      connecting: (address: string) => `Conectando a ${address}...`,
      disconnected: (address: string) => `Sem conexão com ${address}`,
      connected: (address: string, name: string) => `Conectado a ${address}${name ? ` como ${name}` : ""}`,
      reconnecting: (seconds: number, attempt: number) => `Conexão perdida: reconectando em ${seconds} s (tentativa ${attempt})`,
      unread: (count: number) =>
        count === 1 ? "↓ 1 mensagem nova abaixo: PgDn" : count > 0 ? `↓ ${count} mensagens novas abaixo: PgDn` : "↓ rolado para trás: PgDn para voltar",
      pending: "enviando",
    },
  },
} satisfies Record<Lang, unknown>;

export type Texts = (typeof TEXTS)["en"];

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The launcher's own words (its children speak for themselves, in the language passed to them). */
export const LAUNCHER_TEXTS = {
  en: {
    title: (servers: number, clients: number) => `Chat launcher: ${count(servers, "server", "servers")}, ${count(clients, "client", "clients")}.`,
    independent: "Servers are independent: a client talks only with the clients on its own server.",
    independentShort: "Each server is a separate chat.",
    clusterTitle: (servers: number, clients: number) => `Chat launcher: ${count(servers, "server", "servers")}, one chat, ${count(clients, "client", "clients")}.`,
    oneChat: "Every client talks with every other; one whose server stops moves to another.",
    keys: "Tab/arrows: focus · Enter: send · Ctrl+C or q on an empty line: quit",
    serverTakesNoInput: "(a server takes no input: focus a client with Tab)",
    page: (first: number, last: number, total: number) => `${first}–${last} of ${total} · Tab or arrows for the others`,
    running: (servers: number, clients: number) => `${count(servers, "server", "servers")} and ${count(clients, "client", "clients")} running.`,
    died: (name: string, how: string) => `${name} died (${how}); the others go on`,
    quit: (name: string) => `${name} has quit`,
    stopping: "stopping",
    cannotStart: (name: string, why: string) => `${name} could not start: ${why}; stopping everything`,
    noClient: (word: string) => `No client named "${word}"`,
    writeNameText: (names: string[]) => `write NAME text, NAME one of ${names.join(", ")}`,
    notSent: (name: string, died: string | undefined) =>
      died === undefined ? `${name} has quit; its line was not sent` : `${name} has died (${died}); its line was not sent`,
    demoSilent: (names: string[]) => `the demo did not get a user list from ${names.join(", ")}`,
    states: {
      starting: "starting",
      listening: "listening",
      connecting: "connecting",
      connected: (port: number, as: string) => `connected to :${port}${as ? ` as ${as}` : ""}`,
      reconnecting: (port: number) => `reconnecting to :${port}`,
      disconnected: "disconnected",
      quit: "quit",
      stopped: "stopped",
      dead: (how: string) => `dead (${how})`,
    },
  },
  pt: {
    title: (servers: number, clients: number) => `Lançador do chat: ${count(servers, "servidor", "servidores")}, ${count(clients, "cliente", "clientes")}.`,
    independent: "Os servidores são independentes: um cliente só conversa com os clientes do seu próprio servidor.",
    independentShort: "Cada servidor é um chat separado.",
    clusterTitle: (servers: number, clients: number) => `Lançador do chat: ${count(servers, "servidor", "servidores")}, um só chat, ${count(clients, "cliente", "clientes")}.`,
    oneChat: "Todos os clientes conversam entre si; quem perde o servidor passa a outro.",
    keys: "Tab/setas: foco · Enter: envia · Ctrl+C ou q numa linha vazia: sai",
    serverTakesNoInput: "(um servidor não recebe texto: foque um cliente com Tab)",
    page: (first: number, last: number, total: number) => `${first}–${last} de ${total} · Tab ou setas para os outros`,
    running: (servers: number, clients: number) => `${count(servers, "servidor", "servidores")} e ${count(clients, "cliente", "clientes")} rodando.`,
    died: (name: string, how: string) => `${name} morreu (${how}); os outros continuam`,
    quit: (name: string) => `${name} saiu`,
    stopping: "encerrando",
    cannotStart: (name: string, why: string) => `${name} não pôde iniciar: ${why}; encerrando tudo`,
    noClient: (word: string) => `Nenhum cliente se chama "${word}"`,
    writeNameText: (names: string[]) => `escreva NOME texto, NOME um de ${names.join(", ")}`,
    notSent: (name: string, died: string | undefined) =>
      died === undefined ? `${name} saiu; a linha não foi enviada` : `${name} morreu (${died}); a linha não foi enviada`,
    demoSilent: (names: string[]) => `a demonstração não recebeu a lista de usuários de ${names.join(", ")}`,
    states: {
      starting: "iniciando",
      listening: "escutando",
      connecting: "conectando",
      connected: (port: number, as: string) => `conectado a :${port}${as ? ` como ${as}` : ""}`,
      reconnecting: (port: number) => `reconectando a :${port}`,
      disconnected: "desconectado",
      quit: "saiu",
      stopped: "parado",
      dead: (how: string) => `morreu (${how})`,
    },
  },
} satisfies Record<Lang, unknown>;

export type LauncherTexts = (typeof LAUNCHER_TEXTS)["en"];
