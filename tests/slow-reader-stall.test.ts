/**
 * Readers that never read cannot stall everyone (issue 17, item 9). Here:
 * the ledger of how long each address's readers may hold their talkers.
 */
import t from "tap";
import { ADDRESS_PACING_BUDGET_MS, LAG_WINDOW_MS, PACING_GRACE_MS } from "../server/limits.js";
import { AddressPacing } from "../server/reader-pacing.js";

t.test("the time readers may hold talkers is an address's, not a connection's (pure)", async (t) => {
  let now = 1_000_000;
  const pacing = new AddressPacing(() => now);
  t.equal(pacing.grace("10.0.0.1"), PACING_GRACE_MS, "a reader behind holds its talkers for the grace at most");
  // Readers that never catch up, each on a new connection from one address: each uses its grace.
  let held = 0;
  for (let i = 0; i < 100 && pacing.grace("10.0.0.1") > 0; i++) {
    const grace = pacing.grace("10.0.0.1");
    pacing.charge("10.0.0.1", grace);
    held += grace;
    now += 100;
  }
  t.equal(held, ADDRESS_PACING_BUDGET_MS, "in all, no more than the address's budget");
  t.equal(pacing.grace("10.0.0.1"), 0, "then its readers pace no one");
  t.equal(pacing.grace("10.0.0.2"), PACING_GRACE_MS, "another address keeps its own");
  now += LAG_WINDOW_MS;
  t.equal(pacing.grace("10.0.0.1"), PACING_GRACE_MS, "a window later it has its grace again");
});
