/**
 * Carer pairing wire format (pure codecs). Two layers:
 *
 * Outer messages (what crosses the GATT characteristic, reassembled):
 *   0x01 hello         u8 version | 16 sessionId | 32 X25519 pub (carer) | 32 commit = H(pub, nonce)
 *   0x02 hello-reply   32 X25519 pub (wearable) | 16 nonce (wearable)
 *   0x03 reveal        16 nonce (carer)
 *   0x04 resume        u8 version (2) | 32 ephemeral X25519 pub Ea | 16 nonce Na | 16 tag = MAC(pairing key, Ea, Na)
 *                      (any other version: `resume-old`, the rest unread; version 1 carried a static pairing id)
 *   0x05 resume-reply  u8 version (2) | 32 ephemeral X25519 pub Eb | 16 nonce Nb (wearable)
 *   0x10 sealed        u32 seq | ChaCha20-Poly1305(inner) (see handshake.ts for key, nonce and AAD)
 *   0x7f abort         str code (E_*)
 *
 * Inner messages (inside `sealed`):
 *   0x20 confirm  32 transcript hash       0x21 profile  16 wearableId | str label | u32 today
 *   0x22 sync     u32 newest day held      0x23 keys     u16 n × (u32 day | 32 seed | 16 TEK | 32 eph)
 *   0x24 record   32 id | u32 day | lbytes 0x25 ack      u16 n × 32 id
 *   0x26 done     u32 pending              0x27 unpair
 *   0x28 encounters  u16 n × encounter (encounter-wire.ts; the carer answers with an ack of their encounterIds)
 *
 * Fragments (one GATT value each): u8 header (bit 7: more follow) | chunk.
 */
import { BeepkitError } from '../errors.ts';
import { Reader, Writer } from '../bytes.ts';
import { readEncounter, writeEncounter, type WireEncounter } from './encounter-wire.ts';

export const PAIRING_VERSION = 1;
/** Version byte of the reconnect (`resume`): 2 = MAC-opened, ephemeral X25519 (handshake.ts). Older ones are refused: pair again. */
export const RESUME_VERSION = 2;
/** Bytes of the resume tag (truncated HMAC-SHA256). */
export const TAG_LEN = 16;
/** beepkit pairing GATT service and its one message characteristic (custom 128-bit UUIDs, open: no LL security). */
export const PAIRING_SERVICE_UUID = '6265657000014b69b33f000000000001';
export const PAIRING_MESSAGE_UUID = '6265657000014b69b33f000000000002';
export const NONCE_LEN = 16;
export const ID_LEN = 16;
export const KEY_LEN = 32;
export const RECORD_ID_LEN = 32;

export type Outer =
  | { t: 'hello'; version: number; sessionId: Uint8Array; pub: Uint8Array; commit: Uint8Array }
  | { t: 'hello-reply'; pub: Uint8Array; nonce: Uint8Array }
  | { t: 'reveal'; nonce: Uint8Array }
  | { t: 'resume'; version: number; pub: Uint8Array; nonce: Uint8Array; tag: Uint8Array }
  /** A reconnect of another version (its body is not read): refused with E_PAIR_AGAIN. */
  | { t: 'resume-old'; version: number; rest: Uint8Array }
  | { t: 'resume-reply'; version: number; pub: Uint8Array; nonce: Uint8Array }
  | { t: 'sealed'; seq: number; box: Uint8Array }
  | { t: 'abort'; code: string };

export interface DayKeyMaterial {
  day: number;
  signingSeed: Uint8Array;
  tek: Uint8Array;
  /** The pseudonym-day ephemeral X25519 public key (carried in upload batch headers). */
  ephemeralPub: Uint8Array;
}

export type Inner =
  | { t: 'confirm'; transcript: Uint8Array }
  | { t: 'profile'; wearableId: Uint8Array; label: string; today: number }
  | { t: 'sync'; haveDay: number }
  | { t: 'keys'; days: DayKeyMaterial[] }
  | { t: 'record'; id: Uint8Array; day: number; bytes: Uint8Array }
  | { t: 'ack'; ids: Uint8Array[] }
  | { t: 'done'; pending: number }
  | { t: 'unpair' }
  | { t: 'encounters'; encounters: WireEncounter[] };

