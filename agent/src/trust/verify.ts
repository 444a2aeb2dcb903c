/**
 * Cross-verification: two or more INDEPENDENT sources (different kinds) must
 * agree within k·sqrt(a1² + a2²) and be fresh within T, or no CA request is
 * made; refusals carry a stable reason code. On success an evidence bundle is
 * assembled for the CA request (signed later by the day's pseudonym key).
 */
import type { CaRequest, CaRequestBody, GnssSummary, VenueObservation as WireVenueObservation } from '@beepkit/protocol/wire';
import { caRequestSigningBytes } from '@beepkit/protocol/wire';
import type { VenueObservation, VenueRegistry } from '@beepkit/device-core/scan';
import { distanceM, fuse, gnssToFix, venueToFix, type FusedLocation, type GnssFixLike, type LocationFix } from './fusion.ts';

export type TrustReason =
  | 'E_TRUST_NO_FIX' // no source at all
  | 'E_TRUST_SINGLE_SOURCE' // only one kind of source is fresh
  | 'E_TRUST_STALE' // a second kind exists but is older than T
  | 'E_TRUST_DISAGREE' // two independent sources are further apart than allowed
  | 'E_TRUST_GNSS_POOR'; // the only other candidate was a GNSS fix of poor quality

export interface TrustConfig {
  /** Agreement factor k (default 2, i.e. ~2σ). */
  k?: number;
  /** Freshness T (default 30 s). */
  maxAgeMs?: number;
  /** Allowed clock skew into the future (default 2 s). */
  futureSkewMs?: number;
  /**
   * Presence threshold (dBm, filtered RSSI): a venue counts as a location source only when it is
   * heard at least this strongly. A beacon is audible far beyond its venue's radius (a −4 dBm
   * beacon reaches −86 dBm at ~130 m), so a weak frame says only that the venue is within radio
   * range, not that the device is in it. Default: every genuine frame counts.
   */
  venueMinRssi?: number;
  /** GNSS quality gates. */
  maxHdop?: number;
  minSatellites?: number;
  /** Metres per HDOP unit when the fix carries no accuracy (default 5). */
  uereM?: number;
}

export interface TrustInput {
  now: number;
  gnss?: GnssFixLike | null;
  venues?: readonly VenueObservation[];
  others?: readonly LocationFix[];
}

export interface EvidenceBundle {
  time: number;
  gnss: GnssSummary | null;
  venues: WireVenueObservation[];
  others: LocationFix[];
  fused: FusedLocation;
  /** Source kinds that agreed. */
  sources: string[];
}

export type TrustVerdict = { ok: true; evidence: EvidenceBundle } | { ok: false; reason: TrustReason; detail: string };

function gnssQualityOk(f: GnssFixLike, c: TrustConfig): boolean {
  if (!f.usable) return false;
  if (c.maxHdop !== undefined && f.hdop !== undefined && f.hdop > c.maxHdop) return false;
  if (c.minSatellites !== undefined && (f.satellitesUsed ?? 0) < c.minSatellites) return false;
  return true;
}

function gnssSummary(f: GnssFixLike, fix: LocationFix): GnssSummary {
  return {
    timeMs: f.timeMs ?? f.receivedAt,
    latE6: Math.round(fix.lat * 1e6),
    lonE6: Math.round(fix.lon * 1e6),
    accuracyCm: Math.min(0xffffffff, Math.round(fix.accuracyM * 100)),
    mode: f.mode === 3 ? '3d' : f.mode === 2 ? '2d' : 'none',
    satellites: Math.min(255, f.satellitesUsed ?? 0),
    hdopX100: Math.min(0xffff, Math.round((f.hdop ?? 0) * 100)),
  };
}

