/**
 * How long each address's readers have held their talkers paused: one
 * ledger per server, shared by its sessions, so that a reader's allowance
 * to stall the others belongs to its address and a new connection does not
 * bring a fresh one.
 */
import { ADDRESS_PACING_BUDGET_MS, LAG_WINDOW_MS, PACING_GRACE_MS } from "./limits.js";

/** Pure, with an injectable clock. */
export class AddressPacing {
  /** Pacing time used, by address, in a window that starts at the address's first charge. */
  private readonly used = new Map<string, { since: number; ms: number }>();
  private sweptAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.sweptAt = now();
  }

  /** How long a reader at `address` that falls behind now may hold its talkers: 0 once the address has used its budget. */
  grace(address: string): number {
    const used = this.current(address)?.ms ?? 0;
    return Math.max(0, Math.min(PACING_GRACE_MS, ADDRESS_PACING_BUDGET_MS - used));
  }

  /** A reader at `address` held its talkers `ms` and had not caught up. */
  charge(address: string, ms: number): void {
    this.sweep();
    const entry = this.current(address) ?? { since: this.now(), ms: 0 };
    entry.ms += ms;
    this.used.set(address, entry);
  }

  private current(address: string): { since: number; ms: number } | undefined {
    const entry = this.used.get(address);
    return entry && this.now() - entry.since <= LAG_WINDOW_MS ? entry : undefined;
  }

  /** Forgets the addresses whose window has ended: at most once a window, so the ledger costs nothing per charge. */
  private sweep(): void {
    const now = this.now();
    if (now - this.sweptAt <= LAG_WINDOW_MS) return;
    this.sweptAt = now;
    for (const [address, entry] of this.used) if (now - entry.since > LAG_WINDOW_MS) this.used.delete(address);
  }
}
