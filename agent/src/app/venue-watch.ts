/**
 * The pre-visit check on /status (issue 22): when a genuine venue frame is
 * heard, the agent asks the gateway for that venue's state (empty, infected,
 * clean) over its own MQTT connection, at most once per venue per `minGapMs`
 * of agent time and one query at a time, and /status shows the state of the
 * venue heard last. The log says how a query failed (its code), never which
 * venue: no location in logs.
 */
import { isBeepkitError } from '@beepkit/protocol';
import type { Logger } from '../alerts/logger.ts';

export interface VenueWatchStatus {
  /** the venue heard last: its configured name, else its id */
  venue: string;
  state?: string;
  /** agent clock ms of the gateway's last change of that state */
  sinceMs?: number;
  /** agent clock ms of the answer */
  checkedMs?: number;
  lastCode?: string;
  queries: number;
  failures: number;
}

export interface VenueWatchOptions {
  query: ((venueId: string) => Promise<{ state: string; sinceMs: number }>) | undefined;
  now: () => number;
  nameOf: (venueId: string) => string | undefined;
  logger: Logger;
  minGapMs?: number;
  /** venues remembered at most (the oldest forgotten) */
  maxVenues?: number;
}

export class VenueWatch {
  readonly #o: VenueWatchOptions;
  readonly #known = new Map<string, { state?: string; sinceMs?: number; checkedMs?: number; askedMs: number; lastCode?: string }>();
  #last?: string;
  #inFlight = false;
  #queries = 0;
  #failures = 0;

  constructor(o: VenueWatchOptions) {
    this.#o = o;
  }

  /** A genuine venue frame of `venueId` (hex) was heard. */
  heard(venueId: string): void {
    this.#last = venueId;
    const now = this.#o.now();
    const k = this.#known.get(venueId);
    if (!this.#o.query || this.#inFlight || (k && now - k.askedMs < (this.#o.minGapMs ?? 600_000))) return;
    const entry = k ?? { askedMs: now };
    entry.askedMs = now;
    this.#known.delete(venueId);
    this.#known.set(venueId, entry);
    while (this.#known.size > (this.#o.maxVenues ?? 64)) this.#known.delete(this.#known.keys().next().value as string);
    this.#inFlight = true;
    this.#queries++;
    this.#o
      .query(venueId)
      .then(
        (r) => {
          Object.assign(entry, { state: r.state, sinceMs: r.sinceMs, checkedMs: this.#o.now(), lastCode: undefined });
        },
        (err: unknown) => {
          this.#failures++;
          entry.lastCode = isBeepkitError(err) ? err.code : 'E_INTERNAL';
          if (this.#failures === 1 || this.#failures % 100 === 0)
            this.#o.logger.warn({ code: entry.lastCode, failures: this.#failures }, 'agent: venue state query failed');
        },
      )
      .finally(() => {
        this.#inFlight = false;
      });
  }

  status(): VenueWatchStatus | undefined {
    if (this.#last === undefined) return undefined;
    const k = this.#known.get(this.#last);
    return {
      venue: this.#o.nameOf(this.#last) ?? this.#last,
      ...(k?.state !== undefined ? { state: k.state, sinceMs: k.sinceMs, checkedMs: k.checkedMs } : {}),
      ...(k?.lastCode ? { lastCode: k.lastCode } : {}),
      queries: this.#queries,
      failures: this.#failures,
    };
  }
}
