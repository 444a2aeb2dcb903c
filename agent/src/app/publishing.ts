/**
 * The agent's publishing side: on each tick the Publisher decides (trusted,
 * certificate valid today, moved, one decision per interval) and, when a stay
 * in one cell ends, seals its TraceCode (window: the whole stay) for the day's
 * pseudonym into the outbox; on each upload tick the upload policy
 * decides whether the network flushes the outbox now.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCertificate } from '@beepkit/protocol/cert';
import { Source, type Fix } from '@beepkit/protocol/geodata';
import { TraceCodeSealer } from '@beepkit/protocol/tracecode';
import { venueId8 } from '@beepkit/protocol/frames';
import { toHex } from '@beepkit/protocol/bytes';
import type { Logger } from '../alerts/logger.ts';
import type { AgentConfig } from '../config/index.ts';
import { type KeystoreFile } from '@beepkit/device-core/keys';
import { writeFileAtomic } from '@beepkit/device-core/infra/files';
import type { Outbox } from '@beepkit/device-core/outbox';
import { decideUpload, readDeviceState, uploadPolicy, type UploadPolicy } from '../policy/index.ts';
import { Publisher } from '@beepkit/device-core/publisher';
import type { TrustVerdict } from '../trust/index.ts';
import type { AgentNetwork } from './ports.ts';
import { TimeBacklog } from '../time/backlog.ts';

export interface PublishingOptions {
  config: AgentConfig;
  keystore: KeystoreFile;
  outbox: Outbox;
  network?: AgentNetwork;
  now: () => number;
  logger: Logger;
  /** The agent's time policy (agent/src/time): while not trusted, ticks wait in a backlog and nothing is uploaded. */
  time?: { trusted(): boolean; mono(): number };
}

/**
 * `<dataDir>/publisher.json`: the day and interval of the last TraceCode sealed (no location, no
 * pseudonym). An interval is unique per pseudonym-day (a batch with one twice is malformed and
 * quarantined), so a restart within the interval of the stay `flush()` sealed at stop must not
 * reopen a stay in it. Written (fsynced) before the TraceCode enters the outbox.
 */
const LAST_SEALED = 'publisher.json';

function readLastSealed(path: string): { day: number; interval: number } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { day?: unknown; interval?: unknown };
    return Number.isSafeInteger(v.day) && Number.isSafeInteger(v.interval) ? { day: v.day as number, interval: v.interval as number } : undefined;
  } catch {
    return undefined;
  }
}

const SOURCE_BITS: Record<string, number> = { gnss: Source.gnss, venue: Source.beacon, wifi: Source.wifi, cell: Source.cell };

/** The geodata venue id (8 bytes) of a 6-byte hex venue id; nothing for an id of another shape. */
function venueOf(id: string | undefined): { venue?: Uint8Array } {
  if (!id || !/^[0-9a-f]{12}$/i.test(id)) return {};
  return { venue: venueId8(id.toLowerCase()) };
}

export class Publishing {
  readonly publisher: Publisher;
  readonly uploadCounts: Record<string, number> = {};
  lastUpload?: string;
  /** The upload policy allowed uploading at the last tick (own records, or with none pending: anyone's). */
  allowed = false;
  readonly #policy: UploadPolicy;
  readonly #sealers = new Map<string, TraceCodeSealer>();
  #oldestPendingAt?: number;
  readonly #backlog?: TimeBacklog<{ fix?: Fix; trusted: boolean }>;
  /** Publisher and upload ticks held while time was not trusted. */
  readonly timeHeld = { publish: 0, upload: 0 };

  constructor(private readonly o: PublishingOptions) {
    this.#policy = uploadPolicy(o.config.upload.policy, o.config.upload.maxDelayMs);
    this.allowed = this.#policy.mode === 'immediate';
    if (o.time) this.#backlog = new TimeBacklog(o.time.mono);
    const lastPath = join(o.config.dataDir, LAST_SEALED);
    const last = readLastSealed(lastPath);
    let sealed: { day: number; interval: number } | undefined;
    this.publisher = new Publisher({
      config: { intervalMs: o.config.publisher.intervalMs, level: o.config.publisher.level, maxStayIntervals: o.config.publisher.maxStayIntervals },
      seal: (day, interval, geodata) => {
        const tc = this.#sealer(day).seal(interval, geodata);
        sealed = { day, interval };
        return tc;
      },
      sink: async (tc, day) => {
        if (sealed) await writeFileAtomic(lastPath, new TextEncoder().encode(JSON.stringify(sealed) + '\n'));
        await o.outbox.append([{ bytes: tc, group: day }]);
        this.#oldestPendingAt ??= o.now();
      },
      ...(last ? { state: { last: { ...last, cell: '' } } } : {}),
      logger: o.logger,
    });
  }

