/**
 * The encounter log as it was before the compact store (one JS object per encounter and window), kept as the
 * reference model the compact store is checked against (encounters-store.test.ts) and measured against
 * (bench/profile/encounter-memory.ts). Not used by the apps.
 */
import { BeepkitError } from '@beepkit/protocol';
import { CWA_BUCKET_EDGES, DAY_MS, bucketOf, type Encounter, type EncounterLogOptions, type ExposureWindow, type Rotation } from '../src/encounters/log.ts';

export class ReferenceEncounterLog {
  readonly retentionMs: number;
  readonly windowMs: number;
  readonly maxCreditMs: number;
  readonly edges: readonly number[];
  private readonly byRpi = new Map<string, Encounter>();
  private readonly lastRpiOfAddress = new Map<string, string>();
  readonly rotations: Rotation[] = [];

  constructor(opts: EncounterLogOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 14 * DAY_MS;
    this.windowMs = opts.windowMs ?? 30 * 60_000;
    this.maxCreditMs = opts.maxCreditMs ?? 5 * 60_000;
    this.edges = opts.bucketEdges ?? CWA_BUCKET_EDGES;
    if (!(this.windowMs > 0 && this.windowMs <= 30 * 60_000)) throw new BeepkitError('E_CONFIG', 'encounters: windowMs must be in (0, 30 min]');
    if (this.edges.some((e, i) => i > 0 && e <= this.edges[i - 1])) throw new BeepkitError('E_CONFIG', 'encounters: bucket edges must ascend');
  }

  get size(): number {
    return this.byRpi.size;
  }

  get(rpi: string): Encounter | undefined {
    return this.byRpi.get(rpi);
  }

  /** Records one (filtered) observation of an RPI. Allocates only for new RPIs and new windows. */
  record(rpi: string, aem: string, address: string, att: number, at: number, close = false): Encounter {
    let e = this.byRpi.get(rpi);
    if (!e) {
      e = { rpi, aem, firstSeen: at, lastSeen: at, samples: 0, minAttenuation: Infinity, sumAttenuation: 0, windows: [] };
      this.byRpi.set(rpi, e);
    }
    const prevRpi = this.lastRpiOfAddress.get(address);
    if (prevRpi !== rpi) {
      if (prevRpi !== undefined) this.rotations.push({ address, fromRpi: prevRpi, toRpi: rpi, at });
      this.lastRpiOfAddress.set(address, rpi);
    }
    let w = e.windows.length ? e.windows[e.windows.length - 1] : undefined;
    // time since the previous sample counts only while the peer stays in view
    const gap = w ? at - w.end : Infinity;
    const credit = gap >= 0 && gap <= this.maxCreditMs ? gap : 0;
    if (!w || at - w.start >= this.windowMs || gap > this.maxCreditMs) {
      w = {
        start: credit ? at - credit : at,
        end: at,
        samples: 0,
        minAttenuation: Infinity,
        sumAttenuation: 0,
        msByBucket: new Array<number>(this.edges.length + 1).fill(0),
        msClose: 0,
      };
      e.windows.push(w);
    }
    w.msByBucket[bucketOf(att, this.edges)] += credit;
    if (close) w.msClose = (w.msClose ?? 0) + credit;
    w.end = at;
    w.samples++;
    w.sumAttenuation += att;
    if (att < w.minAttenuation) w.minAttenuation = att;
    if (at > e.lastSeen) e.lastSeen = at;
    e.aem = aem;
    e.samples++;
    e.sumAttenuation += att;
    if (att < e.minAttenuation) e.minAttenuation = att;
    return e;
  }

  /** All encounters, optionally only those seen since `since`. */
  encounters(since = -Infinity): Encounter[] {
    const out: Encounter[] = [];
    for (const e of this.byRpi.values()) if (e.lastSeen >= since) out.push(e);
    return out;
  }

  /** Every exposure window with its RPI, oldest first. */
  exposureWindows(): (ExposureWindow & { rpi: string })[] {
    const out: (ExposureWindow & { rpi: string })[] = [];
    for (const e of this.byRpi.values()) for (const w of e.windows) out.push({ ...w, rpi: e.rpi });
    return out.sort((a, b) => a.start - b.start);
  }

  /** Drops everything last seen before now − retention. Returns how many encounters were purged. */
  purge(now: number): number {
    const cutoff = now - this.retentionMs;
    let n = 0;
    for (const [k, e] of this.byRpi) {
      if (e.lastSeen < cutoff) {
        this.byRpi.delete(k);
        n++;
      }
    }
    for (const [a, r] of this.lastRpiOfAddress) if (!this.byRpi.has(r)) this.lastRpiOfAddress.delete(a);
    let keep = 0;
    for (const r of this.rotations) if (r.at >= cutoff) this.rotations[keep++] = r;
    this.rotations.length = keep;
    return n;
  }

  /** @internal used by the codec */
  restore(encounters: Encounter[], rotations: Rotation[]): void {
    this.byRpi.clear();
    for (const e of encounters) this.byRpi.set(e.rpi, e);
    this.rotations.length = 0;
    this.rotations.push(...rotations);
  }
}
