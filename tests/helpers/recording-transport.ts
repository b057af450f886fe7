/** A transport that keeps what the hub sends and whether it was asked to close: sessions without sockets (the hub's own tests). */
import type { Message } from "../../protocol.js";
import type { Outgoing, Transport } from "../../server/session.js";

export class RecordingTransport implements Transport {
  readonly address = "127.0.0.1";
  readonly peer = "127.0.0.1:40000";
  readonly bufferedBytes: number = 0;
  readonly frameStartedAt = 0;
  readonly sent: Message[] = [];
  ended = false;

  send(out: Outgoing): void {
    this.sent.push(out.message);
  }
  pause(): void {}
  resume(): void {}
  end(last?: Outgoing): void {
    if (last) this.sent.push(last.message);
    this.ended = true;
  }
  destroy(): void {
    this.ended = true;
  }
  onceDrained(callback: () => void): void {
    callback();
  }
}
