/**
 * The EN encounters each paired wearable delivered to its carer, held for
 * matching endorsed TEKs on the wearable's behalf. One file per wearable,
 * `<dir>/<wearableId>/encounters.bin` (beside its outbox), sealed at rest
 * (XChaCha20-Poly1305 under the carer's storage key, wearable id in the AAD),
 * written atomically with fsync, mode 0600. One encounter per RPI (the newest
 * lastSeen wins: encounter-wire.ts mergeEncounters), nothing older than the
 * retention window. All files are read at load, so counts and matching are
 * synchronous; every write is durable before its promise resolves (the carer
 * acknowledges only then).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol/errors';
import { Reader, Writer } from '@beepkit/protocol/bytes';
import { readSealedFile, writeSealedFile } from '@beepkit/device-core/keys';
import type { Encounter } from '@beepkit/device-core/encounters';
import { mergeEncounters, readEncounter, writeEncounter } from '@beepkit/protocol/carer';

const MAGIC = new TextEncoder().encode('BKCE1');
const FILE = 'encounters.bin';
const DAY_MS = 86_400_000;
/** Encounters held per wearable at most (the oldest lastSeen go first). */
export const MAX_HELD_ENCOUNTERS = 50_000;

export interface WearableEncounterStoreOptions {
  /** The per-wearable directories' parent (the agent's `<dataDir>/wearables`). */
  dir: string;
  /** 32-byte sealing key (the agent's storage key). */
  key: Uint8Array;
  retentionDays?: number;
}

export interface EncounterMerge {
  added: number;
  updated: number;
  unchanged: number;
  pruned: number;
}

export class WearableEncounterStore {
  readonly #o: WearableEncounterStoreOptions;
  readonly #held = new Map<string, Map<string, Encounter>>();
  readonly #chains = new Map<string, Promise<void>>();

  constructor(o: WearableEncounterStoreOptions) {
    if (o.key.length !== 32) throw new BeepkitError('E_KEY', 'encounter store key must be 32 bytes');
    this.#o = o;
  }

  get retentionMs(): number {
    return (this.#o.retentionDays ?? 14) * DAY_MS;
  }

  #path(wearableId: string): string {
    if (!/^[0-9a-f]{32}$/.test(wearableId)) throw new BeepkitError('E_FORMAT', 'wearable id: 32 lowercase hex digits');
    return join(this.#o.dir, wearableId, FILE);
  }

  #aad(wearableId: string): Uint8Array {
    return new Writer(64).bytes(MAGIC).str(wearableId).finish();
  }

  /** Reads a wearable's file (none: nothing held). */
  async load(wearableId: string): Promise<void> {
    const plain = await readSealedFile(this.#path(wearableId), this.#o.key, MAGIC, 'wearable encounters', this.#aad(wearableId));
    const held = new Map<string, Encounter>();
    if (!plain) {
      this.#held.set(wearableId, held);
      return;
    }
    const r = new Reader(plain, 'wearable encounters');
    const n = r.u32('count');
    for (let i = 0; i < n; i++) {
      const e = readEncounter(r);
      held.set(e.rpi, e);
    }
    r.end();
    this.#held.set(wearableId, held);
  }

  #write(wearableId: string): Promise<void> {
    const prev = this.#chains.get(wearableId) ?? Promise.resolve();
    const run = prev.then(async () => {
      const held = this.#held.get(wearableId);
      if (!held) return; // removed meanwhile
      await mkdir(join(this.#o.dir, wearableId), { recursive: true, mode: 0o700 });
      const w = new Writer(4096).u32(held.size);
      for (const e of held.values()) writeEncounter(w, e);
      await writeSealedFile(this.#path(wearableId), this.#o.key, MAGIC, w.finish(), this.#aad(wearableId));
    });
    this.#chains.set(
      wearableId,
      run.catch(() => {}),
    );
    return run;
  }

  #prune(held: Map<string, Encounter>, nowMs: number): number {
    const cutoff = nowMs - this.retentionMs;
    let n = 0;
    for (const [k, e] of held) if (e.lastSeen < cutoff && held.delete(k)) n++;
    if (held.size > MAX_HELD_ENCOUNTERS) {
      const oldest = [...held.values()].sort((a, b) => a.lastSeen - b.lastSeen).slice(0, held.size - MAX_HELD_ENCOUNTERS);
      for (const e of oldest) if (held.delete(e.rpi)) n++;
    }
    return n;
  }

  /**
   * Merges encounters received from the wearable (one per RPI, newest lastSeen wins), drops those
   * past retention, and writes the file (durable when this resolves) if anything changed.
   */
  async merge(wearableId: string, incoming: Encounter[], nowMs: number): Promise<EncounterMerge> {
    let held = this.#held.get(wearableId);
    if (!held) {
      await this.load(wearableId);
      held = this.#held.get(wearableId)!;
    }
    const cutoff = nowMs - this.retentionMs;
    const m = mergeEncounters(
      held,
      incoming.filter((e) => e.lastSeen >= cutoff),
    );
    const res = { ...m, unchanged: m.unchanged + incoming.filter((e) => e.lastSeen < cutoff).length, pruned: this.#prune(held, nowMs) };
    if (res.added || res.updated || res.pruned) await this.#write(wearableId);
    return res;
  }

  /** Drops every encounter past retention (all wearables held); returns how many. */
  async prune(nowMs: number): Promise<number> {
    let total = 0;
    for (const [id, held] of this.#held) {
      const n = this.#prune(held, nowMs);
      if (n) await this.#write(id);
      total += n;
    }
    return total;
  }

  /** Holds nothing for a wearable (an unreadable file: the next change overwrites it). */
  reset(wearableId: string): void {
    this.#held.set(wearableId, new Map());
  }

  /** The encounters held for a wearable (loaded ones; see load). */
  list(wearableId: string): Encounter[] {
    return [...(this.#held.get(wearableId)?.values() ?? [])];
  }

  count(wearableId: string): number {
    return this.#held.get(wearableId)?.size ?? 0;
  }

  /** Forgets a wearable's encounters and deletes its file. */
  async remove(wearableId: string): Promise<void> {
    this.#held.delete(wearableId);
    await (this.#chains.get(wearableId) ?? Promise.resolve());
    this.#chains.delete(wearableId);
    await unlink(this.#path(wearableId)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw new BeepkitError('E_IO', `deleting wearable encounters: ${e.message}`, { cause: e });
    });
  }
}
