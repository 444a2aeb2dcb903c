/**
 * The carer's pairings, sealed at rest (XChaCha20-Poly1305 under a 32-byte key,
 * file mode 0600, atomic writes): per wearable its id, the person's label, the
 * pairing key, the day keys received (retention window only) and the ids of
 * records already received (bounded), so a resumed sync never delivers twice.
 * The EN encounters each wearable delivered are held beside it
 * (`encounters`: a WearableEncounterStore in `<wearablesDir>/<id>/encounters.bin`),
 * read at load, deleted on unpair.
 */
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { readSealedFile, writeSealedFile } from '@beepkit/device-core/keys';
import type { DayKeyMaterial } from '@beepkit/protocol/carer';
import { WearableEncounterStore } from './encounters.ts';

const MAGIC = new TextEncoder().encode('BKCR1');
const MAX_SEEN = 20_000;

export interface WearableEntry {
  wearableId: string;
  label: string;
  pairingId: string;
  pairingKey: string;
  pairedMs: number;
  days: { day: number; signingSeed: string; tek: string; ephemeralPub: string }[];
  seen: string[];
  lastSyncMs?: number;
  /** The wearable's BLE address last seen (where syncs connect). */
  address?: string;
  /** Records received in all (a count; `seen` is bounded). */
  received?: number;
}

export interface CarerStoreOptions {
  path: string;
  /** 32-byte sealing key (e.g. the agent's storage key). */
  key: Uint8Array;
  retentionDays?: number;
  /** Parent of the per-wearable directories (default `wearables` beside the store: the agent's `<dataDir>/wearables`). */
  wearablesDir?: string;
}

export class CarerStore {
  private entries = new Map<string, WearableEntry>();
  private chain: Promise<void> = Promise.resolve();
  /** The EN encounters each paired wearable delivered. */
  readonly encounters: WearableEncounterStore;
  /** Wearables whose encounter file could not be read at load (id → error code); they start empty. */
  readonly unreadable = new Map<string, string>();
  constructor(private readonly o: CarerStoreOptions) {
    if (o.key.length !== 32) throw new BeepkitError('E_KEY', 'carer store key must be 32 bytes');
    this.encounters = new WearableEncounterStore({ dir: o.wearablesDir ?? join(dirname(o.path), 'wearables'), key: o.key, retentionDays: o.retentionDays });
  }

  async load(): Promise<this> {
    const plain = await readSealedFile(this.o.path, this.o.key, MAGIC, 'carer store');
    if (!plain) return this;
    const doc = JSON.parse(new TextDecoder().decode(plain)) as { wearables: WearableEntry[] };
    this.entries = new Map(doc.wearables.map((w) => [w.wearableId, w]));
    for (const id of this.entries.keys()) {
      await this.encounters.load(id).catch((e: unknown) => {
        this.unreadable.set(id, (e as { code?: string })?.code ?? 'E_IO');
        this.encounters.reset(id);
      });
    }
    return this;
  }

  private save(): Promise<void> {
    const run = this.chain.then(async () => {
      await writeSealedFile(this.o.path, this.o.key, MAGIC, new TextEncoder().encode(JSON.stringify({ wearables: [...this.entries.values()] })));
    });
    this.chain = run.catch(() => {});
    return run;
  }

  list(): WearableEntry[] {
    return [...this.entries.values()];
  }

  get(wearableId: string): WearableEntry | undefined {
    return this.entries.get(wearableId);
  }

  /** The entry of a wearable id or label (unique). */
  find(idOrLabel: string): WearableEntry {
    const e = this.entries.get(idOrLabel) ?? this.list().find((w) => w.label === idOrLabel);
    if (!e) throw new BeepkitError('E_NOT_FOUND', `no paired wearable ${JSON.stringify(idOrLabel)}`);
    return e;
  }

  async pair(p: {
    wearableId: Uint8Array;
    label: string;
    pairingId: Uint8Array;
    pairingKey: Uint8Array;
    nowMs: number;
    address?: string;
  }): Promise<WearableEntry> {
    const e: WearableEntry = {
      wearableId: toHex(p.wearableId),
      label: p.label,
      pairingId: toHex(p.pairingId),
      pairingKey: toHex(p.pairingKey),
      pairedMs: p.nowMs,
      days: [],
      seen: [],
      ...(p.address ? { address: p.address } : {}),
    };
    this.entries.set(e.wearableId, e);
    await this.save();
    return e;
  }

  /** Renames the person cared for and/or records where the wearable was last seen (BLE address). */
  async update(wearableId: string, u: { label?: string; address?: string }): Promise<void> {
    const e = this.find(wearableId);
    if ((u.label === undefined || u.label === e.label) && (u.address === undefined || u.address === e.address)) return;
    if (u.label !== undefined) e.label = u.label;
    if (u.address !== undefined) e.address = u.address;
    await this.save();
  }

  async unpair(wearableId: string): Promise<boolean> {
    const had = this.entries.delete(wearableId);
    if (had) await this.save();
    await this.encounters.remove(wearableId);
    this.unreadable.delete(wearableId);
    if (this.entries.size === 0) await unlink(this.o.path).catch(() => {});
    return had;
  }

  /** Stores received day keys (keeps the retention window ending at the newest day). */
  async addDays(wearableId: string, days: DayKeyMaterial[]): Promise<void> {
    const e = this.find(wearableId);
    const byDay = new Map(e.days.map((d) => [d.day, d]));
    for (const d of days) byDay.set(d.day, { day: d.day, signingSeed: toHex(d.signingSeed), tek: toHex(d.tek), ephemeralPub: toHex(d.ephemeralPub) });
    const sorted = [...byDay.values()].sort((a, b) => a.day - b.day);
    const newest = sorted.at(-1)?.day ?? 0;
    e.days = sorted.filter((d) => d.day > newest - (this.o.retentionDays ?? 14));
    await this.save();
  }

  newestDay(wearableId: string): number {
    return this.find(wearableId).days.at(-1)?.day ?? 0;
  }

  dayKeys(wearableId: string): DayKeyMaterial[] {
    return this.find(wearableId).days.map((d) => ({
      day: d.day,
      signingSeed: fromHex(d.signingSeed),
      tek: fromHex(d.tek),
      ephemeralPub: fromHex(d.ephemeralPub),
    }));
  }

  hasSeen(wearableId: string, id: Uint8Array): boolean {
    return this.find(wearableId).seen.includes(toHex(id));
  }

  async markSeen(wearableId: string, ids: Uint8Array[], nowMs: number): Promise<void> {
    const e = this.find(wearableId);
    e.seen.push(...ids.map(toHex));
    e.received = (e.received ?? 0) + ids.length;
    if (e.seen.length > MAX_SEEN) e.seen.splice(0, e.seen.length - MAX_SEEN);
    e.lastSyncMs = nowMs;
    await this.save();
  }
}
