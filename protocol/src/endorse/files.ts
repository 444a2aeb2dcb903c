/**
 * The file form of every diagnosis artefact: one versioned JSON document per
 * artefact, `{ type, version: 1, … }`, the binary encoding as hex plus readable
 * fields. Every command that takes an artefact reads it through `readArtefact`,
 * so a file of the wrong kind gets one error (E_FILE_TYPE) naming the expected
 * type and the command that makes it. Pure: text in, values out (the CLIs read
 * and write the files).
 *
 *   beepkit-diagnostician-key  beepkit gateway diagnostician add --out   seed, certificate, caPublicKey
 *   beepkit-challenge          beepkit diagnose challenge                hex (58-byte challenge)
 *   beepkit-consent            beepkit agent consent                     hex (consent bundle)
 *   beepkit-endorsement        beepkit diagnose endorse                  endorsement, consent, tracing[], notification[]
 *   beepkit-venue-signoff      beepkit venue signoff                     hex (78-byte sign-off)
 */
import { BeepkitError } from '../errors.ts';
import { fromHex, toHex } from '../bytes.ts';
import { decodeChallenge, decodeConsent, encodeChallenge, encodeConsent, type Challenge, type Consent } from './consent.ts';

export const ARTEFACT_VERSION = 1;

/** Each artefact type and the command that makes it (named in every wrong-type error). */
export const ARTEFACTS = {
  'beepkit-diagnostician-key': 'beepkit gateway diagnostician add <name> --out <file>',
  'beepkit-challenge': 'beepkit diagnose challenge --out <file>',
  'beepkit-consent': 'beepkit agent consent --out <file>',
  'beepkit-endorsement': 'beepkit diagnose endorse --out <file>',
  'beepkit-venue-signoff': 'beepkit venue signoff --out <file>',
} as const;
export type ArtefactType = keyof typeof ARTEFACTS;

export type Artefact = { type: ArtefactType; version: number } & Record<string, unknown>;

/** `text` as the named artefact: E_FILE_TYPE (not JSON of that type; names the making command), E_VERSION. */
export function parseArtefact(text: string, type: ArtefactType, source = 'file'): Artefact {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  const d = doc as { type?: unknown; version?: unknown; format?: unknown; role?: unknown } | undefined;
  // the key files written before the type field: { format: 1, role: 'diagnostician', … }
  if (type === 'beepkit-diagnostician-key' && d && d.type === undefined && d.format === 1 && d.role === 'diagnostician')
    return { ...d, type, version: 1 } as Artefact;
  if (!d || typeof d !== 'object' || d.type !== type) {
    const got = d && typeof d === 'object' && typeof d.type === 'string' ? `a ${d.type.slice(0, 40)} document` : 'not a typed beepkit JSON document';
    throw new BeepkitError('E_FILE_TYPE', `${source}: expected a ${type} document (made by \`${ARTEFACTS[type]}\`), got ${got}`);
  }
  if (d.version !== ARTEFACT_VERSION)
    throw new BeepkitError('E_VERSION', `${source}: ${type} version ${String(d.version)}, this beepkit reads version ${ARTEFACT_VERSION}`);
  return d as Artefact;
}

/** A hex field of an artefact (E_FORMAT when absent or not hex). */
export function artefactHex(a: Artefact, field: string, len?: number): Uint8Array {
  const v = a[field];
  if (typeof v !== 'string') throw new BeepkitError('E_FORMAT', `${a.type}: field ${field} missing`);
  const b = fromHex(v.toLowerCase(), `${a.type} ${field}`);
  if (len !== undefined && b.length !== len) throw new BeepkitError('E_KEY', `${a.type} ${field}: expected ${len} bytes`);
  return b;
}

/** A list of hex strings of an artefact. */
export function artefactHexList(a: Artefact, field: string): Uint8Array[] {
  const v = a[field] ?? [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new BeepkitError('E_FORMAT', `${a.type}: field ${field} must be a list of hex strings`);
  return v.map((x: string) => fromHex(x.toLowerCase(), `${a.type} ${field}`));
}

const utf8Text = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: false }).decode(b);
const looksJson = (text: string): boolean => /^\s*\{/.test(text);

/**
 * A challenge file: the beepkit-challenge document, or (as documented) the raw
 * 58 bytes or their hex. A JSON document of another type is E_FILE_TYPE.
 */
export function challengeFromFile(bytes: Uint8Array, source = 'challenge'): Challenge {
  const text = utf8Text(bytes);
  if (looksJson(text)) return decodeChallenge(artefactHex(parseArtefact(text, 'beepkit-challenge', source), 'hex'));
  const t = text.trim();
  return decodeChallenge(/^[0-9a-fA-F]+$/.test(t) ? fromHex(t.toLowerCase(), source) : bytes);
}

/** A consent file: the beepkit-consent document, or the raw bundle or its hex. */
export function consentFromFile(bytes: Uint8Array, source = 'consent'): Consent {
  const text = utf8Text(bytes);
  if (looksJson(text)) return decodeConsent(artefactHex(parseArtefact(text, 'beepkit-consent', source), 'hex'));
  const t = text.trim();
  return decodeConsent(/^[0-9a-fA-F]+$/.test(t) ? fromHex(t.toLowerCase(), source) : bytes);
}

export function challengeDocument(c: Challenge): Artefact {
  return {
    type: 'beepkit-challenge',
    version: ARTEFACT_VERSION,
    hex: toHex(encodeChallenge(c)),
    diagnostician: toHex(c.diagnostician),
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
  };
}

export function consentDocument(c: Consent): Artefact {
  return {
    type: 'beepkit-consent',
    version: ARTEFACT_VERSION,
    hex: toHex(encodeConsent(c)),
    diagnostician: toHex(c.challenge.diagnostician),
    days: c.days.map((d) => d.day),
    teks: c.teks.length,
    visits: c.visits.length,
  };
}
