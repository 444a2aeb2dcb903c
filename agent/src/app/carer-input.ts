/**
 * Validation of the /carer/* request bodies (issue 20): a body is a JSON
 * object with only the fields its route knows, each checked before anything
 * starts (E_FORMAT, HTTP 400). A BLE address is six hex octets with colons; a
 * label (or a wearable named by its label) 1..64 characters without control
 * characters; a wearable id 32 hex digits; a comparison code 6 digits
 * (spaces ignored: "123 456").
 */
import { BeepkitError } from '@beepkit/protocol';

export const BLE_ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const WEARABLE_ID = /^[0-9a-f]{32}$/i;
const hasControl = (v: string): boolean =>
  [...v].some((ch) => {
    const c = ch.codePointAt(0)!;
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
  });

const bad = (field: string, msg: string): never => {
  throw new BeepkitError('E_FORMAT', `${field}: ${msg}`);
};

/** The body as an object holding only `fields`. */
export function fields(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('body', 'must be a JSON object');
  for (const k of Object.keys(body))
    if (!allowed.includes(k)) bad(k.slice(0, 32), `unknown field (this request takes ${allowed.length ? allowed.join(', ') : 'none'})`);
  return body as Record<string, unknown>;
}

export function label(v: unknown, field = 'label'): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v.trim() || v.length > 64 || hasControl(v)) return bad(field, 'must be a name of 1..64 characters without control characters');
  return v.trim();
}

export function address(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !BLE_ADDRESS.test(v)) return bad('address', 'must be a BLE address: six hex octets with colons (aa:bb:cc:dd:ee:ff)');
  return v.toLowerCase();
}

/** A wearable id (32 hex digits, lowercased) or a label. */
export function wearable(v: unknown): string | undefined {
  if (typeof v === 'string' && WEARABLE_ID.test(v)) return v.toLowerCase();
  return label(v, 'wearable');
}

export function code(v: unknown): string {
  const c = typeof v === 'string' ? v.replace(/ /g, '') : '';
  if (!/^\d{6}$/.test(c)) return bad('code', 'must be the 6 digits the wearable shows');
  return c;
}

export function flag(v: unknown, field: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') return bad(field, 'must be true or false');
  return v;
}
