/**
 * The page's help: the commands of the shared grammar (common/grammar.ts)
 * as they work in the page, apart from app.ts so tests can read it.
 */

/** What the page's commands are: the grammar's, but /quit (close the page) and with the password on /register's line. */
export const PAGE_HELP = `Commands:
  text                 send to the conversation shown (or to the recipient chosen)
  @name text           private message to name (also /name text)
  //text               send a text that starts with "/"
  /list                who is online (also /users, /clientes)
  /subject [text]      subject of your next messages; empty clears it (also /assunto)
  /history             older messages of #general (also /historico)
  /register password   protect your name with this password (also /registrar)
Rooms:
  /join #room [private]  enter a room, creating it (private: a group by invitation) (also /enter, /entrar)
  /room #room          show a room you are in (also /sala)
  /part [#room]        leave a room, the one shown by default (also /leave, /deixar)
  /rooms               the rooms you can enter (also /salas)
  /who [#room]         who is in a room (also /quem)
  /topic [text]        set the room's topic, operators only (also /topico)
Operators, in the room shown:
  /kick name [reason]  put out (also /expulsar)    /ban name [reason]  ban (also /banir)
  /unban name          (also /desbanir)            /mute name  (also /silenciar)
  /unmute name         (also /liberar)             /op name, /deop name
  /invite name         to a private group (also /convidar)
Friends (registered names):
  /friend name         ask, or accept (also /amigo)   /unfriend name  (also /desamigo)
  /friends             your friends, who is online (also /amigos)
  /help                this help (also /ajuda)`;