  get counts(): Record<string, number> {
    return this.publisher.counts;
  }

  #sealer(day: number): TraceCodeSealer {
    const cert = this.o.network?.certificate(day);
    if (!cert) throw new Error('no certificate'); // unreachable: decidePublish requires one
    const k = `${day}:${toHex(cert.solverKeyId)}`;
    let s = this.#sealers.get(k);
    if (!s) {
      const keys = this.o.keystore.dayKeys(day);
      s = new TraceCodeSealer({ prefix: keys.pseudonym, ephemeralPriv: keys.ephemeralPriv, solverPub: cert.solverPublicKey });
      this.#sealers.clear();
      this.#sealers.set(k, s);
    }
    return s;
  }

  /**
   * `venueId`: the venue (6-byte hex id) of the visit the device is in, if any: sealed beside the
   * position (geodata venue id), so the solver co-locates venue-level records (wearables without
   * GNSS) with this device at that venue.
   */
  async publishTick(verdict: TrustVerdict | undefined, trusted: boolean, venueId?: string): Promise<void> {
    const now = this.o.now();
    const fix = verdict?.ok ? this.#fixOf(verdict, venueId) : undefined;
    if (this.o.time && !this.o.time.trusted()) {
      // no trustworthy time: record the tick on the monotonic clock, seal it once time is good
      this.timeHeld.publish++;
      if (fix && trusted) this.#backlog!.push(now, { fix, trusted });
      return;
    }
    if (this.#backlog?.size) await this.#drainBacklog(now);
    await this.publisher.tick({ now, fix, trusted, cert: this.#certOf(Math.floor(now / 86_400_000)) });
  }

  /** Ticks waiting for good time; dropped: those of a day whose certificate can no longer be had. */
  get backlog(): { size: number; dropped: number } {
    return { size: this.#backlog?.size ?? 0, dropped: this.#backlog?.dropped ?? 0 };
  }

  async #drainBacklog(now: number): Promise<void> {
    const today = Math.floor(now / 86_400_000);
    const ready = (at: number): 'now' | 'wait' | 'drop' => {
      const day = Math.floor(at / 86_400_000);
      if (this.#certOf(day)) return 'now';
      return day === today ? 'wait' : 'drop'; // the CA certifies today only
    };
    for (const { trueAt, shift, item } of this.#backlog!.take(now, ready)) {
      const s = Math.round(shift / 1000);
      const fix = item.fix && { ...item.fix, start: item.fix.start + s, end: item.fix.end + s };
      await this.publisher.tick({ now: trueAt, fix, trusted: item.trusted, cert: this.#certOf(Math.floor(trueAt / 86_400_000)) });
    }
  }

  #fixOf(verdict: TrustVerdict, venueId?: string): Fix | undefined {
    if (!verdict.ok) return undefined;
    const f = verdict.evidence.fused;
    const t = Math.floor(f.at / 1000);
    return {
      start: t,
      end: t,
      lat: f.lat,
      lon: f.lon,
      accuracy: f.accuracyM,
      sources: f.sources.reduce((m, s) => m | (SOURCE_BITS[s] ?? 0), 0),
      ...venueOf(venueId),
    };
  }

  #certOf(day: number): { day: number; notBefore: number; notAfter: number } | undefined {
    const held = this.o.network?.certificate(day);
    if (!held) return undefined;
    const c = decodeCertificate(held.certificate);
    return { day: c.day, notBefore: c.notBefore, notAfter: c.notAfter };
  }

  /** Seals the open stay (its TraceCode goes to the outbox and is uploaded on the next run). */
  async flush(): Promise<void> {
    await this.publisher.flush();
  }

  async uploadTick(): Promise<void> {
    if (this.o.time && !this.o.time.trusted()) {
      this.timeHeld.upload++; // a batch signed at a wrong time would be refused: wait for good time
      return;
    }
    const st = this.o.outbox.stats();
    if (st.pending === 0) this.#oldestPendingAt = undefined;
    const device = await readDeviceState().catch(() => ({ charging: true, wifi: true, online: true }));
    const d = decideUpload(this.#policy, device, { now: this.o.now(), pending: st.pending, oldestPendingAt: this.#oldestPendingAt });
    this.lastUpload = d.reason;
    // `allowed` also gates the uploads the agent makes for others (a carer's wearables): with nothing of
    // its own pending, the policy and the device state decide (immediate, or charging on Wi-Fi)
    this.allowed = d.upload || (st.pending === 0 && decideUpload(this.#policy, device, { now: this.o.now(), pending: 1 }).upload);
    this.uploadCounts[d.reason] = (this.uploadCounts[d.reason] ?? 0) + 1;
    if (d.upload && this.o.network?.flush) await this.o.network.flush();
  }
}
