/**
 * Claims the solver has indexed: (pseudonym-day, interval). The gateway keeps
 * one record per pseudonym-day and interval (protocol/SPEC.md), but a ledger
 * may still hold conflicting claims (written before the rule, or by another
 * writer): the first one on the ledger is indexed, later ones are counted
 * (`conflictingClaims`) and skipped, so one device cannot be in several places
 * at once. Memory: one small array per pseudonym-day, dropped with its day.
 */
export class ClaimBook {
  readonly #days = new Map<number, Map<string, number[]>>();

  /** The intervals already claimed by `prefix` on `day` (the pseudonym is per day). */
  of(prefix: Uint8Array, day: number): number[] {
    let d = this.#days.get(day);
    if (!d) this.#days.set(day, (d = new Map()));
    const k = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.length).toString('latin1');
    let list = d.get(k);
    if (!list) d.set(k, (list = []));
    return list;
  }

  /** Drops the days before `day`. */
  dropBefore(day: number): void {
    for (const d of this.#days.keys()) if (d < day) this.#days.delete(d);
  }
}

/** true (and the claim added) when `interval` was not claimed yet in `claimed`. */
export function claim(claimed: number[], interval: number): boolean {
  if (claimed.includes(interval)) return false;
  claimed.push(interval);
  return true;
}
