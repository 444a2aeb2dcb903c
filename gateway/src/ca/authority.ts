/**
 * CA authorisation (BeepTrace step 3): a certificate only when two independent
 * sources agree. A CaRequest must carry
 *   - a valid pseudonym signature over caRequestSigningBytes (E_SIGNATURE),
 *   - the current UTC day (E_WINDOW),
 *   - a GNSS fix (mode 2d/3d, accuracy ≤ maxAccuracyM: else E_TRUST_GNSS) taken
 *     within fixMaxAgeMs of now (E_STALE),
 *   - at least one venue frame that decodes, names a registered, unrevoked venue
 *     and verifies under its key (E_TRUST_FRAME), is in the current slot window
 *     (old slot E_REPLAY, future slot E_EXPIRED), was received within
 *     frameMaxAgeMs (E_STALE), and whose venue lies within
 *     radius + k × fix accuracy + margin of the fix (E_TRUST_DISTANCE).
 * When every observation fails, the failure that got furthest is reported.
 * Rate limits: per pseudonym-day and per venue (E_RATE). The CA keeps no
 * evidence (only rate-limit counters) and never logs positions.
 */
import { randomInt } from 'node:crypto';
import { BeepkitError, toHex } from '@beepkit/protocol';
import { issueCertificate, type Certificate } from '@beepkit/protocol/cert';
import { ed25519Verify, type Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeVenueFrame, slotOf, verifyVenueFrame, DEFAULT_SLOT_SECONDS } from '@beepkit/protocol/frames';
import { caRequestSigningBytes, type CaRequest, type CaResult } from '@beepkit/protocol/wire';
import { RateLimiter, type RateOptions } from '../ingest/rate.ts';
import { silentLogger } from '../broker/log.ts';
import type { Logger } from '../ledger/types.ts';
import type { Venue } from './registry.ts';
import { hostNow } from '@beepkit/protocol/clock';

const DAY_S = 86_400;

export interface VenueLookup {
  lookup(venueId: Uint8Array): { venue: Venue; key: Uint8Array } | undefined;
}

export interface CaPolicy {
  slotSeconds: number;
  slotWindow: number;
  frameMaxAgeMs: number;
  fixMaxAgeMs: number;
  maxSkewMs: number;
  maxAccuracyM: number;
  /** Distance allowance: venue radius + accuracyFactor × fix accuracy + marginM. */
  accuracyFactor: number;
  marginM: number;
  /** Certificates stay valid this long after their day ends (late uploads). */
  certGraceSec: number;
  perPseudonym: RateOptions;
  perVenue: RateOptions;
}

export const DEFAULT_CA_POLICY: CaPolicy = {
  slotSeconds: DEFAULT_SLOT_SECONDS,
  slotWindow: 1,
  frameMaxAgeMs: 120_000,
  fixMaxAgeMs: 120_000,
  maxSkewMs: 30_000,
  maxAccuracyM: 100,
  accuracyFactor: 2,
  marginM: 25,
  certGraceSec: 6 * 3600,
  perPseudonym: { burst: 5, perSecond: 1 / 600 },
  perVenue: { burst: 600, perSecond: 10 },
};

export interface CaOptions {
  ca: Ed25519Signer;
  solverPublicKey: Uint8Array;
  solverKeyId: Uint8Array;
  venues: VenueLookup;
  policy?: Partial<CaPolicy>;
  now: () => number;
  logger?: Logger;
  /** Told of every device certificate issued (the gateway hands it to ingest, which then needs no CA-signature check for it). */
  onIssued?: (cert: Certificate) => void;
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

const STAGE: Record<string, number> = { E_TRUST_FRAME: 1, E_REPLAY: 2, E_EXPIRED: 2, E_STALE: 3, E_TRUST_DISTANCE: 4 };

export class CertificateAuthority {
  readonly #o: CaOptions;
  readonly #p: CaPolicy;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #byPseudonym: RateLimiter;
  readonly #byVenue: RateLimiter;

  constructor(opts: CaOptions) {
    this.#o = opts;
    this.#p = { ...DEFAULT_CA_POLICY, ...opts.policy };
    this.#now = opts.now ?? hostNow;
    this.#log = opts.logger ?? silentLogger;
    this.#byPseudonym = new RateLimiter(this.#p.perPseudonym);
    this.#byVenue = new RateLimiter(this.#p.perVenue);
  }

  /** Decides a request: a certificate, or a coded refusal. Never throws. */
  authorise(req: CaRequest): CaResult {
    try {
      return this.#authorise(req);
    } catch (e) {
      const code = e instanceof BeepkitError ? e.code : 'E_INTERNAL';
      if (code === 'E_INTERNAL') this.#log.error({ err: String(e) }, 'ca: unexpected error');
      return { ok: false, code, message: (e as Error).message ?? 'refused' };
    }
  }