const OUTER = { hello: 0x01, 'hello-reply': 0x02, reveal: 0x03, resume: 0x04, 'resume-old': 0x04, 'resume-reply': 0x05, sealed: 0x10, abort: 0x7f } as const;
const INNER = { confirm: 0x20, profile: 0x21, sync: 0x22, keys: 0x23, record: 0x24, ack: 0x25, done: 0x26, unpair: 0x27, encounters: 0x28 } as const;

export function encodeOuter(m: Outer): Uint8Array {
  const w = new Writer(96).u8(OUTER[m.t]);
  switch (m.t) {
    case 'hello':
      w.u8(m.version).bytes(m.sessionId, ID_LEN).bytes(m.pub, KEY_LEN).bytes(m.commit, KEY_LEN);
      break;
    case 'hello-reply':
      w.bytes(m.pub, KEY_LEN).bytes(m.nonce, NONCE_LEN);
      break;
    case 'reveal':
      w.bytes(m.nonce, NONCE_LEN);
      break;
    case 'resume':
      w.u8(m.version).bytes(m.pub, KEY_LEN).bytes(m.nonce, NONCE_LEN).bytes(m.tag, TAG_LEN);
      break;
    case 'resume-old':
      w.u8(m.version).bytes(m.rest);
      break;
    case 'resume-reply':
      w.u8(m.version).bytes(m.pub, KEY_LEN).bytes(m.nonce, NONCE_LEN);
      break;
    case 'sealed':
      w.u32(m.seq).bytes(m.box);
      break;
    case 'abort':
      w.str(m.code.slice(0, 64));
      break;
  }
  return w.finish();
}

/** Decodes an outer message; only BeepkitError escapes. */
export function decodeOuter(b: Uint8Array): Outer {
  const r = new Reader(b, 'pairing message');
  const type = r.u8('type');
  let m: Outer;
  switch (type) {
    case OUTER.hello:
      m = { t: 'hello', version: r.u8('version'), sessionId: r.bytes(ID_LEN, 'sessionId'), pub: r.bytes(KEY_LEN, 'pub'), commit: r.bytes(KEY_LEN, 'commit') };
      break;
    case OUTER['hello-reply']:
      m = { t: 'hello-reply', pub: r.bytes(KEY_LEN, 'pub'), nonce: r.bytes(NONCE_LEN, 'nonce') };
      break;
    case OUTER.reveal:
      m = { t: 'reveal', nonce: r.bytes(NONCE_LEN, 'nonce') };
      break;
    case OUTER.resume: {
      const version = r.u8('version');
      if (version !== RESUME_VERSION) return { t: 'resume-old', version, rest: r.bytes(r.remaining, 'rest') };
      m = { t: 'resume', version, pub: r.bytes(KEY_LEN, 'pub'), nonce: r.bytes(NONCE_LEN, 'nonce'), tag: r.bytes(TAG_LEN, 'tag') };
      break;
    }
    case OUTER['resume-reply']:
      m = { t: 'resume-reply', version: r.u8('version'), pub: r.bytes(KEY_LEN, 'pub'), nonce: r.bytes(NONCE_LEN, 'nonce') };
      break;
    case OUTER.sealed:
      return { t: 'sealed', seq: r.u32('seq'), box: r.bytes(r.remaining, 'box') };
    case OUTER.abort:
      m = { t: 'abort', code: r.str('code') };
      break;
    default:
      throw new BeepkitError('E_TYPE', `pairing message: unknown type ${type}`);
  }
  r.end();
  return m;
}

