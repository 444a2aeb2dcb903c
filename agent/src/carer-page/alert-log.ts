/**
 * The alerts the carer page shows: the wearables' alerts as the agent raised
 * them (an AlertSink beside the log, /status and the hooks), newest first,
 * the last 100, in memory (an agent restarted shows the alerts raised since).
 * Only what the page words: the person, kind, level, day and minutes; never a
 * pseudonym, key or position (an Alert carries none).
 */
import type { Alert, AlertSink } from '../alerts/index.ts';

export interface LoggedAlert {
  /** Increasing per agent run: the page's key for the alert. */
  seq: number;
  person: string;
  wearableId: string;
  kind: Alert['kind'];
  level: Alert['level'];
  day: number;
  minutes?: number;
  /** When the agent raised it (the agent's clock). */
  raisedMs: number;
}

const MAX = 100;

export class CarerAlertLog implements AlertSink {
  readonly name = 'carer-page';
  readonly #items: LoggedAlert[] = [];
  #seq = 0;

  constructor(private readonly now: () => number) {}

  /** Takes the wearables' alerts (those naming a person); the agent's own are not the page's. */
  async deliver(a: Alert): Promise<void> {
    const c = a as Alert & { person?: unknown; wearableId?: unknown };
    if (typeof c.person !== 'string' || typeof c.wearableId !== 'string') return;
    this.#items.unshift({
      seq: ++this.#seq,
      person: c.person,
      wearableId: c.wearableId,
      kind: a.kind,
      level: a.level,
      day: a.day,
      minutes: a.minutes,
      raisedMs: this.now(),
    });
    this.#items.length = Math.min(this.#items.length, MAX);
  }

  list(): readonly LoggedAlert[] {
    return this.#items;
  }

  /** Forgets a wearable's alerts (on unpair). */
  forget(wearableId: string): void {
    for (let i = this.#items.length - 1; i >= 0; i--) if (this.#items[i].wearableId === wearableId) this.#items.splice(i, 1);
  }
}
