/**
 * The wearable's EN encounters on their way to the carer. Each sync sends the
 * encounters within retention whose current content the carer has not yet
 * acknowledged (an encounter grows while its RPI is still heard: a grown copy
 * has a new encounterId and goes again, superseding the carer's older copy).
 * What the carer acknowledged is kept per RPI in `encounters-sent.bin`
 * (sealed with the log key, written atomically, 0600); losing it only means
 * resending, which the carer absorbs (one encounter per RPI there).
 */
import { toHex } from '@beepkit/protocol/bytes';
import { readSealedFile, writeSealedFile } from '@beepkit/device-core/keys';
import { encounterId } from '@beepkit/protocol/carer';
import type { Encounter } from '@beepkit/device-core/encounters';

const MAGIC = new TextEncoder().encode('BKWS1');

export interface EncounterShareOptions {
  /** The acknowledged-content file. */
  path: string;
  /** 32-byte sealing key (the wearable's log key). */
  key: Uint8Array;
  /** The encounter log as of now (the recorder's live log, or the file it saves). */
  source: () => Promise<Encounter[]>;
  retentionMs: number;
  /** Clock, ms. */
  now: () => number;
}

/** An encounter as sent: a snapshot (the live log keeps growing) and its content id. */
export interface SentEncounter {
  encounter: Encounter;
  id: string;
}

export class EncounterShare {
  readonly #o: EncounterShareOptions;
  /** rpi → id of the content the carer acknowledged. */
  #acked?: Map<string, string>;

  constructor(o: EncounterShareOptions) {
    this.#o = o;
  }

  async #load(): Promise<Map<string, string>> {
    if (this.#acked) return this.#acked;
    const acked = new Map<string, string>();
    try {
      const plain = await readSealedFile(this.#o.path, this.#o.key, MAGIC, 'sent encounters');
      if (plain) for (const [rpi, id] of Object.entries(JSON.parse(new TextDecoder().decode(plain)) as Record<string, string>)) acked.set(rpi, id);
    } catch {
      acked.clear(); // unreadable: everything goes again (harmless: the carer keeps one per RPI)
    }
    this.#acked = acked;
    return acked;
  }

  async #save(acked: Map<string, string>): Promise<void> {
    await writeSealedFile(this.#o.path, this.#o.key, MAGIC, new TextEncoder().encode(JSON.stringify(Object.fromEntries(acked))));
  }

  /** Encounters within retention whose content the carer lacks, oldest first, as snapshots. */
  async pending(): Promise<SentEncounter[]> {
    const acked = await this.#load();
    const cutoff = this.#o.now() - this.#o.retentionMs;
    const out: SentEncounter[] = [];
    for (const e of await this.#o.source()) {
      if (e.lastSeen < cutoff) continue;
      const snap: Encounter = { ...e, windows: e.windows.map((w) => ({ ...w, msByBucket: [...w.msByBucket] })) };
      const id = toHex(encounterId(snap));
      if (acked.get(e.rpi) !== id) out.push({ encounter: snap, id });
    }
    return out.sort((a, b) => a.encounter.lastSeen - b.encounter.lastSeen);
  }

  /** Notes the carer's acknowledgement of `ids` among `sent` (durable when this resolves); returns how many. */
  async acknowledge(sent: SentEncounter[], ids: Uint8Array[]): Promise<number> {
    const acked = await this.#load();
    const got = new Set(ids.map(toHex));
    let n = 0;
    for (const s of sent) {
      if (!got.has(s.id)) continue;
      acked.set(s.encounter.rpi, s.id);
      n++;
    }
    // forget RPIs past retention (their encounters are gone from the log too)
    const live = new Set([...(await this.#o.source()).map((e) => e.rpi), ...sent.map((s) => s.encounter.rpi)]);
    for (const rpi of acked.keys()) if (!live.has(rpi)) acked.delete(rpi);
    if (n) await this.#save(acked);
    return n;
  }

  /** How many RPIs the carer holds the current content of (as far as this wearable knows). */
  async ackedCount(): Promise<number> {
    return (await this.#load()).size;
  }
}