export function encodeInner(m: Inner): Uint8Array {
  const w = new Writer(128).u8(INNER[m.t]);
  switch (m.t) {
    case 'confirm':
      w.bytes(m.transcript, 32);
      break;
    case 'profile':
      w.bytes(m.wearableId, ID_LEN).str(m.label).u32(m.today);
      break;
    case 'sync':
      w.u32(m.haveDay);
      break;
    case 'keys':
      w.u16(m.days.length);
      for (const d of m.days) w.u32(d.day).bytes(d.signingSeed, 32).bytes(d.tek, 16).bytes(d.ephemeralPub, 32);
      break;
    case 'record':
      w.bytes(m.id, RECORD_ID_LEN).u32(m.day).lbytes(m.bytes);
      break;
    case 'ack':
      w.u16(m.ids.length);
      for (const id of m.ids) w.bytes(id, RECORD_ID_LEN);
      break;
    case 'done':
      w.u32(m.pending);
      break;
    case 'unpair':
      break;
    case 'encounters':
      w.u16(m.encounters.length);
      for (const e of m.encounters) writeEncounter(w, e);
      break;
  }
  return w.finish();
}

export function decodeInner(b: Uint8Array): Inner {
  const r = new Reader(b, 'carer channel message');
  const type = r.u8('type');
  let m: Inner;
  switch (type) {
    case INNER.confirm:
      m = { t: 'confirm', transcript: r.bytes(32, 'transcript') };
      break;
    case INNER.profile:
      m = { t: 'profile', wearableId: r.bytes(ID_LEN, 'wearableId'), label: r.str('label'), today: r.u32('today') };
      break;
    case INNER.sync:
      m = { t: 'sync', haveDay: r.u32('haveDay') };
      break;
    case INNER.keys: {
      const n = r.u16('days');
      const days: DayKeyMaterial[] = [];
      for (let i = 0; i < n; i++)
        days.push({ day: r.u32('day'), signingSeed: r.bytes(32, 'signingSeed'), tek: r.bytes(16, 'tek'), ephemeralPub: r.bytes(32, 'ephemeralPub') });
      m = { t: 'keys', days };
      break;
    }
    case INNER.record:
      m = { t: 'record', id: r.bytes(RECORD_ID_LEN, 'id'), day: r.u32('day'), bytes: r.lbytes('bytes') };
      break;
    case INNER.ack: {
      const n = r.u16('ids');
      const ids: Uint8Array[] = [];
      for (let i = 0; i < n; i++) ids.push(r.bytes(RECORD_ID_LEN, 'id'));
      m = { t: 'ack', ids };
      break;
    }
    case INNER.done:
      m = { t: 'done', pending: r.u32('pending') };
      break;
    case INNER.unpair:
      m = { t: 'unpair' };
      break;
    case INNER.encounters: {
      const n = r.u16('encounters');
      const encounters: WireEncounter[] = [];
      for (let i = 0; i < n; i++) encounters.push(readEncounter(r));
      m = { t: 'encounters', encounters };
      break;
    }
    default:
      throw new BeepkitError('E_TYPE', `carer channel: unknown message type ${type}`);
  }
  r.end();
  return m;
}

/** Splits a message into GATT values of at most `max` bytes (header included). */
export function fragment(msg: Uint8Array, max: number): Uint8Array[] {
  if (!Number.isInteger(max) || max < 2) throw new BeepkitError('E_RANGE', `fragment size ${max}`);
  const step = max - 1;
  const out: Uint8Array[] = [];
  for (let o = 0; o < msg.length || out.length === 0; o += step) {
    const chunk = msg.subarray(o, o + step);
    const f = new Uint8Array(chunk.length + 1);
    f[0] = o + step < msg.length ? 0x80 : 0x00;
    f.set(chunk, 1);
    out.push(f);
  }
  return out;
}

/** Reassembles fragments; returns the message when the last fragment arrives. Bounded. */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly maxBytes = 64 * 1024) {}
  push(frag: Uint8Array): Uint8Array | undefined {
    if (frag.length < 1) throw new BeepkitError('E_TRUNCATED', 'fragment: empty');
    if ((frag[0] & 0x7f) !== 0) throw new BeepkitError('E_FORMAT', 'fragment: reserved header bits set');
    this.size += frag.length - 1;
    if (this.size > this.maxBytes) {
      this.reset();
      throw new BeepkitError('E_RANGE', `fragment: message exceeds ${this.maxBytes} bytes`);
    }
    this.parts.push(frag.subarray(1));
    if (frag[0] & 0x80) return undefined;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.reset();
    return out;
  }
  reset(): void {
    this.parts = [];
    this.size = 0;
  }
}
