/**
 * Revocation notices, published as notification-chain entries:
 *   "BKRV" | u8 version=1 | u8 kind (1 venue) | vbytes id | u64 revokedMs
 * Deterministic bytes, so re-publishing is idempotent on the ledger.
 */
import { BeepkitError, Reader, Writer, fromHex } from '@beepkit/protocol';
import type { Venue } from './registry.ts';

const MAGIC = [0x42, 0x4b, 0x52, 0x56];

export interface Revocation {
  kind: 'venue';
  id: Uint8Array;
  revokedMs: number;
}

export function encodeRevocation(r: Revocation): Uint8Array {
  return new Writer(32).bytes(Uint8Array.from(MAGIC)).u8(1).u8(1).vbytes(r.id).u64(r.revokedMs).finish();
}

export function decodeRevocation(b: Uint8Array): Revocation {
  const r = new Reader(b, 'revocation');
  const m = r.bytes(4, 'magic');
  if (!MAGIC.every((x, i) => m[i] === x)) throw new BeepkitError('E_FORMAT', 'revocation: bad magic');
  const v = r.u8('version');
  if (v !== 1) throw new BeepkitError('E_VERSION', `revocation: version ${v}`);
  const kind = r.u8('kind');
  if (kind !== 1) throw new BeepkitError('E_TYPE', `revocation: kind ${kind}`);
  const out: Revocation = { kind: 'venue', id: r.vbytes('id'), revokedMs: r.u64('revokedMs') };
  r.end();
  return out;
}

/** Revocation entries for every revoked venue. */
export function venueRevocations(venues: Venue[]): Uint8Array[] {
  return venues.filter((v) => v.revoked).map((v) => encodeRevocation({ kind: 'venue', id: fromHex(v.id), revokedMs: v.revokedMs ?? 0 }));
}