/** Cross-verifies the sources. Pure. */
export function crossVerify(input: TrustInput, registry: VenueRegistry, cfg: TrustConfig = {}): TrustVerdict {
  const k = cfg.k ?? 2;
  const maxAge = cfg.maxAgeMs ?? 30_000;
  const skew = cfg.futureSkewMs ?? 2_000;
  const fresh = (at: number) => input.now - at <= maxAge && at - input.now <= skew;
  const candidates: LocationFix[] = [];
  let poorGnss = false;
  let gnssFix: LocationFix | null = null;
  if (input.gnss) {
    gnssFix = gnssQualityOk(input.gnss, cfg) ? gnssToFix(input.gnss, cfg.uereM) : null;
    if (gnssFix) candidates.push(gnssFix);
    else poorGnss = true;
  }
  // one fix per venue: its freshest genuine frame
  const latestVenue = new Map<string, VenueObservation>();
  for (const o of input.venues ?? []) {
    if (cfg.venueMinRssi !== undefined && o.filteredRssi < cfg.venueMinRssi) continue;
    const prev = latestVenue.get(o.venueId);
    if (!prev || o.receivedAt > prev.receivedAt) latestVenue.set(o.venueId, o);
  }
  for (const o of latestVenue.values()) {
    const f = venueToFix(o, registry);
    if (f) candidates.push(f);
  }
  for (const f of input.others ?? []) if (f.accuracyM > 0) candidates.push(f);

  if (!candidates.length) return { ok: false, reason: poorGnss ? 'E_TRUST_GNSS_POOR' : 'E_TRUST_NO_FIX', detail: 'no location source' };
  const live = candidates.filter((f) => fresh(f.at));
  const kinds = new Set(live.map((f) => f.source));
  if (kinds.size < 2) {
    const allKinds = new Set(candidates.map((f) => f.source));
    if (allKinds.size >= 2) return { ok: false, reason: 'E_TRUST_STALE', detail: `fresh: [${[...kinds].join(',')}], stale sources present (T=${maxAge} ms)` };
    if (poorGnss) return { ok: false, reason: 'E_TRUST_GNSS_POOR', detail: `only ${[...allKinds].join(',')} and a poor GNSS fix` };
    return { ok: false, reason: 'E_TRUST_SINGLE_SOURCE', detail: `only ${[...allKinds].join(',')}` };
  }
  for (let i = 0; i < live.length; i++) {
    for (let j = i + 1; j < live.length; j++) {
      const a = live[i];
      const b = live[j];
      if (a.source === b.source) continue;
      const d = distanceM(a, b);
      const limit = k * Math.hypot(a.accuracyM, b.accuracyM);
      if (d > limit) {
        return {
          ok: false,
          reason: 'E_TRUST_DISAGREE',
          detail: `${a.source}${a.ref ? `(${a.ref})` : ''} and ${b.source}${b.ref ? `(${b.ref})` : ''} are ${d.toFixed(0)} m apart, limit ${limit.toFixed(0)} m`,
        };
      }
    }
  }
  const fused = fuse(live) as FusedLocation;
  const venues: WireVenueObservation[] = [];
  for (const o of latestVenue.values()) {
    if (fresh(o.receivedAt) && registry.get(o.venueId))
      venues.push({ frame: o.frame, rssi: Math.max(-128, Math.min(127, Math.round(o.rssi))), receivedAtMs: o.receivedAt });
  }
  const liveGnss = gnssFix && fresh(gnssFix.at) && input.gnss ? gnssSummary(input.gnss, gnssFix) : null;
  return {
    ok: true,
    evidence: {
      time: input.now,
      gnss: liveGnss,
      venues,
      others: live.filter((f) => f.source !== 'gnss' && f.source !== 'venue'),
      fused,
      sources: [...kinds].sort(),
    },
  };
}

export interface CaRequestSigner {
  /** The day's pseudonym public key (32 bytes). */
  publicKey: Uint8Array;
  /** Signs with the day's pseudonym private key (64-byte Ed25519 signature). */
  sign(msg: Uint8Array): Uint8Array;
}

/** A CA request from an evidence bundle, signed by the day's pseudonym key. */
export function buildCaRequest(evidence: EvidenceBundle, signer: CaRequestSigner, correlationId: Uint8Array, extra: Uint8Array = new Uint8Array(0)): CaRequest {
  const body: CaRequestBody = {
    gnss: evidence.gnss,
    venues: evidence.venues,
    day: Math.floor(evidence.time / 86_400_000),
    pseudonymPublicKey: signer.publicKey,
    extra,
  };
  return { type: 'ca-request', correlationId, ...body, signature: signer.sign(caRequestSigningBytes(body)) };
}
