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
import { writeFileAtomic, type KeystoreFile } from '../keys/index.ts';
import type { Outbox } from '../outbox/index.ts';
import { decideUpload, readDeviceState, uploadPolicy, type UploadPolicy } from '../policy/index.ts';
import { Publisher } from '../publisher/index.ts';
import type { TrustVerdict } from '../trust/index.ts';
import type { AgentNetwork } from './ports.ts';

export interface PublishingOptions {
  config: AgentConfig;
  keystore: KeystoreFile;
  outbox: Outbox;
  network?: AgentNetwork;
  now: () => number;
  logger: Logger;
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

  constructor(private readonly o: PublishingOptions) {
    this.#policy = uploadPolicy(o.config.upload.policy, o.config.upload.maxDelayMs);
    this.allowed = this.#policy.mode === 'immediate';
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
    const day = Math.floor(now / 86_400_000);
    let fix: Fix | undefined;
    if (verdict?.ok) {
      const f = verdict.evidence.fused;
      const t = Math.floor(f.at / 1000);
      fix = { start: t, end: t, lat: f.lat, lon: f.lon, accuracy: f.accuracyM, sources: f.sources.reduce((m, s) => m | (SOURCE_BITS[s] ?? 0), 0), ...venueOf(venueId) };
    }
    const held = this.o.network?.certificate(day);
    let cert;
    if (held) {
      const c = decodeCertificate(held.certificate);
      cert = { day: c.day, notBefore: c.notBefore, notAfter: c.notAfter };
    }
    await this.publisher.tick({ now, fix, trusted, cert });
  }

  /** Seals the open stay (its TraceCode goes to the outbox and is uploaded on the next run). */
  async flush(): Promise<void> {
    await this.publisher.flush();
  }

  async uploadTick(): Promise<void> {
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
