/** File forms of the diagnosis messages for the CLI: JSON wrapping the binary encoding (hex) plus readable fields. */
import { BeepkitError } from '@beepkit/protocol';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { decodeChallenge, decodeConsent, encodeChallenge, encodeConsent, type Challenge, type Consent } from '@beepkit/protocol/endorse';

export function challengeToJson(c: Challenge): Record<string, unknown> {
  return { type: 'beepkit-challenge', hex: toHex(encodeChallenge(c)), diagnostician: toHex(c.diagnostician), issuedAt: c.issuedAt, expiresAt: c.expiresAt };
}

export function consentToJson(c: Consent): Record<string, unknown> {
  return { type: 'beepkit-consent', hex: toHex(encodeConsent(c)), days: c.days.map((d) => d.day), teks: c.teks.length, visits: c.visits.length };
}

function hexOf(doc: unknown, type: string): Uint8Array {
  const d = doc as { type?: unknown; hex?: unknown };
  if (!d || d.type !== type || typeof d.hex !== 'string') throw new BeepkitError('E_FORMAT', `expected a ${type} document`);
  return fromHex(d.hex, type);
}

export const challengeFromJson = (doc: unknown): Challenge => decodeChallenge(hexOf(doc, 'beepkit-challenge'));
export const consentFromJson = (doc: unknown): Consent => decodeConsent(hexOf(doc, 'beepkit-consent'));