  #authorise(req: CaRequest): CaResult {
    const p = this.#p;
    const nowMs = this.#now();
    if (!ed25519Verify(req.pseudonymPublicKey, caRequestSigningBytes(req), req.signature))
      throw new BeepkitError('E_SIGNATURE', 'request not signed by the pseudonym key');
    const days = new Set([Math.floor((nowMs - p.maxSkewMs) / 1000 / DAY_S), Math.floor((nowMs + p.maxSkewMs) / 1000 / DAY_S)]);
    if (!days.has(req.day)) throw new BeepkitError('E_WINDOW', `day ${req.day} is not today`);
    if (!this.#byPseudonym.take(`${toHex(req.pseudonymPublicKey)}:${req.day}`, nowMs))
      throw new BeepkitError('E_RATE', 'too many certificate requests for this pseudonym');
    const g = req.gnss;
    if (!g || g.mode === 'none') throw new BeepkitError('E_TRUST_GNSS', 'a GNSS fix is required');
    const accM = g.accuracyCm / 100;
    if (accM > p.maxAccuracyM) throw new BeepkitError('E_TRUST_GNSS', `fix accuracy worse than ${p.maxAccuracyM} m`);
    if (Math.abs(nowMs - g.timeMs) > p.fixMaxAgeMs) throw new BeepkitError('E_STALE', 'GNSS fix is not fresh');
    if (req.venues.length === 0) throw new BeepkitError('E_TRUST_FRAME', 'no venue frame');
    const nowSlot = slotOf(Math.floor(nowMs / 1000), p.slotSeconds);
    let worst = new BeepkitError('E_TRUST_FRAME', 'no venue frame verifies');
    for (const obs of req.venues) {
      try {
        const frame = decodeVenueFrame(obs.frame);
        const reg = this.#o.venues.lookup(frame.venueId);
        if (!reg || reg.venue.revoked) throw new BeepkitError('E_TRUST_FRAME', 'venue not registered or revoked');
        try {
          verifyVenueFrame(frame, reg.key, { nowSlot, window: p.slotWindow });
        } catch (e) {
          const c = (e as BeepkitError).code;
          if (c === 'E_REPLAY' || c === 'E_EXPIRED')
            throw new BeepkitError(c, c === 'E_REPLAY' ? 'venue frame from an old slot' : 'venue frame from a future slot');
          throw new BeepkitError('E_TRUST_FRAME', 'venue frame does not verify');
        }
        if (nowMs - obs.receivedAtMs > p.frameMaxAgeMs || obs.receivedAtMs - nowMs > p.maxSkewMs)
          throw new BeepkitError('E_STALE', 'venue frame not received recently');
        const v = reg.venue;
        const d = distanceM(v.latE6 / 1e6, v.lonE6 / 1e6, g.latE6 / 1e6, g.lonE6 / 1e6);
        if (d > v.radiusM + p.accuracyFactor * accM + p.marginM) throw new BeepkitError('E_TRUST_DISTANCE', 'GNSS fix inconsistent with the venue position');
        if (!this.#byVenue.take(v.id, nowMs)) throw new BeepkitError('E_RATE', 'too many certificate requests at this venue');
        return this.#issue(req, v, nowMs);
      } catch (e) {
        const err = e instanceof BeepkitError ? e : new BeepkitError('E_TRUST_FRAME', 'venue observation unusable');
        if (err.code === 'E_RATE') throw err;
        const code = STAGE[err.code] ? err.code : 'E_TRUST_FRAME';
        if ((STAGE[code] ?? 1) >= (STAGE[worst.code] ?? 1)) worst = code === err.code ? err : new BeepkitError(code, err.message);
      }
    }
    throw worst;
  }

  #issue(req: CaRequest, v: Venue, nowMs: number): CaResult {
    const nowS = Math.floor(nowMs / 1000);
    const dayStart = req.day * DAY_S;
    const cert = issueCertificate(this.#o.ca, {
      role: 'device',
      serial: randomInt(2 ** 47),
      day: req.day,
      notBefore: Math.max(dayStart, nowS - Math.ceil(this.#p.maxSkewMs / 1000)),
      notAfter: dayStart + DAY_S - 1 + this.#p.certGraceSec,
      subject: req.pseudonymPublicKey,
      solverKeyId: this.#o.solverKeyId,
      region: v.region.join('/'),
    });
    this.#log.info({ role: 'device', day: req.day }, 'ca: certificate issued');
    this.#o.onIssued?.(cert);
    return { ok: true, certificate: cert.bytes, solverPublicKey: this.#o.solverPublicKey, solverKeyId: this.#o.solverKeyId };
  }
}
