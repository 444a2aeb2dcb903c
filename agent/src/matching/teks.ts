/**
 * Endorsed TEKs against the Bluetooth encounter log: every key's RPIs are
 * derived in one batched call (`deriveRpisForKeys` from protocol, identical output to
 * protocol `deriveRpisForKeys`; one AES-ECB per key) into a reused buffer and scanned against the set of observed RPIs.
 * An RPI counts only if it was seen within its interval ± tolerance (EN).
 */
import { EKROLLING_PERIOD } from '@beepkit/protocol/rpi';
import { fromHex } from '@beepkit/protocol/bytes';
import { Set16 } from './set16.ts';
import { DAY_MS } from './fingerprints.ts';
import { deriveRpisForKeys } from '@beepkit/protocol/rpi';

/** Structural subset of device-core/src/encounters ExposureWindow. */
export interface WindowLike {
  start: number;
  end: number;
  minAttenuation: number;
  /** ms credited per attenuation bucket (CWA edges 63, 73, 79 dB). */
  msByBucket: number[];
}

/** Structural subset of device-core/src/encounters Encounter. */
export interface EncounterLike {
  rpi: string;
  firstSeen: number;
  lastSeen: number;
  windows: WindowLike[];
}

export interface EndorsedTek {
  tek: Uint8Array;
  /** ENIN of the key's first interval. */
  rollingStart: number;
}

export interface BluetoothExposure {
  kind: 'bluetooth';
  day: number;
  windows: WindowLike[];
}

export interface TekMatchOptions {
  /** EN tolerance around an RPI's interval (default 2 h). */
  toleranceMs?: number;
  /** Keys derived per call (default 4096). */
  chunk?: number;
  derive?: (teks: Uint8Array[], rollingStart: number[], out?: Uint8Array) => Uint8Array;
}

const INTERVAL_MS = 600_000;

export function matchTeks(teks: EndorsedTek[], encounters: EncounterLike[], opts: TekMatchOptions = {}): BluetoothExposure[] {
  if (!teks.length || !encounters.length) return [];
  const tol = opts.toleranceMs ?? 2 * 3_600_000;
  const chunk = opts.chunk ?? 4096;
  const derive = opts.derive ?? deriveRpisForKeys;
  const set = new Set16(encounters.map((e) => fromHex(e.rpi, 'encounter rpi')));
  const byDay = new Map<number, WindowLike[]>();
  const used = new Set<number>();
  let buf = new Uint8Array(Math.min(chunk, teks.length) * EKROLLING_PERIOD * 16);
  for (let from = 0; from < teks.length; from += chunk) {
    const part = teks.slice(from, from + chunk);
    if (buf.length < part.length * EKROLLING_PERIOD * 16) buf = new Uint8Array(part.length * EKROLLING_PERIOD * 16);
    const rpis = derive(
      part.map((k) => k.tek),
      part.map((k) => k.rollingStart),
      buf,
    ).subarray(0, part.length * EKROLLING_PERIOD * 16);
    set.scan(rpis, (i, k) => {
      const enin = part[Math.floor(i / EKROLLING_PERIOD)].rollingStart + (i % EKROLLING_PERIOD);
      const e = encounters[k];
      if (used.has(k) || e.lastSeen < enin * INTERVAL_MS - tol || e.firstSeen > (enin + 1) * INTERVAL_MS + tol) return;
      used.add(k);
      for (const w of e.windows) {
        const day = Math.floor(w.start / DAY_MS);
        const list = byDay.get(day) ?? [];
        list.push(w);
        byDay.set(day, list);
      }
    });
  }
  return [...byDay].sort((a, b) => a[0] - b[0]).map(([day, windows]) => ({ kind: 'bluetooth', day, windows }));
}
