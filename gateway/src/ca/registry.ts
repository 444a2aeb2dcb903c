/**
 * Venue registry: `<dataDir>/venues.json`, written atomically (temp + fsync +
 * rename) with mode 0600. Venue keys (32 bytes) are stored in clear in that
 * 0600 file (not encrypted at rest; protect the data dir like the CA key).
 * `list()` never returns keys. The running gateway picks up changes made by
 * the CLI (`reloadIfChanged`, by mtime).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { BeepkitError, fromHex, toHex } from '@beepkit/protocol';
import { VENUE_ID_BYTES, VENUE_KEY_BYTES } from '@beepkit/protocol/frames';
import { readSecretMode } from './perm.ts';
import { writeFileAtomicSync } from '@beepkit/device-core/infra/files';
import { hostNow } from '@beepkit/protocol/clock';

export interface Venue {
  /** 6-byte venue id, 12 lowercase hex digits. */
  id: string;
  name: string;
  /** Region hierarchy: state / county / city / venue. */
  region: string[];
  latE6: number;
  lonE6: number;
  radiusM: number;
  revoked: boolean;
  addedMs: number;
  revokedMs?: number;
}

interface Stored extends Venue {
  key: string;
}

export interface VenueInput {
  id?: string;
  name: string;
  region: string[];
  lat: number;
  lon: number;
  radiusM: number;
  /** 32-byte key; random when absent. */
  key?: Uint8Array;
}

const ID_RE = /^[0-9a-f]{12}$/;

export function checkVenueId(id: string): string {
  const s = id.toLowerCase();
  if (!ID_RE.test(s)) throw new BeepkitError('E_FORMAT', `venue id must be ${VENUE_ID_BYTES * 2} hex digits: ${JSON.stringify(id)}`);
  return s;
}

function validate(v: VenueInput): void {
  if (!(Number.isFinite(v.lat) && Math.abs(v.lat) <= 90 && Number.isFinite(v.lon) && Math.abs(v.lon) <= 180))
    throw new BeepkitError('E_RANGE', 'venue position out of range');
  if (!(Number.isInteger(v.radiusM) && v.radiusM > 0 && v.radiusM <= 100_000)) throw new BeepkitError('E_RANGE', 'venue radius must be 1..100000 m');
  if (!Array.isArray(v.region) || v.region.length < 1 || v.region.length > 4 || v.region.some((p) => !p || p.includes('/') || p.length > 60)) {
    throw new BeepkitError('E_FORMAT', 'region must be 1..4 non-empty parts (state/county/city/venue) without "/"');
  }
  if (v.key && v.key.length !== VENUE_KEY_BYTES) throw new BeepkitError('E_KEY', 'venue key must be 32 bytes');
}

export class VenueRegistry {
  readonly path: string;
  #venues = new Map<string, Stored>();
  #mtimeMs = -1;

  /** `now`: the gateway's clock (host or scenario) for the added and revoked times. */
  constructor(
    path: string,
    private readonly now: () => number = hostNow,
  ) {
    this.path = path;
  }

  /** (Re)reads the file; an absent file is an empty registry. */
  load(): this {
    if (!existsSync(this.path)) {
      this.#venues = new Map();
      this.#mtimeMs = -1;
      return this;
    }
    readSecretMode(this.path);
    this.#mtimeMs = statSync(this.path).mtimeMs;
    let doc: { format?: number; venues?: Stored[] };
    try {
      doc = JSON.parse(readFileSync(this.path, 'utf8')) as typeof doc;
    } catch (cause) {
      throw new BeepkitError('E_FORMAT', `${this.path}: not JSON`, { cause });
    }
    if (doc.format !== 1 || !Array.isArray(doc.venues)) throw new BeepkitError('E_FORMAT', `${this.path}: unknown format`);
    this.#venues = new Map(doc.venues.map((v) => [checkVenueId(v.id), v]));
    return this;
  }

  /** Reloads when the file changed on disk; true when it did. */
  reloadIfChanged(): boolean {
    const m = existsSync(this.path) ? statSync(this.path).mtimeMs : -1;
    if (m === this.#mtimeMs) return false;
    this.load();
    return true;
  }

  #save(): void {
    writeFileAtomicSync(this.path, JSON.stringify({ format: 1, venues: [...this.#venues.values()] }, null, 1) + '\n', 0o600);
    this.#mtimeMs = statSync(this.path).mtimeMs;
  }

  /** Adds a venue (reading the file first); returns it and its key. */
  add(v: VenueInput, nowMs = this.now()): { venue: Venue; key: Uint8Array } {
    validate(v);
    this.load();
    const id = v.id ? checkVenueId(v.id) : toHex(new Uint8Array(randomBytes(VENUE_ID_BYTES)));
    if (this.#venues.has(id)) throw new BeepkitError('E_EXISTS', `venue ${id} already registered`);
    const key = v.key ?? new Uint8Array(randomBytes(VENUE_KEY_BYTES));
    // One key, one venue: a frame names its venue id, but a key shared by two ids would let either beacon speak for both.
    const hex = toHex(key);
    if ([...this.#venues.values()].some((o) => o.key === hex))
      throw new BeepkitError('E_EXISTS', 'this venue key is already registered under another venue id');
    const stored: Stored = {
      id,
      name: v.name,
      region: [...v.region],
      latE6: Math.round(v.lat * 1e6),
      lonE6: Math.round(v.lon * 1e6),
      radiusM: v.radiusM,
      revoked: false,
      addedMs: nowMs,
      key: hex,
    };
    this.#venues.set(id, stored);
    this.#save();
    return { venue: strip(stored), key };
  }

  revoke(id: string, nowMs = this.now()): Venue {
    this.load();
    const v = this.#venues.get(checkVenueId(id));
    if (!v) throw new BeepkitError('E_NOT_FOUND', `no venue ${id}`);
    if (!v.revoked) {
      v.revoked = true;
      v.revokedMs = nowMs;
      this.#save();
    }
    return strip(v);
  }

  /** Every venue, without keys. */
  list(): Venue[] {
    return [...this.#venues.values()].map(strip);
  }

  /** The venue and its key by 6-byte id (revoked ones included; check `revoked`). */
  lookup(venueId: Uint8Array): { venue: Venue; key: Uint8Array } | undefined {
    const v = this.#venues.get(toHex(venueId));
    return v ? { venue: strip(v), key: fromHex(v.key) } : undefined;
  }
}

function strip(v: Stored): Venue {
  const { key: _key, ...rest } = v;
  return { ...rest, region: [...v.region] };
}
