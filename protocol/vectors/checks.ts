/**
 * The decoders and verifiers the vectors name (`check`), shared by the
 * generator (it asserts every invalid example gets its code) and the test
 * (protocol/test/spec-vectors.test.ts). Each takes the example's bytes and
 * its file's `context` (hex strings and numbers) and throws a BeepkitError
 * when it refuses; a valid example returns normally.
 */
import { BeepkitError, equalBytes, fromHex, isBeepkitError } from '../src/index.ts';
import { createKeystore } from '../src/keys/index.ts';
import { decodeAdvert, decodeVenueFrame, verifyVenueFrame } from '../src/frames/index.ts';
import { decodeGeodata } from '../src/geodata/index.ts';
import { decodeBatch, decodeTraceCode, openTraceCode, verifyBatch } from '../src/tracecode/index.ts';
import { verifyCertificate } from '../src/cert/index.ts';
import { decodeMessage } from '../src/wire/index.ts';
import { decodeSth, keyIdOf, leafHash, signingBytes, verifyInclusion } from '../src/merkle/index.ts';
import { ed25519Verify } from '../src/crypto/index.ts';
import { decodeChallenge, decodeConsent, verifyConsent, verifyEndorsement, verifyVenueSignoff } from '../src/endorse/index.ts';

export type Context = Record<string, string | number>;
type Check = (b: Uint8Array, ctx: Context) => void;

const hex = (ctx: Context, k: string): Uint8Array => {
  const v = ctx[k];
  if (typeof v !== 'string') throw new Error(`vector context lacks ${k}`);
  return fromHex(v, k);
};
const num = (ctx: Context, k: string): number => {
  const v = ctx[k];
  if (typeof v !== 'number') throw new Error(`vector context lacks ${k}`);
  return v;
};

/** A Receipt (wire message) for the batch `ctx.batch`: STH signature, key id, inclusion proof (SPEC §8). */
function verifyReceipt(b: Uint8Array, ctx: Context): void {
  const m = decodeMessage(b);
  if (m.type !== 'receipt') throw new BeepkitError('E_TYPE', 'not a receipt');
  const gw = hex(ctx, 'gatewayPublicKey');
  const sth = decodeSth(m.signedTreeHead);
  if (!ed25519Verify(gw, signingBytes(sth), sth.signature)) throw new BeepkitError('E_SIGNATURE', 'STH signature');
  if (!equalBytes(sth.keyId, keyIdOf(gw))) throw new BeepkitError('E_KEY', 'STH key id');
  const entry = leafHash(hex(ctx, 'batch'));
  if (!equalBytes(entry, m.entryHash)) throw new BeepkitError('E_CHECKSUM', 'entry hash is not the batch');
  if (!verifyInclusion(entry, m.leafIndex, sth.treeSize, m.proof, sth.rootHash)) throw new BeepkitError('E_CHECKSUM', 'inclusion proof');
}

export const CHECKS: Record<string, Check> = {
  createKeystore: (b, ctx) => void createKeystore(b, num(ctx, 'fromDay')),
  decodeAdvert: (b) => {
    const a = decodeAdvert(b);
    if (a.kind !== 'exposure-notification') throw new BeepkitError('E_TYPE', `not an EN advert: ${a.kind}`);
  },
  verifyVenueFrame: (b, ctx) => verifyVenueFrame(decodeVenueFrame(b), hex(ctx, 'venueKey'), { nowSlot: num(ctx, 'nowSlot'), window: num(ctx, 'slotWindow') }),
  decodeGeodata: (b) => void decodeGeodata(b),
  decodeTraceCode: (b) => void decodeTraceCode(b),
  openTraceCode: (b, ctx) => void openTraceCode(hex(ctx, 'solverPrivateKey'), b, hex(ctx, 'ephemeralPublicKey')),
  decodeBatch: (b) => void decodeBatch(b),
  verifyBatch: (b, ctx) => void verifyBatch(b, { caPub: hex(ctx, 'caPublicKey'), now: num(ctx, 'now') }),
  verifyCertificate: (b, ctx) => void verifyCertificate(b, hex(ctx, 'caPublicKey'), { now: num(ctx, 'now') }),
  decodeMessage: (b) => void decodeMessage(b),
  decodeSth: (b) => void decodeSth(b),
  verifyReceipt,
  decodeChallenge: (b) => void decodeChallenge(b),
  verifyConsent: (b, ctx) => verifyConsent(decodeConsent(b), { now: num(ctx, 'now') }),
  verifyEndorsement: (b, ctx) => void verifyEndorsement(b, { caPub: hex(ctx, 'caPublicKey') }),
  verifyVenueSignoff: (b, ctx) => void verifyVenueSignoff(b, hex(ctx, 'venueSignoffPublicKey')),
};

/** The code `check` refuses `b` with, or 'OK'. */
export function outcome(check: string, b: Uint8Array, ctx: Context): string {
  const f = CHECKS[check];
  if (!f) throw new Error(`unknown vector check ${check}`);
  try {
    f(b, ctx);
    return 'OK';
  } catch (e) {
    if (isBeepkitError(e)) return e.code;
    throw e;
  }
}
